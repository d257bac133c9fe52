#!/usr/bin/python3
"""Reference values for src/JudgeHost/Pipelines/Metrics.cs (JUDGE_PROTOCOL §4).

Writes tests/JudgeHost.Tests/Fixtures/metrics/metrics_reference.json: seeded inputs and what the
libraries the reference evaluator (test/evaluate.py) relies on return for them:

  correlation cases   scipy.stats.pearsonr, scipy.stats.spearmanr, scipy.stats.rankdata('average'),
                      sklearn.metrics.mean_squared_error
  label cases         sklearn.metrics.accuracy_score, f1_score(average='macro', zero_division=0),
                      confusion_matrix; "w.o Tie" accuracy = accuracy_score over items whose gold != tie label
  edit cases          Levenshtein distance (plain DP here, cross-checked against known values and, when
                      Debian's python3-levenshtein is installed, against Levenshtein.distance) and
                      distance / max(len a, len b)

Undefined values are JSON null, read as NaN by the tests. Where the libraries raise instead of returning
NaN (pearsonr with n < 2, metrics over zero items), null records JudgeHost's documented choice (NaN),
marked with "nan_by_convention" in the case. Floats are written with repr (shortest round-trip form).

Run with Debian's Python, not the pyenv python3 on PATH:
    apt-get update && apt-get install -y python3-scipy python3-sklearn python3-numpy [python3-levenshtein]
    /usr/bin/python3 tools/metrics/make_metric_fixtures.py
Deterministic: one numpy Generator per case, seeded from the case's number.
"""
import argparse
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import scipy.stats
import sklearn
import sklearn.metrics

try:
    import Levenshtein  # Debian python3-levenshtein; optional cross-check only
except ImportError:
    Levenshtein = None

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "JudgeHost.Tests", "Fixtures", "metrics", "metrics_reference.json")


def num(value):
    """A float for JSON: NaN -> None (JSON has no NaN), everything else as a Python float (repr on dump)."""
    value = float(value)
    return None if math.isnan(value) else value


def floats(values):
    return [num(v) for v in values]


# ----------------------------------------------------------------------------------------------------------
# Correlation cases
# ----------------------------------------------------------------------------------------------------------

def correlation_case(name, x, y, note):
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    assert len(x) == len(y)
    conventions = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConstantInputWarning: scipy returns NaN, which is what we record
        if len(x) >= 2:
            pearson = scipy.stats.pearsonr(x, y)[0]
        else:
            pearson = float("nan")  # scipy raises ValueError for n < 2
            conventions.append("pearson")
        spearman = scipy.stats.spearmanr(x, y)[0]  # NaN for n <= 1 and constant input in scipy itself
    if x:
        mse = sklearn.metrics.mean_squared_error(x, y)
    else:
        mse = float("nan")  # sklearn raises for zero samples
        conventions.append("mse")
    case = {
        "name": name,
        "kind": "correlation",
        "note": note,
        "x": floats(x),
        "y": floats(y),
        "pearson": num(pearson),
        "spearman": num(spearman),
        "mse": num(mse),
        "ranks_x": floats(scipy.stats.rankdata(x, method="average")) if x else [],
        "ranks_y": floats(scipy.stats.rankdata(y, method="average")) if y else [],
    }
    if conventions:
        case["nan_by_convention"] = conventions
    return case


