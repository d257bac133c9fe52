using JudgeHost.Abstractions;

namespace Modalities.Molecule;

/// <summary>A SMILES string RDKit rejects. <see cref="Position"/> is the 1-based character where it goes wrong (when it
/// can be located), <see cref="Reason"/> what is wrong there; the message repeats both with RDKit's own words.</summary>
public sealed class InvalidSmilesException : InvalidMediaException
{
    public InvalidSmilesException()
    {
    }

    public InvalidSmilesException(string message)
        : base(message)
    {
    }

    public InvalidSmilesException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    public InvalidSmilesException(string message, string smiles, int? position, string reason)
        : base(message)
    {
        Smiles = smiles;
        Position = position;
        Reason = reason;
    }

    public string Smiles { get; } = "";

    /// <summary>1-based character offset into <see cref="Smiles"/>, or null where it cannot be located.</summary>
    public int? Position { get; }

    public string Reason { get; } = "";
}
