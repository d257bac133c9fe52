using System.Text;

namespace Modalities.Molecule;

/// <summary>Why RDKit rejected a SMILES string or a molecule file: its status, its message and the atoms it names.</summary>
internal sealed record RdkitError(int Status, string Message, IReadOnlyList<int> Atoms);

/// <summary>Atoms and coordinates (Å, <c>[n, 3]</c> row-major) of one conformer, in RDKit's atom order.</summary>
public sealed record Conformer(IReadOnlyList<string> Symbols, double[] Coordinates);

/// <summary>One sanitized RDKit molecule held by the native shim.</summary>
internal sealed unsafe class RdkitMolecule : IDisposable
{
    private const int ErrorCapacity = 4096;
    private const int ErrorAtomsCapacity = 256;
    private IntPtr _handle;

    private RdkitMolecule(IntPtr handle) => _handle = handle;

    public int AtomCount => RdkitNative.NumAtoms(Handle);

    public int BondCount => RdkitNative.NumBonds(Handle);

    private IntPtr Handle => _handle != IntPtr.Zero ? _handle : throw new ObjectDisposedException(nameof(RdkitMolecule));

    public static string RdkitVersion
    {
        get
        {
            RdkitNative.EnsureLoaded();
            return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(RdkitNative.RdkitVersion()) ?? "";
        }
    }

    /// <summary><c>Chem.MolFromSmiles(smiles)</c>: the molecule, or why RDKit rejected the string.</summary>
    public static (RdkitMolecule? Molecule, RdkitError? Error) Parse(string smiles)
    {
        ArgumentNullException.ThrowIfNull(smiles);
        RdkitNative.EnsureLoaded();
        var err = new byte[ErrorCapacity];
        var atoms = new int[ErrorAtomsCapacity];
        fixed (byte* e = err)
        fixed (int* a = atoms)
        {
            int status = RdkitNative.ParseSmiles(smiles, out var handle, e, err.Length, a, atoms.Length, out int nAtoms);
            return status == RdkitNative.Ok
                ? (new RdkitMolecule(handle), null)
                : (null, new RdkitError(status, Text(err), atoms[..Math.Min(nAtoms, atoms.Length)]));
        }
    }

    /// <summary>The first molecule of a MOL/SDF file with all its atoms (hydrogens kept) and its coordinates.</summary>
    public static (RdkitMolecule? Molecule, Conformer? Conformer, RdkitError? Error) ReadMolFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        RdkitNative.EnsureLoaded();
        var err = new byte[ErrorCapacity];
        var atoms = new int[ErrorAtomsCapacity];
        fixed (byte* e = err)
        fixed (int* a = atoms)
        {
            int status = RdkitNative.ReadMolFile(path, out var handle, out var conformer, e, err.Length, a, atoms.Length, out int nAtoms);
            if (status != RdkitNative.Ok)
            {
                return (null, null, new RdkitError(status, Text(err), atoms[..Math.Min(nAtoms, atoms.Length)]));
            }

            return (new RdkitMolecule(handle), TakeConformer(conformer), null);
        }
    }

    /// <summary><c>Chem.MolToSmiles(Chem.RemoveHs(mol))</c>.</summary>
    public string CanonicalSmiles()
    {
        int n = RdkitNative.ToSmiles(Handle, null, 0);
        if (n < 0)
        {
            throw new InvalidOperationException("RDKit could not write the molecule as SMILES.");
        }

        var buffer = new byte[n + 1];
        fixed (byte* b = buffer)
        {
            _ = RdkitNative.ToSmiles(Handle, b, buffer.Length);
        }

        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    /// <summary>OGB's <c>smiles2graph</c> of this molecule.</summary>
    public MolecularGraph Graph()
    {
        int n = AtomCount;
        int e = 2 * BondCount;
        var atomFeatures = new long[n * MolecularGraph.AtomFeatureCount];
        var atomicNumbers = new long[n];
        var edgeIndex = new long[2 * e];
        var edgeFeatures = new long[e * MolecularGraph.BondFeatureCount];
        fixed (long* f = atomFeatures)
        fixed (long* z = atomicNumbers)
        fixed (long* ei = edgeIndex)
        fixed (long* ef = edgeFeatures)
        {
            RdkitNative.AtomFeatures(Handle, f, z);
            RdkitNative.BondFeatures(Handle, ei, ef);
        }

        return new MolecularGraph(n, e, atomFeatures, atomicNumbers, edgeIndex, edgeFeatures);
    }

    /// <summary>The reference's RDKit conformer (AddHs, ETKDG, MMFF94, RemoveHs) with an explicit seed.</summary>
    public (Conformer? Conformer, RdkitError? Error) GenerateConformer(int seed, int maxAttempts)
    {
        var err = new byte[ErrorCapacity];
        fixed (byte* e = err)
        {
            int status = RdkitNative.GenerateConformer(Handle, seed, maxAttempts, out var conformer, e, err.Length);
            return status == RdkitNative.Ok ? (TakeConformer(conformer), null) : (null, new RdkitError(status, Text(err), []));
        }
    }

    public void Dispose()
    {
        if (_handle != IntPtr.Zero)
        {
            RdkitNative.MolFree(_handle);
            _handle = IntPtr.Zero;
        }
    }

    private static Conformer TakeConformer(IntPtr handle)
    {
        try
        {
            int n = RdkitNative.ConformerNumAtoms(handle);
            int length = RdkitNative.ConformerSymbols(handle, null, 0);
            var symbols = new byte[length + 1];
            var xyz = new double[3 * n];
            fixed (byte* s = symbols)
            fixed (double* c = xyz)
            {
                _ = RdkitNative.ConformerSymbols(handle, s, symbols.Length);
                RdkitNative.ConformerCoordinates(handle, c);
            }

            string joined = Encoding.UTF8.GetString(symbols, 0, length);
            string[] list = n == 0 ? [] : joined.Split(' ');
            if (list.Length != n)
            {
                throw new InvalidOperationException($"The RDKit shim returned {list.Length} symbols for {n} atoms.");
            }

            return new Conformer(list, xyz);
        }
        finally
        {
            RdkitNative.ConformerFree(handle);
        }
    }

    private static string Text(byte[] buffer)
    {
        int end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end).Trim();
    }
}
