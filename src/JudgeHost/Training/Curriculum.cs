using System.Globalization;
using System.Text;
using System.Text.Json;
using JudgeHost.Judging;
using JudgeHost.Store;

namespace JudgeHost.Training;

/// <summary>One generated judging item: the request the judge will see, the gold label, and the SFT target.</summary>
/// <param name="Request">A <c>judge</c> request (JSONL-serializable, with its label).</param>
/// <param name="Messages">The chat the judge is trained on: the system and user prompts exactly as <c>judge</c>
/// renders them for <paramref name="Request"/> (default templates), then the assistant's reasoning and answer.</param>
public sealed record CurriculumItem(JudgeRequest Request, IReadOnlyList<Backbone.ChatMessage> Messages);

/// <summary>
/// A seeded synthetic judging curriculum whose verdicts are checkable: arithmetic results, string transformations
/// (reversing and capitalising spaced letters) and unit conversions, each answered correctly or wrongly by made-up assistants.
/// Every item comes in one of the four judge formats — pointwise score (1–5), pairwise scores with ties (1–10),
/// ranking of three (distinct scores), yes/no correctness — with a short step-by-step reasoning that copies each
/// candidate on its own line exactly as the prompt shows it, computes the true answer, checks each candidate against it
/// one character at a time and leads to the verdict, in the <c>&lt;think&gt;…&lt;/think&gt;</c> then <c>&lt;answer&gt;</c>
/// protocol <see cref="VerdictParser"/> reads. Train and held-out splits are disjoint by question.
/// </summary>
public static class Curriculum
{
    private static readonly (string From, string To, int Zeros)[] Units =
    [
        ("km", "m", 3), ("m", "cm", 2), ("kg", "g", 3), ("cm", "mm", 1), ("liters", "milliliters", 3), ("tonnes", "kg", 3),
    ];

    /// <summary>Generates <paramref name="count"/> items; the same seed gives the same items.</summary>
    /// <param name="count">Items to generate (tasks rotate pointwise, pairwise, ranking, binary).</param>
    /// <param name="seed">Seed of the generator.</param>
    /// <param name="heldOut">True for the evaluation split: questions are drawn from a disjoint half of the space.</param>
    public static IReadOnlyList<CurriculumItem> Generate(int count, long seed, bool heldOut)
    {
        var random = new Random(Seeded($"{seed}:{(heldOut ? "test" : "train")}"));
        var items = new List<CurriculumItem>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int attempts = 0;
        while (items.Count < count)
        {
            if (++attempts > count * 50)
            {
                throw new InvalidOperationException($"Cannot draw {count} distinct questions for this split.");
            }

            var problem = Draw(random);
            var task = (items.Count % 4) switch
            {
                0 => JudgeTask.Pointwise,
                1 => JudgeTask.Pairwise,
                2 => JudgeTask.Ranking,
                _ => JudgeTask.Binary,
            };
            if (InHeldOutHalf(problem.Question) != heldOut || !seen.Add($"{task}|{problem.Question}"))
            {
                continue;
            }

            items.Add(Item($"{(heldOut ? "test" : "train")}-{items.Count:D5}", task, problem, random));
        }

        return items;
    }

    /// <summary>
    /// Best-of-N prompts on held-out questions: <paramref name="candidates"/> answers each, every one correct with
    /// probability <paramref name="correctShare"/> (a noisy pool), and the label listing the correct ones — the input of
    /// <c>best-of-n</c>, whose output <c>eval</c> scores against picking at random.
    /// </summary>
    public static IReadOnlyList<string> BestOfNPrompts(int count, long seed, int candidates = 4, double correctShare = 0.3)
    {
        var random = new Random(Seeded($"{seed}:best-of-n"));
        var lines = new List<string>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int attempts = 0; lines.Count < count; attempts++)
        {
            if (attempts > count * 50)
            {
                throw new InvalidOperationException($"Cannot draw {count} distinct held-out questions.");
            }

            var problem = Draw(random);
            if (!InHeldOutHalf(problem.Question) || !seen.Add(problem.Question))
            {
                continue;
            }

            var pool = Enumerable.Range(0, candidates).Select(_ => random.NextDouble() < correctShare ? problem.Truth : problem.Wrong(random)).ToList();
            var correct = pool.Select((c, i) => (c, i)).Where(x => x.c == problem.Truth).Select(x => x.i).ToList();
            lines.Add(JsonSerializer.Serialize(new { id = $"bon-{lines.Count:D5}", instruction = problem.Question, candidates = pool, label = correct }));
        }

