using System.Globalization;
using JudgeHost.Abstractions;

namespace Modalities.Molecule;

/// <summary>Plugin settings (configuration section <c>Modalities:Molecule</c>).</summary>
public sealed record MoleculeOptions
{
    /// <summary>
    /// ETKDG seed for generated conformers. The reference passes none (RDKit's -1), which in RDKit 2022.09 draws from a
    /// process-wide generator that starts at 42: the first molecule of a process gets exactly the seed-42 conformer,
    /// later ones depend on what ran before. A fixed per-molecule seed keeps the first-molecule result and makes every
    /// molecule reproducible. Per item: <c>attributes: {"seed": "7"}</c>.
    /// </summary>
    public int Seed { get; init; } = 42;

    /// <summary>ETKDG <c>maxAttempts</c> (the reference's 10000).</summary>
    public int MaxAttempts { get; init; } = 10000;

    /// <summary>UniMol atom limit (the reference's 512).</summary>
    public int MaxAtoms { get; init; } = UniMolInput.DefaultMaxAtoms;

    /// <summary>The UniMol dictionary; Mol-LLaMA's <c>mol.dict.txt</c> + <c>[MASK]</c> unless a file is configured.</summary>
    public UniMolDictionary Dictionary { get; init; } = UniMolDictionary.MolLlama;
}

/// <summary>Both views of one molecule: the 2-D graph for the GIN and the 3-D input for UniMol.</summary>
/// <param name="Smiles">The SMILES the graph was built from (the request's, or RDKit's for a file).</param>
/// <param name="Graph">OGB graph features.</param>
/// <param name="Conformer">The conformer's atoms and coordinates before UniMol's filtering.</param>
/// <param name="UniMol">UniMol input.</param>
/// <param name="CoordinatesFromFile">True when the coordinates came with the request, false when RDKit generated them.</param>
public sealed record MoleculeFeatures(string Smiles, MolecularGraph Graph, Conformer Conformer, UniMolInput UniMol, bool CoordinatesFromFile);

/// <summary>Reads a molecule item (SMILES value, or a MOL/SDF file with coordinates) with RDKit and builds both views.</summary>
public sealed class MoleculeFeaturizer(MoleculeOptions options)
{
    private static readonly string[] MolFileExtensions = [".sdf", ".sd", ".mol", ".mdl"];

    public MoleculeOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    public MoleculeFeatures Featurize(MediaItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        int seed = Seed(item);
        if (item.Path is { } path)
        {
            return FromFile(item, path, seed);
        }

        string smiles = item.Value ?? throw new InvalidMediaException($"The {item.Describe()} has neither a path nor a value. Give a SMILES string as 'value' or an SDF/MOL file as 'path'.");
        using var molecule = ParseSmiles(smiles);
        var graph = molecule.Graph();
        var (conformer, error) = molecule.GenerateConformer(seed, Options.MaxAttempts);
        if (conformer is null)
        {
            throw new InvalidMediaException(
                $"RDKit could not generate 3-D coordinates for molecule '{Abbreviate(smiles)}': {error!.Message}. Give coordinates in an SDF/MOL file as 'path', or drop the item from the request.");
        }

        return new MoleculeFeatures(smiles, graph, conformer, UniMolInput.From(conformer, Options.Dictionary, Options.MaxAtoms, seed), CoordinatesFromFile: false);
    }

    /// <summary>
    /// Only the 2-D view (what the MoleculeSTM GIN reads): the OGB graph of a SMILES value without generating a conformer,
    /// or of a MOL/SDF file as <see cref="Featurize"/> reads it.
    /// </summary>
    public MolecularGraph Graph(MediaItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Path is not null)
        {
            return Featurize(item).Graph;
        }

