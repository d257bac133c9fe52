using System.Text.RegularExpressions;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;

namespace JudgeHost.Judging;

/// <summary>
/// Where media items go in a prompt. Mol-LLaMA data (and its judge prompts) write the molecule inside the question —
/// "Molecule &lt;mol&gt;." — either as one <c>&lt;mol&gt;</c> or already expanded to the 8 query placeholders. Each
/// such run takes the next <c>molecule</c> item of the request, in order, so several molecules can sit in one question;
/// every other item goes to the template's <c>{media}</c> slot in item order.
/// </summary>
public static partial class MediaPlacement
{
    public const string MoleculeModality = "molecule";

    /// <summary>Accepted run lengths: one <c>&lt;mol&gt;</c>, or the reference's expanded form (8 query tokens).</summary>
    public static IReadOnlyList<int> MolRunLengths { get; } = [1, 8];

    /// <summary>
    /// The text with each <c>&lt;mol&gt;</c> run replaced by the marker of the next molecule item, and the markers of
    /// the items not placed inline (for <c>{media}</c>), each followed by <paramref name="separator"/>. Text without
    /// molecule items is returned unchanged. Throws a typed error naming <paramref name="owner"/> when a run has an
    /// odd length or there are more runs than molecules.
    /// </summary>
    public static (string Text, string Others) Place(string text, IReadOnlyList<string> modalities, string owner, string separator)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(modalities);
        var molecules = new Queue<int>(Enumerable.Range(0, modalities.Count).Where(i => modalities[i] == MoleculeModality));
        var inline = new HashSet<int>();
        string placed = text;
        if (molecules.Count > 0)
        {
            int runs = MolRun().Count(text);
            if (runs > molecules.Count)
            {
                throw new JudgeHostException($"{owner} has {runs} <mol> placeholder(s) but {molecules.Count} molecule item(s). Give one molecule media item per <mol>, in order.");
            }

            placed = MolRun().Replace(text, m =>
            {
                int count = m.Length / MolLlamaConfig.MolToken.Length;
                if (!MolRunLengths.Contains(count))
                {
                    throw new JudgeHostException($"{owner} has a run of {count} <mol> tokens; write one <mol> per molecule (or exactly {MolRunLengths[^1]}, Mol-LLaMA's expanded form).");
                }

                int item = molecules.Dequeue();
                inline.Add(item);
                return MediaSplicer.MarkerFor(item);
            });
        }

        string rest = string.Concat(Enumerable.Range(0, modalities.Count).Where(i => !inline.Contains(i)).Select(i => MediaSplicer.MarkerFor(i) + separator));
        return (placed, rest);
    }

    [GeneratedRegex("(?:<mol>)+")]
    private static partial Regex MolRun();
}