        return lines;
    }

    /// <summary>The train split as SFT JSONL lines (<c>{"messages":[...]}</c>).</summary>
    public static string SftLine(CurriculumItem item) =>
        JsonSerializer.Serialize(new { messages = item.Messages.Select(m => new { role = m.Role, content = m.Content }) });

    /// <summary>The request as a <c>judge</c> JSONL line (with its label).</summary>
    public static string RequestLine(CurriculumItem item) => JsonSerializer.Serialize(item.Request, JudgeJson.Options);

    private sealed record Problem(string Question, string Truth, Func<Random, string> Wrong, string Working);

    // Problems a small model can learn to solve for unseen questions: column addition written out digit by digit,
    // reversing and capitalising strings of random letters written one letter per word, and unit conversions by powers
    // of ten. The held-out split draws questions the training split never saw.
    private static Problem Draw(Random r)
    {
        switch (r.Next(4))
        {
            case 0:
            {
                int a = r.Next(10, 100), b = r.Next(10, 100);
                int truth = a + b;
                int ones = (a % 10) + (b % 10), carry = ones / 10, tens = (a / 10) + (b / 10) + carry;
                string working = carry == 0
                    ? $"ones {a % 10} + {b % 10} = {ones}, tens {a / 10} + {b / 10} = {tens}, so {a} + {b} = {truth}"
                    : $"ones {a % 10} + {b % 10} = {ones}, carry 1, tens {a / 10} + {b / 10} + 1 = {tens}, so {a} + {b} = {truth}";
                return new Problem($"What is {a} + {b}?", Num(truth), rr => Num(WrongSum(truth, rr)), working);
            }

            case 1:
            {
                string w = Letters(r);
                string truth = Spaced(new string(w.Reverse().ToArray()));
                return new Problem($"Reverse the letters \"{Spaced(w)}\".", truth, rr => Spaced(Swap(new string(w.Reverse().ToArray()), rr)), $"\"{Spaced(w)}\" backwards is \"{truth}\"");
            }

            case 2:
            {
                string w = Letters(r);
                string truth = Spaced(w.ToUpperInvariant());
                return new Problem($"Write the letters \"{Spaced(w)}\" in capitals.", truth, rr => Spaced(MisCapitalise(w, rr)), $"\"{Spaced(w)}\" in capitals is \"{truth}\"");
            }

            default:
            {
                var (from, to, zeros) = Units[r.Next(Units.Length)];
                int value = r.Next(2, 100);
                string factor = "1" + new string('0', zeros);
                string truth = $"{value}{new string('0', zeros)} {to}";
                return new Problem($"Convert {value} {from} to {to}.", truth, rr => $"{value}{new string('0', Math.Max(0, zeros + (rr.Next(2) == 0 ? -1 : 1)))} {to}", $"1 {from} = {factor} {to}, so {value} {from} = {truth}");
            }
        }
    }

    private static int WrongSum(int truth, Random r) => r.Next(3) switch
    {
        0 => truth + ((r.Next(2) == 0 ? 1 : -1) * r.Next(1, 3)),   // an ones-digit slip
        1 => truth + (r.Next(2) == 0 ? 10 : -10),                  // a dropped or doubled carry
        _ => truth + ((r.Next(2) == 0 ? 1 : -1) * r.Next(3, 20)),
    };

    private static string Letters(Random r)
    {
        var chars = new char[r.Next(3, 6)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)('a' + r.Next(26));
        }

        return new string(chars);
    }

    private static string Spaced(string s) => string.Join(' ', s.ToCharArray());

    private static string MisCapitalise(string w, Random r)
    {
        var chars = w.ToUpperInvariant().ToCharArray();
        int i = r.Next(chars.Length);
        chars[i] = r.Next(2) == 0 ? char.ToLowerInvariant(chars[i]) : (char)('A' + ((chars[i] - 'A' + r.Next(1, 26)) % 26));
        return new string(chars);
    }

    // The comparison written out character by character (the number only, for unit answers): the candidate's character,
    // the correct one, and whether they agree, so the verdict follows from local marks instead of one whole-string
    // equality the model would have to see at once. A length difference shows as "-" against a character.
    internal static string Check(string candidate, string truth)
    {
        static string Key(string s) => s.Split(' ') is [var n, _] && n.All(char.IsDigit) ? n : s.Replace(" ", "", StringComparison.Ordinal);
        string a = Key(candidate), b = Key(truth);
        var pairs = Enumerable.Range(0, Math.Max(a.Length, b.Length)).Select(i =>
        {
            char x = i < a.Length ? a[i] : '-', y = i < b.Length ? b[i] : '-';
            return $"{x} {y} {(x == y ? "ok" : "no")}";
        });
        return "check " + string.Join(", ", pairs);
    }

    // The reasoning: every candidate's answer copied first, each on its own line exactly as the prompt shows it (so the
    // copy starts with the same token the prompt's does, and is made before the right answer is written, which the copy
    // would otherwise drift towards), then the working and the right answer, then one check line per candidate and the
    // word its verdict follows from.
    private static string Reasoning(Problem p, IReadOnlyList<(string Who, string Candidate)> blocks, string right, string wrong)
    {
        var think = new StringBuilder("<think>\n");
        foreach (var (who, candidate) in blocks)
        {
            think.Append(who).Append(" answered:\n").Append(candidate).Append('\n');
        }

        think.Append(p.Working).Append(".\nThe correct answer:\n").Append(p.Truth).Append('\n');
        foreach (var (who, candidate) in blocks)
        {
            think.Append(who).Append(": ");
            think.Append(candidate == NoAnswer ? "no answer" : $"{Check(candidate, p.Truth)}: {(candidate == p.Truth ? right : wrong)}").Append(".\n");
        }

        return think.Append("</think>\n").ToString();
    }

    private const string NoAnswer = "I do not know.";

    private static CurriculumItem Item(string id, JudgeTask task, Problem p, Random r)
    {
        string think;
        string answer;
        object label;
        List<string> candidates;
        ScoreScale? scale = null;
        string? aspect = null;
        switch (task)
        {
            case JudgeTask.Pointwise:
            {
                bool right = r.Next(2) == 0;
                string c = right ? p.Truth : p.Wrong(r);
                candidates = [c];
                int score = right ? 5 : 1;
                think = Reasoning(p, [("The assistant", c)], "correct", "wrong");
                answer = $"<answer>{score}</answer>";
                label = score;
                break;
            }

            case JudgeTask.Pairwise:
            {
                int kind = r.Next(3);   // 0: A right, 1: B right, 2: both right or both wrong (tie)
                bool tieRight = r.Next(2) == 0;
                string a = kind == 0 || (kind == 2 && tieRight) ? p.Truth : p.Wrong(r);
                string b = kind == 1 || (kind == 2 && tieRight) ? p.Truth : p.Wrong(r);
                candidates = [a, b];
                int sa = a == p.Truth ? 9 : 2, sb = b == p.Truth ? 9 : 2;
                think = Reasoning(p, [("Assistant 1", a), ("Assistant 2", b)], "correct", "wrong");
                answer = $"<answer>{sa}</answer><answer>{sb}</answer>";
                label = sa > sb ? "A" : sb > sa ? "B" : "tie";
                scale = new ScoreScale(1, 10);
                break;
            }

            case JudgeTask.Ranking:
            {
                string wrong1 = p.Wrong(r);

                // One correct, one wrong with the right kind of answer, one that does not answer at all.
                var pool = new List<(string Text, int Score)> { (p.Truth, 9), (wrong1, 5), (NoAnswer, 2) };
                var order = pool.OrderBy(_ => r.Next()).ToList();
                candidates = order.Select(o => o.Text).ToList();
                think = Reasoning(p, order.Select((o, i) => ($"Assistant {i + 1}", o.Text)).ToList(), "correct", "wrong");

                answer = string.Concat(order.Select(o => $"<answer>{o.Score}</answer>"));
                label = string.Concat(order.Select((o, i) => (o.Score, Letter: (char)('A' + i))).OrderByDescending(x => x.Score).Select(x => x.Letter));
                scale = new ScoreScale(1, 10);
                break;
            }

            default:
            {
                bool right = r.Next(2) == 0;
                string c = right ? p.Truth : p.Wrong(r);
                candidates = [c];
                aspect = "correctness";
                think = Reasoning(p, [("The assistant", c)], "matches", "does not match");
                answer = right ? "<answer>yes</answer>" : "<answer>no</answer>";
                label = right ? "yes" : "no";
                break;
            }
        }

        var request = new JudgeRequest
        {
            Id = id,
            Task = task,
            Instruction = p.Question,
            Candidates = candidates,
            Scale = scale,
            Aspect = aspect,
            Label = JsonSerializer.SerializeToElement(label),
        };
        var template = DefaultTemplates.For(task);
        var s = scale ?? new ScoreScale(1, task == JudgeTask.Pointwise ? 5 : 10);
        var rendered = template.Render(new PromptValues("", p.Question, null, s.Min.ToString(CultureInfo.InvariantCulture), s.Max.ToString(CultureInfo.InvariantCulture), aspect), candidates);
        var messages = new List<Backbone.ChatMessage> { new("system", rendered.System), new("user", rendered.User), new("assistant", think + answer) };
        return new CurriculumItem(request, messages);
    }

    // HashCode.Combine is randomised per process; the curriculum must be the same in every run.
    internal static int Seeded(string key) => (int)(Pipelines.StableHash.Of(key) & int.MaxValue);

    private static bool InHeldOutHalf(string question) => (StableHash(question) & 1) == 1;

    private static uint StableHash(string text)
    {
        uint h = 2166136261;
        foreach (char c in text)
        {
            h = (h ^ c) * 16777619;
        }

        return h;
    }

    private static string Swap(string s, Random r)
    {
        var chars = s.ToCharArray();
        for (int k = 0; k < 10; k++)
        {
            int i = r.Next(chars.Length - 1);
            if (chars[i] != chars[i + 1])
            {
                (chars[i], chars[i + 1]) = (chars[i + 1], chars[i]);
                return new string(chars);
            }
        }

        return s + s[^1];
    }

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);
}
