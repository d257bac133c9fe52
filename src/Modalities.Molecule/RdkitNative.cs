using System.Reflection;
using System.Runtime.InteropServices;
using JudgeHost.Abstractions;

namespace Modalities.Molecule;

/// <summary>
/// P/Invoke surface of the RDKit shim (<c>native/jhrdkit.cpp</c>, built as <c>libjhrdkit.so</c> next to this
/// assembly). The library is resolved from the plugin's own folder, never from the process's search path.
/// </summary>
internal static partial class RdkitNative
{
    internal const string Library = "jhrdkit";
    internal const string FileName = "libjhrdkit.so";

    // Status codes of jhrdkit.cpp.
    internal const int Ok = 0;
    internal const int Syntax = 1;
    internal const int Valence = 2;
    internal const int Kekulize = 3;
    internal const int Sanitize = 4;
    internal const int Embed = 5;
    internal const int AtomCount = 6;

    private static readonly Lazy<string?> LoadError = new(TryLoad);

    static RdkitNative() => NativeLibrary.SetDllImportResolver(typeof(RdkitNative).Assembly, Resolve);

    /// <summary>Throws a typed error naming the file and the fix when the shim (or RDKit under it) cannot be loaded.</summary>
    internal static void EnsureLoaded()
    {
        if (LoadError.Value is { } reason)
        {
            throw new PluginLoadException(
                $"The molecule plugin's RDKit shim '{LibraryPath}' could not be loaded: {reason} Install RDKit (bash tools/install-system-deps.sh, or apt-get install -y librdkit-dev) and rebuild src/Modalities.Molecule.");
        }
    }

    internal static string LibraryPath => Path.Combine(Path.GetDirectoryName(typeof(RdkitNative).Assembly.Location) ?? AppContext.BaseDirectory, FileName);

    private static string? TryLoad()
    {
        try
        {
            _ = NativeLibrary.Load(LibraryPath);
            return null;
        }
        catch (DllNotFoundException e)
        {
            return e.Message.TrimEnd('.') + ".";
        }
        catch (BadImageFormatException e)
        {
            return e.Message.TrimEnd('.') + ".";
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == Library && NativeLibrary.TryLoad(LibraryPath, out var handle) ? handle : IntPtr.Zero;

    [LibraryImport(Library, EntryPoint = "jh_rdkit_version")]
    internal static partial IntPtr RdkitVersion();

    [LibraryImport(Library, EntryPoint = "jh_parse_smiles", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int ParseSmiles(string smiles, out IntPtr mol, byte* err, int errCap, int* errAtoms, int errAtomsCap, out int nErrAtoms);

    [LibraryImport(Library, EntryPoint = "jh_read_molfile", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int ReadMolFile(string path, out IntPtr mol, out IntPtr conformer, byte* err, int errCap, int* errAtoms, int errAtomsCap, out int nErrAtoms);

    [LibraryImport(Library, EntryPoint = "jh_mol_free")]
    internal static partial void MolFree(IntPtr mol);

    [LibraryImport(Library, EntryPoint = "jh_num_atoms")]
    internal static partial int NumAtoms(IntPtr mol);

    [LibraryImport(Library, EntryPoint = "jh_num_bonds")]
    internal static partial int NumBonds(IntPtr mol);

    [LibraryImport(Library, EntryPoint = "jh_to_smiles")]
    internal static unsafe partial int ToSmiles(IntPtr mol, byte* buffer, int cap);

    [LibraryImport(Library, EntryPoint = "jh_atom_features")]
    internal static unsafe partial void AtomFeatures(IntPtr mol, long* atomFeat, long* atomicNum);

    [LibraryImport(Library, EntryPoint = "jh_bond_features")]
    internal static unsafe partial void BondFeatures(IntPtr mol, long* edgeIndex, long* edgeFeat);

    [LibraryImport(Library, EntryPoint = "jh_generate_conformer")]
    internal static unsafe partial int GenerateConformer(IntPtr mol, int seed, int maxAttempts, out IntPtr conformer, byte* err, int errCap);

    [LibraryImport(Library, EntryPoint = "jh_conformer_free")]
    internal static partial void ConformerFree(IntPtr conformer);

    [LibraryImport(Library, EntryPoint = "jh_conformer_num_atoms")]
    internal static partial int ConformerNumAtoms(IntPtr conformer);

    [LibraryImport(Library, EntryPoint = "jh_conformer_symbols")]
    internal static unsafe partial int ConformerSymbols(IntPtr conformer, byte* buffer, int cap);

    [LibraryImport(Library, EntryPoint = "jh_conformer_coordinates")]
    internal static unsafe partial void ConformerCoordinates(IntPtr conformer, double* xyz);
}
