using System.Text;

namespace JudgeHost.Pipelines;

/// <summary>FNV-1a 64 over UTF-8: a hash that is the same on every machine and run (string.GetHashCode is not).</summary>
public static class StableHash
{
    public static ulong Of(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 1099511628211UL;
        }

        return hash;
    }
}

/// <summary>
/// The stated tie-break of every pipeline choice: among tied candidates, the one with the lowest
/// <see cref="StableHash"/> of <c>"{seed}:{item id}:{candidate index}"</c>. Deterministic for a seed, independent of
/// the order candidates are listed in, and a different seed gives an independent draw.
/// </summary>
public static class TieBreak
{
    public const string Rule = "lowest FNV-1a-64 hash of \"{seed}:{id}:{candidate index}\" among the tied candidates";

    public static int Pick(IReadOnlyCollection<int> tied, long seed, string itemId)
    {
        ArgumentOutOfRangeException.ThrowIfZero(tied.Count);
        return tied.MinBy(i => StableHash.Of($"{seed}:{itemId}:{i}"));
    }
}
