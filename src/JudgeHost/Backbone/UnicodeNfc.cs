using System.Globalization;
using System.Text;

namespace JudgeHost.Backbone;

/// <summary>
/// Unicode NFC (canonical decomposition, canonical ordering, canonical composition; UAX #15) on managed data.
/// The host runs with InvariantGlobalization, where <see cref="string.Normalize()"/> returns its input unchanged,
/// yet Qwen's tokenizer.json declares an NFC normalizer: without this, "cafe\u0301" and "café" would get different ids
/// where Hugging Face gives the same.
/// </summary>
internal static class UnicodeNfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> Data = new(Tables.Parse);

    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return IsQuickNfc(text) ? text : Compose(Decompose(text));
    }

    /// <summary>
    /// True when no code point can change under NFC: each is a starter that is neither excluded from composition nor
    /// able to combine with the code point before it. Almost all text (ASCII, CJK, Hangul syllables) passes.
    /// </summary>
    private static bool IsQuickNfc(string text)
    {
        var unstable = Data.Value.Unstable;
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (cp < 0x300)
            {
                continue;
            }

            if (char.IsHighSurrogate(text, i) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            if (unstable.Contains(cp) || (cp >= VBase && cp < VBase + VCount) || (cp > TBase && cp < TBase + TCount))
            {
                return false;
            }
        }

        return true;
    }

    private static List<int> Decompose(string text)
    {
        var output = new List<int>(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }

            AppendDecomposed(cp, output);
        }

        // Canonical ordering: a stable sort of each run of non-starters by combining class.
        var ccc = Data.Value.CombiningClass;
        for (int i = 1; i < output.Count; i++)
        {
            int c = ccc.GetValueOrDefault(output[i]);
            if (c == 0)
            {
                continue;
            }

            for (int j = i; j > 0; j--)
            {
                int before = ccc.GetValueOrDefault(output[j - 1]);
                if (before <= c)
                {
                    break;
                }

                (output[j - 1], output[j]) = (output[j], output[j - 1]);
            }
        }

        return output;
    }

    private static void AppendDecomposed(int cp, List<int> output)
    {
        if (cp >= SBase && cp < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + (s / NCount));
            output.Add(VBase + (s % NCount / TCount));
            if (s % TCount != 0)
            {
                output.Add(TBase + (s % TCount));
            }

            return;
        }

        if (Data.Value.Decomposition.TryGetValue(cp, out var parts))
        {
            foreach (int part in parts)
            {
                AppendDecomposed(part, output);
            }

            return;
        }

        output.Add(cp);
    }

    private static string Compose(List<int> cps)
    {
        var ccc = Data.Value.CombiningClass;
        var pairs = Data.Value.Composition;
        var result = new List<int>(cps.Count);
        int starter = -1;   // index in result of the last starter, -1 before the first one
        int lastClass = -1; // combining class of the last code point appended after that starter
        foreach (int cp in cps)
        {
            int c = ccc.GetValueOrDefault(cp);
            if (starter >= 0 && (lastClass < c || lastClass == 0 && result.Count - 1 == starter))
            {
                int first = result[starter];
                int composite = ComposeHangul(first, cp);
                if (composite < 0 && pairs.TryGetValue(((long)first << 21) | (uint)cp, out int found))
                {
                    composite = found;
                }

                if (composite >= 0)
                {
                    result[starter] = composite;
                    continue;
                }
            }

            if (c == 0)
            {
                starter = result.Count;
                lastClass = 0;
            }
            else
            {
                lastClass = c;
            }

            result.Add(cp);
        }

        var builder = new StringBuilder(result.Count);
        foreach (int cp in result)
        {
            // A lone surrogate passed through as its own code unit; ConvertFromUtf32 would reject it.
            if (cp < 0x10000)
            {
                builder.Append((char)cp);
            }
            else
            {
                builder.Append(char.ConvertFromUtf32(cp));
            }
        }

        return builder.ToString();
    }

    private static int ComposeHangul(int first, int second)
    {
        if (first >= LBase && first < LBase + LCount && second >= VBase && second < VBase + VCount)
        {
            return SBase + ((((first - LBase) * VCount) + (second - VBase)) * TCount);
        }

        if (first >= SBase && first < SBase + SCount && (first - SBase) % TCount == 0 && second > TBase && second < TBase + TCount)
        {
            return first + (second - TBase);
        }

        return -1;
    }

    private sealed class Tables
    {
        public Dictionary<int, int> CombiningClass { get; } = [];

        public Dictionary<int, int[]> Decomposition { get; } = [];

        /// <summary>(first &lt;&lt; 21 | second) → primary composite.</summary>
        public Dictionary<long, int> Composition { get; } = [];

        /// <summary>Code points that NFC may change or that may combine with what precedes them (Hangul jamo aside).</summary>
        public HashSet<int> Unstable { get; } = [];

        public static Tables Parse()
        {
            var tables = new Tables();
            foreach (string entry in UnicodeNfcData.CombiningClasses.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int colon = entry.IndexOf(':', StringComparison.Ordinal);
                string range = entry[..colon];
                int dash = range.IndexOf('-', StringComparison.Ordinal);
                int first = Hex(dash < 0 ? range : range[..dash]);
                int last = dash < 0 ? first : Hex(range[(dash + 1)..]);
                int ccc = int.Parse(entry.AsSpan(colon + 1), CultureInfo.InvariantCulture);
                for (int cp = first; cp <= last; cp++)
                {
                    tables.CombiningClass[cp] = ccc;
                    tables.Unstable.Add(cp);
                }
            }

            foreach (string entry in UnicodeNfcData.Decompositions.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                bool excluded = entry[0] == '!';
                string body = excluded ? entry[1..] : entry;
                int colon = body.IndexOf(':', StringComparison.Ordinal);
                int cp = Hex(body[..colon]);
                int[] parts = body[(colon + 1)..].Split(',').Select(Hex).ToArray();
                tables.Decomposition[cp] = parts;
                if (excluded)
                {
                    tables.Unstable.Add(cp);
                }
                else if (parts.Length == 2)
                {
                    tables.Composition[((long)parts[0] << 21) | (uint)parts[1]] = cp;
                    tables.Unstable.Add(parts[1]);
                }
            }

            return tables;
        }

        private static int Hex(string s) => int.Parse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}
