using System.IO.Compression;

namespace Modalities.Image.Tests;

/// <summary>Reads the arrays of an .npz written by the fixture script (little-endian, C order).</summary>
internal sealed class Npz
{
    private readonly Dictionary<string, (string Dtype, int[] Shape, byte[] Data)> arrays = [];

    public IEnumerable<string> Names => arrays.Keys;

    public static Npz Load(string path)
    {
        var npz = new Npz();
        using var zip = ZipFile.OpenRead(path);
        foreach (var entry in zip.Entries)
        {
            using var s = entry.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            npz.arrays[Path.GetFileNameWithoutExtension(entry.Name)] = ParseNpy(ms.ToArray(), entry.Name);
        }

        return npz;
    }

    public bool Has(string name) => arrays.ContainsKey(name);

    public int[] Shape(string name) => arrays[name].Shape;

    public byte[] UInt8(string name) => Get(name, "|u1").ToArray();

    public float[] Float32(string name)
    {
        var bytes = Get(name, "<f4");
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    public long[] Int64(string name)
    {
        var bytes = Get(name, "<i8");
        var values = new long[bytes.Length / 8];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    private byte[] Get(string name, string dtype)
    {
        var (actual, _, data) = arrays[name];
        return actual == dtype ? data : throw new InvalidOperationException($"{name} is {actual}, not {dtype}.");
    }

    private static (string, int[], byte[]) ParseNpy(byte[] b, string name)
    {
        if (b.Length < 10 || b[0] != 0x93 || b[1] != (byte)'N')
        {
            throw new InvalidDataException($"{name} is not an .npy file.");
        }

        int headerLength = b[6] == 1 ? BitConverter.ToUInt16(b, 8) : BitConverter.ToInt32(b, 8);
        int start = b[6] == 1 ? 10 : 12;
        string header = System.Text.Encoding.ASCII.GetString(b, start, headerLength);
        string dtype = Between(header, "'descr': '", "'");
        if (!header.Contains("'fortran_order': False", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{name} is Fortran-ordered.");
        }

        int[] shape = Between(header, "'shape': (", ")")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(int.Parse).ToArray();
        return (dtype, shape, b[(start + headerLength)..]);
    }

    private static string Between(string s, string open, string close)
    {
        int i = s.IndexOf(open, StringComparison.Ordinal) + open.Length;
        return s[i..s.IndexOf(close, i, StringComparison.Ordinal)];
    }
}
