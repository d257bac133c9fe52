using System.Globalization;
using System.Text;

namespace JudgeHost.Backbone;

/// <summary>
/// Applies one pre-tokenizer split rule the way tokenizers does with Oniguruma, which matches code points.
/// .NET's Regex matches UTF-16 units, so a letter or digit outside the BMP (𝐇, 𠀋, 𝟙) would be two surrogates that
/// neither <c>\p{L}</c> nor <c>\p{N}</c> matches, and the pieces, hence the ids, would differ. The pattern therefore
/// runs over a copy where each such code point is one BMP stand-in of the same class, and the match positions are
/// mapped back to the original text.
/// </summary>
internal static class PreTokenizerSplit
{
    private const char LetterStandIn = '\u4E00';  // CJK ideograph: \p{L}, no case, not one of the contraction letters
    private const char NumberStandIn = '0';       // \p{N}
    private const char OtherStandIn = '\uE000';   // private use: not a letter, number or space

    public static IEnumerable<string> Split(string text, HfSplitRule rule)
    {
        if (rule.AddPrefixSpace && !text.StartsWith(' '))
        {
            text = " " + text;
        }

        var (shadow, map) = StandIns(text);
        int last = 0;
        var pieces = new List<string>();
        for (var match = rule.Pattern.Match(shadow); match.Success; match = match.NextMatch())
        {
            if (match.Length == 0)
            {
                continue;
            }

            int start = map?[match.Index] ?? match.Index;
            int end = map?[match.Index + match.Length] ?? match.Index + match.Length;
            if (start > last)
            {
                pieces.Add(text[last..start]);
            }

            if (!rule.RemoveMatches)
            {
                pieces.Add(text[start..end]);
            }

            last = end;
        }

        if (last < text.Length)
        {
            pieces.Add(text[last..]);
        }

        return pieces;
    }

    /// <summary>The text with each surrogate pair replaced by one stand-in, and shadow index → text index (null when unchanged).</summary>
    private static (string Shadow, int[]? Map) StandIns(string text)
    {
        int firstPair = -1;
        for (int i = 0; i + 1 < text.Length; i++)
        {
            if (char.IsSurrogatePair(text[i], text[i + 1]))
            {
                firstPair = i;
                break;
            }
        }

        if (firstPair < 0)
        {
            return (text, null);
        }

        var shadow = new StringBuilder(text.Length);
        var map = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            map.Add(i);
            if (i + 1 < text.Length && char.IsSurrogatePair(text[i], text[i + 1]))
            {
                shadow.Append(StandIn(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1]))));
                i++;
            }
            else
            {
                shadow.Append(text[i]);
            }
        }

        map.Add(text.Length);
        return (shadow.ToString(), map.ToArray());
    }

    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => LetterStandIn,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => NumberStandIn,
        _ => OtherStandIn,
    };
}
