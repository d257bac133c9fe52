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
/// (reverse, upper-case, letter count) and unit conversions, each answered correctly or wrongly by made-up assistants.
/// Every item comes in one of the four judge formats — pointwise score (1–5), pairwise scores with ties (1–10),
/// ranking of three (distinct scores), yes/no correctness — with a short step-by-step reasoning that computes the true
/// answer, compares each candidate with it and leads to the verdict, in the <c>&lt;think&gt;…&lt;/think&gt;</c> then
/// <c>&lt;answer&gt;</c> protocol <see cref="VerdictParser"/> reads. Train and held-out splits are disjoint by question.
/// </summary>
public static class Curriculum
{
    private static readonly string[] Words = ["judge", "model", "river", "planet", "garden", "silver", "window", "pencil", "orange", "signal", "rocket", "canvas", "forest", "button", "marble", "lantern"];

    private static readonly (string From, string To, double Factor)[] Units =
    [
        ("km", "m", 1000), ("m", "cm", 100), ("kg", "g", 1000), ("hours", "minutes", 60), ("minutes", "seconds", 60), ("liters", "milliliters", 1000),
    ];

    /// <summary>Generates <paramref name="count"/> items; the same seed gives the same items.</summary>
    /// <param name="count">Items to generate (tasks rotate pointwise, pairwise, ranking, binary).</param>
    /// <param name="seed">Seed of the generator.</param>
    /// <param name="heldOut">True for the evaluation split: questions are drawn from a disjoint half of the space.</param>
    public static IReadOnlyList<CurriculumItem> Generate(int count, long seed, bool heldOut)
    {
        var random = new Random(HashCode.Combine(seed, heldOut) & int.MaxValue);
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

    /// <summary>The train split as SFT JSONL lines (<c>{"messages":[...]}</c>).</summary>
    public static string SftLine(CurriculumItem item) =>
        JsonSerializer.Serialize(new { messages = item.Messages.Select(m => new { role = m.Role, content = m.Content }) });

    /// <summary>The request as a <c>judge</c> JSONL line (with its label).</summary>
    public static string RequestLine(CurriculumItem item) => JsonSerializer.Serialize(item.Request, JudgeJson.Options);

    private sealed record Problem(string Question, string Truth, Func<Random, string> Wrong, string Working);

    private static Problem Draw(Random r)
    {
        switch (r.Next(4))
        {
            case 0:
            {
                int a = r.Next(2, 60), b = r.Next(2, 60);
                bool plus = r.Next(2) == 0;
                int truth = plus ? a + b : a * Math.Min(b, 12);
                int bb = plus ? b : Math.Min(b, 12);
                string op = plus ? "+" : "*";
                return new Problem($"What is {a} {op} {bb}?", Num(truth), rr => Num(truth + Offset(rr)), $"{a} {op} {bb} = {Num(truth)}");
            }

            case 1:
            {
                string w = Words[r.Next(Words.Length)];
                string truth = new(w.Reverse().ToArray());
                return new Problem($"Reverse the word \"{w}\".", truth, rr => Swap(truth, rr), $"\"{w}\" backwards is \"{truth}\"");
            }

            case 2:
            {
                string w = Words[r.Next(Words.Length)];
                char c = w[r.Next(w.Length)];
                int truth = w.Count(x => x == c);
                return new Problem($"How many times does the letter '{c}' occur in \"{w}\"?", Num(truth), rr => Num(Math.Max(0, truth + (rr.Next(2) == 0 ? 1 : 2))), $"\"{w}\" has {Num(truth)} '{c}'");
            }

            default:
            {
                var (from, to, factor) = Units[r.Next(Units.Length)];
                int value = r.Next(2, 40);
                long truth = (long)(value * factor);
                return new Problem($"Convert {value} {from} to {to}.", $"{Num(truth)} {to}", rr => $"{Num(rr.Next(2) == 0 ? truth / 10 : truth * 10)} {to}", $"1 {from} = {Num((long)factor)} {to}, so {value} {from} = {Num(truth)} {to}");
            }
        }
    }

    private static CurriculumItem Item(string id, JudgeTask task, Problem p, Random r)
    {
        var think = new StringBuilder();
        think.Append("<think>\nThe correct answer: ").Append(p.Working).Append(".\n");
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
                think.Append("The assistant answered ").Append(c).Append(right ? ", which is correct.\n" : ", which is wrong.\n");
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
                think.Append("Assistant 1 answered ").Append(a).Append(a == p.Truth ? ", correct" : ", wrong")
                    .Append(". Assistant 2 answered ").Append(b).Append(b == p.Truth ? ", correct" : ", wrong").Append(".\n");
                answer = $"<answer>{sa}</answer><answer>{sb}</answer>";
                label = sa > sb ? "A" : sb > sa ? "B" : "tie";
                scale = new ScoreScale(1, 10);
                break;
            }

            case JudgeTask.Ranking:
            {
                string wrong1 = p.Wrong(r);
                string wrong2 = p.Wrong(r);
                for (int k = 0; wrong2 == wrong1 && k < 10; k++)
                {
                    wrong2 = p.Wrong(r);
                }

                // One correct, one wrong with the right kind of answer, one that does not answer at all.
                var pool = new List<(string Text, int Score)> { (p.Truth, 9), (wrong1, 5), ("I do not know.", 2) };
                var order = pool.OrderBy(_ => r.Next()).ToList();
                candidates = order.Select(o => o.Text).ToList();
                for (int i = 0; i < order.Count; i++)
                {
                    think.Append("Assistant ").Append(i + 1).Append(" answered ").Append(order[i].Text)
                        .Append(order[i].Score == 9 ? ", correct" : order[i].Score == 5 ? ", wrong" : ", no answer").Append(".\n");
                }

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
                think.Append("The assistant answered ").Append(c).Append(right ? ", which matches.\n" : ", which does not match.\n");
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
        think.Append("</think>\n");
        var messages = new List<Backbone.ChatMessage> { new("system", rendered.System), new("user", rendered.User), new("assistant", think + answer) };
        return new CurriculumItem(request, messages);
    }

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

    private static int Offset(Random r) => (r.Next(2) == 0 ? 1 : -1) * r.Next(1, 4);

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
