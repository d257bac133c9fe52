using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using JudgeHost.Abstractions;
using TorchSharp;

namespace JudgeHost.Backbone;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Stored element type.</param>
/// <param name="Shape">Shape.</param>
/// <param name="Offset">Absolute byte offset of the data in the file.</param>
/// <param name="Length">Byte length of the data.</param>
public sealed record SafeTensorEntry(string Name, torch.ScalarType DType, long[] Shape, long Offset, long Length);

/// <summary>
/// A strict reader of the safetensors format (8-byte little-endian header length, JSON header, raw data).
/// Every header entry is checked against the file before any data is read: a known dtype, offsets inside the
/// data section, a byte length equal to shape × element size, and no overlaps. Data is read straight into
/// tensor storage (no intermediate managed copy).
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L * 1024 * 1024;
    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafeTensorEntry> _entries;

    private SafeTensorsFile(string path, SafeFileHandle handle, List<SafeTensorEntry> entries, IReadOnlyDictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        Entries = entries;
        _entries = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Metadata = metadata;
    }

    public string Path { get; }

    /// <summary>Entries in header order.</summary>
    public IReadOnlyList<SafeTensorEntry> Entries { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    public bool Contains(string name) => _entries.ContainsKey(name);

    public SafeTensorEntry this[string name] => _entries.TryGetValue(name, out var e)
        ? e
        : throw new MissingWeightsException($"Tensor '{name}' is not in '{Path}'.");

    /// <summary>Opens and validates a file. Throws <see cref="CorruptCheckpointException"/> naming the file on any inconsistency.</summary>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new CorruptCheckpointException($"Checkpoint file '{path}' does not exist. Check the model directory.");
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long fileLength = RandomAccess.GetLength(handle);
            if (fileLength < 8)
            {
                throw Corrupt(path, $"it is {fileLength} bytes long, shorter than the 8-byte header length; the file is truncated");
            }

            Span<byte> lengthBytes = stackalloc byte[8];
            RandomAccess.Read(handle, lengthBytes, 0);
            ulong headerLength = BitConverter.ToUInt64(lengthBytes);
            if (headerLength > (ulong)MaxHeaderBytes || (long)headerLength > fileLength - 8)
            {
                throw Corrupt(path, $"its header claims {headerLength} bytes but the file has {fileLength - 8} after the length field; the file is truncated or not safetensors");
            }

            byte[] header = new byte[headerLength];
            RandomAccess.Read(handle, header, 8);
            long dataStart = 8 + (long)headerLength;
            var (entries, metadata) = ParseHeader(path, header, dataStart, fileLength - dataStart);
            return new SafeTensorsFile(path, handle, entries, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads a tensor into new CPU storage of its stored dtype, then converts and moves as asked.</summary>
    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        var entry = this[name];
        var tensor = torch.empty(entry.Shape, entry.DType);
        try
        {
            ReadInto(entry, tensor);
            if ((dtype is { } d && d != entry.DType) || (device is { } dev && dev.type != DeviceType.CPU))
            {
                var converted = tensor.to(dtype ?? entry.DType, device ?? torch.CPU);
                tensor.Dispose();
                return converted;
            }

            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Reads an entry's bytes into an existing contiguous CPU tensor of the same dtype and element count.</summary>
    public void ReadInto(SafeTensorEntry entry, torch.Tensor destination)
    {
        if (destination.dtype != entry.DType || destination.NumberOfElements * destination.ElementSize != entry.Length || !destination.is_contiguous() || destination.device_type != DeviceType.CPU)
        {
            throw new InvalidOperationException($"Destination for '{entry.Name}' must be a contiguous CPU {entry.DType} tensor of {entry.Length} bytes; got {destination.dtype} [{string.Join(", ", destination.shape)}] on {destination.device}.");
        }

        if (entry.Length == 0)
        {
            return;
        }

        var span = destination.bytes;
        long done = 0;
        while (done < entry.Length)
        {
            int read = RandomAccess.Read(_handle, span[(int)done..], entry.Offset + done);
            if (read <= 0)
            {
                throw Corrupt(Path, $"reading '{entry.Name}' ended early at byte {entry.Offset + done}; the file is truncated");
            }

            done += read;
        }
    }

    public void Dispose() => _handle.Dispose();

    internal static int ElementSize(torch.ScalarType t) => t switch
    {
        torch.ScalarType.Float64 or torch.ScalarType.Int64 => 8,
        torch.ScalarType.Float32 or torch.ScalarType.Int32 => 4,
        torch.ScalarType.Float16 or torch.ScalarType.BFloat16 or torch.ScalarType.Int16 => 2,
        torch.ScalarType.Int8 or torch.ScalarType.Byte or torch.ScalarType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "Unsupported safetensors dtype."),
    };

    internal static string DTypeName(torch.ScalarType t) => t switch
    {
        torch.ScalarType.Float64 => "F64",
        torch.ScalarType.Float32 => "F32",
        torch.ScalarType.Float16 => "F16",
        torch.ScalarType.BFloat16 => "BF16",
        torch.ScalarType.Int64 => "I64",
        torch.ScalarType.Int32 => "I32",
        torch.ScalarType.Int16 => "I16",
        torch.ScalarType.Int8 => "I8",
        torch.ScalarType.Byte => "U8",
        torch.ScalarType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "Unsupported safetensors dtype."),
    };

    private static torch.ScalarType? ParseDType(string s) => s switch
    {
        "F64" => torch.ScalarType.Float64,
        "F32" => torch.ScalarType.Float32,
        "F16" => torch.ScalarType.Float16,
        "BF16" => torch.ScalarType.BFloat16,
        "I64" => torch.ScalarType.Int64,
        "I32" => torch.ScalarType.Int32,
        "I16" => torch.ScalarType.Int16,
        "I8" => torch.ScalarType.Int8,
        "U8" => torch.ScalarType.Byte,
        "BOOL" => torch.ScalarType.Bool,
        _ => null,
    };

    private static (List<SafeTensorEntry>, Dictionary<string, string>) ParseHeader(string path, byte[] header, long dataStart, long dataLength)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Corrupt(path, $"its header is not valid JSON ({e.Message})");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Corrupt(path, "its header is not a JSON object");
            }

            var entries = new List<SafeTensorEntry>();
            var metadata = new Dictionary<string, string>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                if (p.Name == "__metadata__")
                {
                    if (p.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var m in p.Value.EnumerateObject())
                        {
                            metadata[m.Name] = m.Value.ToString();
                        }
                    }

                    continue;
                }

                entries.Add(ParseEntry(path, p, dataStart, dataLength));
            }

            var sorted = entries.OrderBy(e => e.Offset).ToList();
            for (int i = 1; i < sorted.Count; i++)
            {
                if (sorted[i].Offset < sorted[i - 1].Offset + sorted[i - 1].Length)
                {
                    throw Corrupt(path, $"tensors '{sorted[i - 1].Name}' and '{sorted[i].Name}' overlap in the data section; the header lies about offsets");
                }
            }

            return (entries, metadata);
        }
    }

    private static SafeTensorEntry ParseEntry(string path, JsonProperty p, long dataStart, long dataLength)
    {
        var v = p.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
        {
            throw Corrupt(path, $"header entry '{p.Name}' lacks dtype, shape or data_offsets");
        }

        string dtypeName = dtypeEl.GetString()!;
        var dtype = ParseDType(dtypeName)
            ?? throw Corrupt(path, $"tensor '{p.Name}' has dtype '{dtypeName}', which JudgeHost does not read (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
        long[] shape;
        long begin, end;
        try
        {
            shape = shapeEl.EnumerateArray().Select(x => x.GetInt64()).ToArray();
            begin = offEl[0].GetInt64();
            end = offEl[1].GetInt64();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw Corrupt(path, $"tensor '{p.Name}' has a non-integer shape or offset");
        }

        if (shape.Any(d => d < 0))
        {
            throw Corrupt(path, $"tensor '{p.Name}' has a negative dimension");
        }

        long expected = shape.Aggregate(1L, (a, d) => checked(a * d)) * ElementSize(dtype);
        if (begin < 0 || end < begin || end > dataLength)
        {
            throw Corrupt(path, $"tensor '{p.Name}' claims bytes [{begin}, {end}) but the data section has {dataLength} bytes; the file is truncated or the header lies about offsets");
        }

        if (end - begin != expected)
        {
            throw Corrupt(path, $"tensor '{p.Name}' is {dtypeName} [{string.Join(", ", shape)}] ({expected} bytes) but its offsets span {end - begin} bytes");
        }

        return new SafeTensorEntry(p.Name, dtype, shape, dataStart + begin, end - begin);
    }

    private static CorruptCheckpointException Corrupt(string path, string why) =>
        new($"Checkpoint file '{path}' is unusable: {why}. Re-download or re-export the checkpoint.");
}
