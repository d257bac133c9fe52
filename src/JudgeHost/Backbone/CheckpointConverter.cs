using System.Text.Json.Nodes;
using JudgeHost.Abstractions;
using TorchSharp;

namespace JudgeHost.Backbone;

/// <summary>
/// Rewrites a Hugging Face model directory with its floating-point tensors stored in another dtype (what
/// <c>save_pretrained</c> after <c>model.to(torch.bfloat16)</c> gives): every *.safetensors file keeps its name,
/// tensor names, order, shapes and metadata; integer tensors are copied as they are; <c>config.json</c>'s
/// <c>torch_dtype</c> is updated; every other file (tokenizer, generation config, index) is copied unchanged.
/// </summary>
public static class CheckpointConverter
{
    /// <summary>Converts <paramref name="source"/> into <paramref name="destination"/>; returns the tensor count.</summary>
    public static int Convert(string source, string destination, torch.ScalarType dtype)
    {
        if (dtype is not (torch.ScalarType.Float32 or torch.ScalarType.BFloat16 or torch.ScalarType.Float16))
        {
            throw new JudgeHostException($"Cannot store a checkpoint as {dtype}: use float32, bfloat16 or float16.");
        }

        if (Path.GetFullPath(source) == Path.GetFullPath(destination))
        {
            throw new JudgeHostException($"--out must differ from --model ('{source}').");
        }

        string[] weights = Directory.Exists(source) ? Directory.GetFiles(source, "*.safetensors") : [];
        if (weights.Length == 0)
        {
            throw new JudgeHostException($"'{source}' holds no *.safetensors files; give a Hugging Face model directory.");
        }

        Directory.CreateDirectory(destination);
        int count = 0;
        foreach (string file in weights.Order(StringComparer.Ordinal))
        {
            using var st = SafeTensorsFile.Open(file);
            var specs = st.Entries.Select(e => (e.Name, DType: IsFloat(e.DType) ? dtype : e.DType, e.Shape)).ToList();
            SafeTensorsWriter.Write(Path.Combine(destination, Path.GetFileName(file)), specs, i => st.Load(specs[i].Name, specs[i].DType), st.Metadata);
            count += specs.Count;
        }

        foreach (string file in Directory.GetFiles(source).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
        {
            string target = Path.Combine(destination, Path.GetFileName(file));
            if (Path.GetFileName(file) == "config.json")
            {
                var config = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
                config["torch_dtype"] = DTypeNames.Name(dtype);
                File.WriteAllText(target, config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            }
            else
            {
                File.Copy(file, target, overwrite: true);
            }
        }

        return count;
    }

    private static bool IsFloat(torch.ScalarType t) => t is torch.ScalarType.Float32 or torch.ScalarType.BFloat16 or torch.ScalarType.Float16 or torch.ScalarType.Float64;
}
