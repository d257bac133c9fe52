namespace Modalities.Molecule;

/// <summary>
/// The UniMol encoder's input for one molecule, as Mol-LLaMA's <c>get_unimol_data</c> builds it: hydrogens removed
/// (unless nothing else is left), at most <c>max_atoms</c> atoms, coordinates centred on their mean, BOS/EOS tokens with
/// zero coordinates around the atom tokens, pair types <c>tok_i · |dict| + tok_j</c> and the Euclidean distance matrix.
/// </summary>
/// <param name="Symbols">The kept atoms' symbols (n), without BOS/EOS.</param>
/// <param name="Tokens"><c>src_tokens [n + 2]</c>.</param>
/// <param name="EdgeTypes"><c>src_edge_type [n + 2, n + 2]</c>, row-major.</param>
/// <param name="Distances"><c>src_distance [n + 2, n + 2]</c> float32 (computed in float64, then cast), row-major.</param>
/// <param name="Coordinates">Centred coordinates with the zero BOS/EOS rows <c>[n + 2, 3]</c>, row-major.</param>
public sealed record UniMolInput(IReadOnlyList<string> Symbols, long[] Tokens, long[] EdgeTypes, float[] Distances, double[] Coordinates)
{
    public const int DefaultMaxAtoms = 512;

    public int Length => Tokens.Length;

    /// <summary>
    /// Builds the input from a conformer's atoms. Where more than <paramref name="maxAtoms"/> heavy atoms remain the
    /// reference keeps a random subset (<c>np.random.permutation</c>, unseeded); here the subset is drawn by a
    /// <see cref="Random"/> seeded with <paramref name="seed"/>, so the same request always gives the same input.
    /// </summary>
    public static UniMolInput From(Conformer conformer, UniMolDictionary dictionary, int maxAtoms = DefaultMaxAtoms, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(conformer);
        ArgumentNullException.ThrowIfNull(dictionary);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAtoms, 1);
        int total = conformer.Symbols.Count;
        if (total == 0)
        {
            throw new ArgumentException("The conformer has no atoms.", nameof(conformer));
        }

        // The reference masks symbol "H" (deuterium and tritium are "H" too) and keeps everything if no other atom is left.
        var keep = Enumerable.Range(0, total).Where(i => conformer.Symbols[i] != "H").ToList();
        if (keep.Count == 0)
        {
            keep = [.. Enumerable.Range(0, total)];
        }

        if (keep.Count > maxAtoms)
        {
            var order = keep.ToArray();
            new Random(seed).Shuffle(order);
            keep = [.. order.Take(maxAtoms)];
        }

        int n = keep.Count;
        int length = n + 2;
        var symbols = keep.Select(i => conformer.Symbols[i]).ToArray();
        var tokens = new long[length];
        tokens[0] = dictionary.Bos;
        tokens[length - 1] = dictionary.Eos;
        for (int i = 0; i < n; i++)
        {
            tokens[i + 1] = dictionary.IndexOf(symbols[i]);
        }

        // coordinates - coordinates.mean(axis=0): numpy sums along axis 0 one row after another for a C-ordered [n, 3].
        var mean = new double[3];
        foreach (int i in keep)
        {
            for (int d = 0; d < 3; d++)
            {
                mean[d] += conformer.Coordinates[(3 * i) + d];
            }
        }

        for (int d = 0; d < 3; d++)
        {
            mean[d] /= n;
        }

        var coordinates = new double[3 * length];
        for (int k = 0; k < n; k++)
        {
            for (int d = 0; d < 3; d++)
            {
                coordinates[(3 * (k + 1)) + d] = conformer.Coordinates[(3 * keep[k]) + d] - mean[d];
            }
        }

        var edgeTypes = new long[length * length];
        var distances = new float[length * length];
        for (int i = 0; i < length; i++)
        {
            for (int j = 0; j < length; j++)
            {
                edgeTypes[(i * length) + j] = (tokens[i] * dictionary.Count) + tokens[j];
                double dx = coordinates[3 * i] - coordinates[3 * j];
                double dy = coordinates[(3 * i) + 1] - coordinates[(3 * j) + 1];
                double dz = coordinates[(3 * i) + 2] - coordinates[(3 * j) + 2];
                distances[(i * length) + j] = (float)Math.Sqrt((dx * dx) + (dy * dy) + (dz * dz));
            }
        }

        return new UniMolInput(symbols, tokens, edgeTypes, distances, coordinates);
    }
}
