#!/usr/bin/env python3
"""Where the bundled judge's reasoning goes wrong, stage by stage (a diagnostic for issue #10's recipe).

`judge` output on curriculum requests (train curriculum ... test-requests.jsonl) holds each sample's raw reasoning. This
script re-derives, from the request alone, what every stage of the curriculum's reasoning should have written and
reports how often the model wrote it:

  copy      each candidate copied exactly ("Assistant 1 answered:\\n<candidate>")
  truth     the right answer ("The correct answer:\\n<truth>")
  cand char / truth char   the characters paired in each check ("check 6 5 no, ...") against the copy / the truth
  mark      "ok" exactly when the two paired characters are equal (mark|differ: "no" where they differ)
  verdict|marks  "correct"/"matches" exactly when every mark of the check is "ok"
  verdict   the candidate's verdict right (what `eval` accuracy rests on)

Usage: python3 tools/judge/reasoning-stages.py REQUESTS.jsonl RESULTS.jsonl
"""
import json
import re
import sys

UNITS = {("km", "m"): 3, ("m", "cm"): 2, ("kg", "g"): 3, ("cm", "mm"): 1, ("liters", "milliliters"): 3, ("tonnes", "kg"): 3}
NO_ANSWER = "I do not know."


def truth_of(instruction):
    if m := re.fullmatch(r"What is (\d+) \+ (\d+)\?", instruction):
        return str(int(m[1]) + int(m[2]))
    if m := re.fullmatch(r'Reverse the letters "(.*)"\.', instruction):
        return " ".join(reversed(m[1].split(" ")))
    if m := re.fullmatch(r'Write the letters "(.*)" in capitals\.', instruction):
        return m[1].upper()
    if m := re.fullmatch(r"Convert (\d+) (\S+) to (\S+)\.", instruction):
        return m[1] + "0" * UNITS[(m[2], m[3])] + " " + m[3]
    raise SystemExit(f"not a curriculum question: {instruction!r}")


def key(answer):
    parts = answer.split(" ")
    return parts[0] if len(parts) == 2 and parts[0].isdigit() else answer.replace(" ", "")


def main(requests_path, results_path):
    requests = {}
    with open(requests_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            requests[r["id"]] = r
    stats = {k: [0, 0] for k in ("copy", "truth", "cand char", "truth char", "mark", "mark|differ", "verdict|marks", "verdict")}

    def count(name, ok):
        stats[name][0] += int(ok)
        stats[name][1] += 1

    with open(results_path, encoding="utf-8") as f:
        for line in f:
            result = json.loads(line)
            request = requests[result["id"]]
            truth = truth_of(request["instruction"])
            for sample in result.get("samples", []):
                raw = sample["raw"]
                candidates = request["candidates"] if sample.get("order", "AB") == "AB" else list(reversed(request["candidates"]))
                written = re.search(r"The correct answer:\n(.*)\n", raw)
                count("truth", bool(written) and written[1] == truth)
                written_truth = written[1] if written else ""
                copies = re.findall(r"answered:\n(.*)\n", raw)
                checks = re.findall(r"(?:Assistant \d+|The assistant): (?:check (.*): (correct|wrong|matches|does not match)|no answer)", raw)
                for candidate, copy in zip(candidates, copies):
                    count("copy", candidate == copy)
                for candidate, copy, (check, verdict) in zip(candidates, copies, checks):
                    if candidate == NO_ANSWER or not check:
                        continue
                    said_right = verdict in ("correct", "matches")
                    all_ok = True
                    a_key, t_key = key(copy), key(written_truth)
                    for k, (a, t, mark) in enumerate(re.findall(r"(\S) (\S) (ok|no)", check)):
                        count("cand char", a == (a_key[k] if k < len(a_key) else "-"))
                        count("truth char", t == (t_key[k] if k < len(t_key) else "-"))
                        count("mark", (a == t) == (mark == "ok"))
                        if a != t:
                            count("mark|differ", mark == "no")
                        all_ok &= mark == "ok"
                    count("verdict|marks", all_ok == said_right)
                    count("verdict", (candidate == truth) == said_right)
    for name, (ok, total) in stats.items():
        print(f"{name:14s} {ok:5d} / {total:5d} = {ok / total if total else float('nan'):.2f}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