        string smiles = item.Value ?? throw new InvalidMediaException($"The {item.Describe()} has neither a path nor a value. Give a SMILES string as 'value' or an SDF/MOL file as 'path'.");
        return GraphFromSmiles(smiles);
    }

    /// <summary><c>Chem.MolFromSmiles</c> + OGB's <c>smiles2graph</c>; throws <see cref="InvalidSmilesException"/>.</summary>
    public static MolecularGraph GraphFromSmiles(string smiles)
    {
        using var molecule = ParseSmiles(smiles);
        return molecule.Graph();
    }

    internal static RdkitMolecule ParseSmiles(string smiles)
    {
        ArgumentNullException.ThrowIfNull(smiles);
        var (molecule, error) = RdkitMolecule.Parse(smiles);
        return molecule ?? throw Describe(smiles, error!);
    }

    /// <summary>An error that says where in the string and why: RDKit's atom indices for valence and aromaticity
    /// problems, the SMILES scanner's first offending character for syntax errors.</summary>
    internal static InvalidSmilesException Describe(string smiles, RdkitError error)
    {
        var scan = SmilesLocator.Run(smiles);
        string rdkit = error.Message.Replace('\n', ' ').Trim().TrimEnd('.');
        int? position = null;
        string reason;
        if (error.Atoms.Count > 0 && error.Atoms.All(a => a >= 0 && a < scan.AtomStarts.Count))
        {
            var starts = error.Atoms.Select(a => scan.AtomStarts[a] + 1).ToArray();
            position = starts[0];
            string where = starts.Length == 1
                ? $"atom {error.Atoms[0]}"
                : $"atoms {string.Join(", ", error.Atoms)} at characters {string.Join(", ", starts)}";
            reason = error.Status switch
            {
                RdkitNative.Valence => $"{where} has too many bonds for its element and charge",
                RdkitNative.Kekulize => $"{where} are marked aromatic but admit no Kekulé structure",
                _ => $"{where} cannot be sanitized",
            };
        }
        else if (scan.ErrorOffset is int offset)
        {
            position = offset + 1;
            reason = scan.Reason!;
        }
        else
        {
            reason = "RDKit rejects it and its parser does not say where";
        }

        string at = position is int p ? $" at character {p} ('{Marked(smiles, p - 1)}')" : "";
        return new InvalidSmilesException(
            $"Invalid SMILES for molecule '{Abbreviate(smiles)}'{at}: {reason} (RDKit: {rdkit}). Fix the SMILES or drop the item from the request.",
            smiles, position, reason);
    }

    private MoleculeFeatures FromFile(MediaItem item, string path, int seed)
    {
        if (!File.Exists(path))
        {
            throw new InvalidMediaException($"The {item.Describe()} does not exist. Check the path.");
        }

        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        if (!MolFileExtensions.Contains(ext))
        {
            throw new InvalidMediaException($"Unsupported molecule file '{path}'. Supported: {string.Join(", ", MolFileExtensions)} (MDL MOL or SDF with 3-D coordinates), or a SMILES string as 'value'.");
        }

        var (molecule, conformer, error) = RdkitMolecule.ReadMolFile(System.IO.Path.GetFullPath(path));
        if (molecule is null)
        {
            string atoms = error!.Atoms.Count > 0 ? $" (atoms {string.Join(", ", error.Atoms.Select(a => a + 1))}, 1-based as in the file's atom block)" : "";
            throw new InvalidMediaException($"RDKit could not read molecule file '{path}'{atoms}: {error.Message.Replace('\n', ' ').TrimEnd('.')}. Fix the file or drop the item from the request.");
        }

        using (molecule)
        {
            // The 2-D view of a file is the graph of its SMILES as RDKit writes it: the reference builds the graph from
            // the dataset's SMILES field, never from the coordinate file.
            string smiles = molecule.CanonicalSmiles();
            var graph = GraphFromSmiles(smiles);
            return new MoleculeFeatures(smiles, graph, conformer!, UniMolInput.From(conformer!, Options.Dictionary, Options.MaxAtoms, seed), CoordinatesFromFile: true);
        }
    }

    private int Seed(MediaItem item)
    {
        if (!item.Attributes.TryGetValue("seed", out string? text))
        {
            return Options.Seed;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) && seed >= 0
            ? seed
            : throw new InvalidMediaException($"Attribute seed='{text}' of the {item.Describe()} is not a non-negative integer.");
    }

    private static string Abbreviate(string smiles) => smiles.Length > 80 ? smiles[..80] + "…" : smiles;

    // The SMILES with the offending character bracketed by » «, shortened around it.
    private static string Marked(string smiles, int offset)
    {
        int from = Math.Max(0, offset - 20);
        int to = Math.Min(smiles.Length, offset + 21);
        string before = (from > 0 ? "…" : "") + smiles[from..offset];
        string at = offset < smiles.Length ? smiles[offset].ToString() : "";
        string after = smiles[Math.Min(smiles.Length, offset + 1)..to] + (to < smiles.Length ? "…" : "");
        return $"{before}»{at}«{after}";
    }
}
