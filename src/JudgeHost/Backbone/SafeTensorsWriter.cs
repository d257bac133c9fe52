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
            foreach (var (name, t) in list)
            {
                long length = t.NumberOfElements * SafeTensorsFile.ElementSize(t.dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", SafeTensorsFile.DTypeName(t.dtype));
                json.WriteStartArray("shape");
                foreach (long d in t.shape)
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
        foreach (var (_, t) in list)
        {
            using var cpu = t.detach().cpu().contiguous();
            file.Write(cpu.bytes);
        }
    }
}