def correlation_cases():
    cases = []

    def rng(k):
        return np.random.default_rng(1000 + k)

    g = rng(1)
    cases.append(correlation_case("random_normal_n5", g.normal(size=5), g.normal(size=5), "independent N(0,1), tiny n"))
    g = rng(2)
    x = g.normal(size=10)
    cases.append(correlation_case("random_correlated_n10", x, 0.7 * x + 0.3 * g.normal(size=10), "positively correlated"))
    g = rng(3)
    x = g.normal(3.0, 2.0, size=50)
    cases.append(correlation_case("random_anticorrelated_n50", x, -0.4 * x + g.normal(size=50), "negatively correlated"))
    g = rng(4)
    cases.append(correlation_case("random_uniform_n200", g.uniform(-5, 5, size=200), g.uniform(0, 1, size=200), "near zero r"))
    g = rng(5)
    x = g.normal(size=1000)
    cases.append(correlation_case("random_correlated_n1000", x, np.tanh(x) + 0.5 * g.normal(size=1000), "long vector"))
    g = rng(6)
    x = 1000.0 + g.normal(size=64)
    cases.append(correlation_case("offset_1e3_n64", x, x * 0.01 + g.normal(size=64) * 0.02 + 50.0, "large mean, small spread"))
    g = rng(7)
    cases.append(correlation_case("many_ties_int0to4_n30", g.integers(0, 5, size=30), g.integers(0, 5, size=30), "integer values, heavy ties in both"))
    g = rng(8)
    x = np.round(g.normal(size=20), 1)
    cases.append(correlation_case("ties_rounded_n20", x, np.round(x + g.normal(size=20) * 0.3, 1), "rounded to 1 decimal, some ties"))
    g = rng(9)
    gold = np.round(g.uniform(1.0, 5.0, size=40), 1)
    pred = np.clip(np.round(gold + g.normal(size=40) * 0.8), 1, 5)
    cases.append(correlation_case("mos_int_pred_vs_decimal_gold_n40", pred, gold, "judge's integer 1-5 score vs MOS rounded to 0.1"))
    g = rng(10)
    cases.append(correlation_case("mos_both_int_n25", g.integers(1, 6, size=25), g.integers(1, 6, size=25), "integer 1-5 on both sides"))
    x = np.arange(1, 13, dtype=float)
    cases.append(correlation_case("perfect_linear_positive", x, 2.0 * x + 3.0, "r = rho = 1"))
    cases.append(correlation_case("perfect_linear_negative", x, -0.5 * x + 1.0, "r = rho = -1"))
    cases.append(correlation_case("monotone_nonlinear", x, np.exp(x / 3.0), "rho = 1, r < 1"))
    cases.append(correlation_case("constant_x", [3.0] * 6, [1.0, 2.0, 3.0, 4.0, 5.0, 7.0], "constant input: NaN"))
    cases.append(correlation_case("constant_y", [1.0, 2.0, 2.0, 4.0, 5.0], [2.5] * 5, "constant input: NaN"))
    cases.append(correlation_case("two_points", [1.0, 3.0], [5.0, 2.0], "n = 2: r = -1"))
    cases.append(correlation_case("one_point", [1.0], [2.0], "n = 1: NaN (scipy raises for pearsonr)"))
    cases.append(correlation_case("empty", [], [], "n = 0: NaN everywhere"))
    return cases


# ----------------------------------------------------------------------------------------------------------
# Label cases
# ----------------------------------------------------------------------------------------------------------

def label_case(name, predicted, gold, note, tie_label=None, labels=None):
    predicted = [str(v) for v in predicted]
    gold = [str(v) for v in gold]
    assert len(predicted) == len(gold) and gold
    conventions = []
    union = sorted(set(gold) | set(predicted))
    matrix_labels = labels if labels is not None else union
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        macro_f1 = sklearn.metrics.f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)
    case = {
        "name": name,
        "kind": "labels",
        "note": note,
        "predicted": predicted,
        "gold": gold,
        "labels": labels,
        "tie_label": tie_label,
        "accuracy": num(sklearn.metrics.accuracy_score(gold, predicted)),
        "macro_f1": num(macro_f1),
        "confusion_labels": matrix_labels,
        "confusion_matrix": sklearn.metrics.confusion_matrix(gold, predicted, labels=matrix_labels).tolist(),
    }
    if tie_label is not None:
        kept = [i for i, g in enumerate(gold) if g != tie_label]
        if kept:
            wo = sklearn.metrics.accuracy_score([gold[i] for i in kept], [predicted[i] for i in kept])
        else:
            wo = float("nan")
            conventions.append("accuracy_without_ties")
        case["accuracy_without_ties"] = num(wo)
    if conventions:
        case["nan_by_convention"] = conventions
    return case


def noisy_labels(g, gold, classes, keep):
    """Predictions that copy gold with probability `keep`, else a uniformly drawn class from `classes`."""
    return [gl if g.uniform() < keep else classes[g.integers(0, len(classes))] for gl in gold]


