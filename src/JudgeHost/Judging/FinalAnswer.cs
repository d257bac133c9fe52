using System.Text.RegularExpressions;

namespace JudgeHost.Judging;

/// <summary>
/// Flex-Judge's <c>truncate_at_final_answer</c> (<c>example/pampa/dataset_judge.py</c>): the PAMPA judge sees a
/// candidate cut at the first <c>[Ff]inal [Aa]nswer:</c>, stripped of surrounding whitespace, so it scores the
/// reasoning rather than the label the candidate names. A text without the marker is returned unchanged.
/// </summary>
public static partial class FinalAnswer
{
    // Python's str.isspace() set (str.strip() with no argument strips exactly these).
    private const string PythonWhitespace =
        "\t\n\u000B\u000C\r\u001C\u001D\u001E\u001F \u0085\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u2028\u2029\u202F\u205F\u3000";

    /// <summary>The text before the first final-answer marker, stripped; the text itself when there is no marker.</summary>
    public static string Truncate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = Marker().Match(text);
        return match.Success ? text[..match.Index].Trim(PythonWhitespace.ToCharArray()) : text;
    }

    /// <summary>The text after the first marker, stripped (the answer the reference keeps aside); empty when there is none.</summary>
    public static string Answer(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = Marker().Match(text);
        return match.Success ? text[(match.Index + match.Length)..].Trim(PythonWhitespace.ToCharArray()) : "";
    }

    [GeneratedRegex("[Ff]inal [Aa]nswer:")]
    private static partial Regex Marker();
}
