namespace Modalities.Molecule;

/// <summary>
/// UniMol's atom dictionary (unicore <c>Dictionary</c>): one symbol a line in file order, <c>[CLS]</c> = BOS,
/// <c>[SEP]</c> = EOS, <c>[UNK]</c> for symbols not listed; Mol-LLaMA adds <c>[MASK]</c> after loading
/// <c>mol.dict.txt</c> from <c>dptech/Uni-Mol-Models</c>.
/// </summary>
public sealed class UniMolDictionary
{
    /// <summary>The symbols of Uni-Mol's <c>mol.dict.txt</c> (molecule pretraining, no hydrogens), in file order.</summary>
    public static IReadOnlyList<string> MolDictSymbols { get; } =
    [
        "[PAD]", "[CLS]", "[SEP]", "[UNK]", "C", "N", "O", "S", "H", "Cl", "F", "Br", "I", "Si", "P", "B", "Na", "K",
        "Al", "Ca", "Sn", "As", "Hg", "Fe", "Zn", "Cr", "Se", "Gd", "Au", "Li",
    ];

    private readonly Dictionary<string, int> _index;

    public UniMolDictionary(IEnumerable<string> symbols)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        Symbols = symbols.ToArray();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Symbols.Count; i++)
        {
            _index.TryAdd(Symbols[i], i);
        }

        foreach (string special in new[] { "[CLS]", "[SEP]", "[UNK]" })
        {
            if (!_index.ContainsKey(special))
            {
                throw new ArgumentException($"A UniMol dictionary needs the symbol {special}.", nameof(symbols));
            }
        }
    }

    /// <summary>Mol-LLaMA's dictionary: <c>mol.dict.txt</c> + <c>[MASK]</c> (31 symbols).</summary>
    public static UniMolDictionary MolLlama { get; } = new([.. MolDictSymbols, "[MASK]"]);

    public IReadOnlyList<string> Symbols { get; }

    public int Count => Symbols.Count;

    /// <summary><c>[PAD]</c> (unicore's <c>Dictionary.pad()</c>; index 0 in <c>mol.dict.txt</c>), or 0 when the file lists none.</summary>
    public int Pad => _index.TryGetValue("[PAD]", out int pad) ? pad : 0;

    public int Bos => _index["[CLS]"];

    public int Eos => _index["[SEP]"];

    public int Unk => _index["[UNK]"];

    public int IndexOf(string symbol) => _index.TryGetValue(symbol, out int i) ? i : Unk;

    /// <summary>Reads a unicore dictionary file (<c>symbol [count]</c> a line) and adds <c>[MASK]</c> as Mol-LLaMA does.</summary>
    public static UniMolDictionary Load(string path)
    {
        var symbols = File.ReadAllLines(path)
            .Select(l => l.TrimEnd())
            .Where(l => l.Length > 0)
            .Select(l => l.Split(' ', 2)[0])
            .ToList();
        if (!symbols.Contains("[MASK]"))
        {
            symbols.Add("[MASK]");
        }

        return new UniMolDictionary(symbols);
    }
}