def label_cases():
    cases = []

    def rng(k):
        return np.random.default_rng(2000 + k)

    g = rng(1)
    gold = [["A", "B"][i] for i in g.integers(0, 2, size=50)]
    cases.append(label_case("binary_ab_n50", noisy_labels(g, gold, ["A", "B"], 0.8), gold, "two classes, ~90% agreement"))

    g = rng(2)
    gold = [["A", "B", "C"][i] for i in g.choice(3, size=60, p=[0.4, 0.4, 0.2])]
    cases.append(label_case("pairwise_abc_ties_n60", noisy_labels(g, gold, ["A", "B", "C"], 0.6), gold,
                            "MLLM pair: A/B/C with C = tie on both sides", tie_label="C"))

    g = rng(3)
    gold = [["A", "B", "C"][i] for i in g.integers(0, 3, size=30)]
    predicted = [p if p != "C" else "A" for p in noisy_labels(g, gold, ["A", "B"], 0.5)]
    cases.append(label_case("gold_class_never_predicted_n30", predicted, gold,
                            "gold C is never predicted: its F1 is 0", tie_label="C"))

    g = rng(4)
    gold = [["A", "B"][i] for i in g.integers(0, 2, size=24)]
    cases.append(label_case("predicted_class_absent_from_gold_n24", noisy_labels(g, gold, ["A", "B", "C"], 0.5), gold,
                            "judge predicts tie C, gold has no ties: C enters the label union with F1 0", tie_label="C"))

    g = rng(5)
    votes = ["leftvote", "rightvote", "tievote", "bothbad_vote"]
    gold = [votes[i] for i in g.choice(3, size=40, p=[0.45, 0.45, 0.10])]
    cases.append(label_case("genai_four_votes_explicit_labels_n40", noisy_labels(g, gold, votes[:3], 0.7), gold,
                            "explicit labels include bothbad_vote, absent from gold and predicted",
                            tie_label="tievote", labels=votes))

    g = rng(6)
    gold = [["A", "B", "C", "D"][i] for i in g.integers(0, 4, size=80)]
    cases.append(label_case("four_classes_n80", noisy_labels(g, gold, ["A", "B", "C", "D"], 0.4), gold, "four classes, weak judge"))

    cases.append(label_case("all_gold_ties", ["A", "C", "B", "C"], ["C", "C", "C", "C"],
                            "no non-tie gold item: w.o Tie accuracy is NaN", tie_label="C"))
    cases.append(label_case("perfect_two_classes", ["A", "B", "B", "A", "A"], ["A", "B", "B", "A", "A"], "all correct",
                            tie_label="C"))
    cases.append(label_case("explicit_label_subset", ["A", "B", "C", "A", "C"], ["A", "C", "C", "B", "A"],
                            "labels = [A, B]: items outside them add no counts", labels=["A", "B"]))
    return cases


# ----------------------------------------------------------------------------------------------------------
# Edit-distance cases
# ----------------------------------------------------------------------------------------------------------

def levenshtein(a, b):
    """Plain two-row DP over Python characters (code points); insert = delete = substitute = 1."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j - 1] + (ca != cb), previous[j] + 1, current[j - 1] + 1))
        previous = current
    return previous[-1]


KNOWN_DISTANCES = [  # textbook values, independent of any library
    ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("saturday", "sunday", 3), ("intention", "execution", 5),
    ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("ABC", "CBA", 2), ("ABC", "BAC", 2), ("ABCD", "DCBA", 4),
    ("a\U0001F600b", "ab", 1),
]


def check_levenshtein():
    for a, b, expected in KNOWN_DISTANCES:
        got = levenshtein(a, b)
        if got != expected:
            sys.exit(f"levenshtein({a!r}, {b!r}) = {got}, expected {expected}")


def edit_case(name, pairs, note):
    rows = []
    for a, b in pairs:
        d = levenshtein(a, b)
        if Levenshtein is not None and Levenshtein.distance(a, b) != d:
            sys.exit(f"DP and Levenshtein.distance disagree on {a!r}, {b!r}")
        longest = max(len(a), len(b))
        rows.append({"a": a, "b": b, "distance": d, "normalized": num(d / longest if longest else 0.0)})
    return {"name": name, "kind": "edit", "note": note, "pairs": rows}


def edit_cases():
    g = np.random.default_rng(3001)
    letters = "ABCDE"
    ranking_pairs = [("ABC", "BAC"), ("ABC", "CBA"), ("ABC", "ACB"), ("ABCD", "DCBA"), ("ABCD", "ABCD"),
                     ("ABC", "ABCD"), ("BA", "AB")]
    for _ in range(8):
        n = int(g.integers(2, 6))
        ranking_pairs.append(("".join(g.permutation(list(letters[:n]))), "".join(g.permutation(list(letters[:n])))))
    edge_pairs = [("", ""), ("", "AB"), ("AB", ""), ("A", "A"), ("A", "B"), ("kitten", "sitting"),
                  ("h\u00e9llo", "hello"), ("a\U0001F600b", "ab"), ("a\U0001F600b", "a\U0001F601b")]
    g = np.random.default_rng(3002)
    random_pairs = []
    for _ in range(10):
        la, lb = int(g.integers(0, 25)), int(g.integers(0, 25))
        random_pairs.append(("".join(g.choice(list("abcd"), size=la)), "".join(g.choice(list("abcd"), size=lb))))
    return [
        edit_case("batch_rankings", ranking_pairs, "MLLM batch: predicted vs human ranking strings"),
        edit_case("edge_strings", edge_pairs, "empty strings, non-ASCII, a surrogate pair (one code point)"),
        edit_case("random_strings", random_pairs, "random strings over a 4-letter alphabet, lengths 0-24"),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args()

    check_levenshtein()
    cases = correlation_cases() + label_cases() + edit_cases()
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    document = {
        "generator": "tools/metrics/make_metric_fixtures.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "sklearn": sklearn.__version__,
            "levenshtein_cross_check": getattr(Levenshtein, "__version__", "installed") if Levenshtein else None,
        },
        "null_means": "NaN",
        "cases": cases,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(document, f, indent=1, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {os.path.relpath(args.out, REPO_ROOT)}")


if __name__ == "__main__":
    main()
