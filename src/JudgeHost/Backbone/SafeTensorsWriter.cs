using System.Text;
using System.Text.Json;
using TorchSharp;

namespace JudgeHost.Backbone;

/// <summary>Writes tensors in the safetensors format (header entries in the given order, data 8-byte aligned by header padding).</summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        Write(path, list.Select(kv => (kv.Key, kv.Value.dtype, kv.Value.shape)).ToList(), i => list[i].Value.alias(), metadata);
    }

    /// <summary>
    /// Writes tensors that are produced one at a time (<paramref name="produce"/>(i) for the i-th of
    /// <paramref name="specs"/>, disposed after writing), so a checkpoint larger than memory can be written. Each
    /// produced tensor must have the dtype and shape its spec declares.
    /// </summary>
    public static void Write(string path, IReadOnlyList<(string Name, torch.ScalarType DType, long[] Shape)> specs, Func<int, torch.Tensor> produce, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(produce);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata)
                {
                    json.WriteString(k, v);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, dtype, shape) in specs)
            {
                long length = shape.Aggregate(1L, (a, d) => a * d) * SafeTensorsFile.ElementSize(dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", SafeTensorsFile.DTypeName(dtype));
                json.WriteStartArray("shape");
                foreach (long d in shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }

            json.WriteEndObject();
        }

        byte[] header = buffer.ToArray();
        int padded = (header.Length + 7) / 8 * 8;
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)padded));
        file.Write(header);
        file.Write(Encoding.ASCII.GetBytes(new string(' ', padded - header.Length)));
        for (int i = 0; i < specs.Count; i++)
        {
            using var t = produce(i);
            if (t.dtype != specs[i].DType || !t.shape.SequenceEqual(specs[i].Shape))
            {
                throw new InvalidOperationException($"Tensor '{specs[i].Name}' was declared {specs[i].DType} [{string.Join(", ", specs[i].Shape)}] but produced as {t.dtype} [{string.Join(", ", t.shape)}].");
            }

            using var cpu = t.detach().cpu().contiguous();
            file.Write(cpu.bytes);
        }
    }
}
