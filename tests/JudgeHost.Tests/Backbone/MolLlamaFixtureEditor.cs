using JudgeHost.Backbone;
using static TorchSharp.torch;

namespace JudgeHost.Tests.Backbone;

/// <summary>Copies a checkpoint directory (or edits it in place), letting a test change its tensors (by name) and its config.json text.</summary>
public static class MolLlamaFixtureEditor
{
    public static void Copy(string source, string destination, Action<Dictionary<string, Tensor>> edit, Func<string, string>? configEdit = null)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            string name = Path.GetFileName(file);
            if (name == "model.safetensors")
            {
                continue;
            }

            string target = Path.Combine(destination, name);
            if (name == "config.json" && configEdit is not null)
            {
                File.WriteAllText(target, configEdit(File.ReadAllText(file)));
            }
            else if (Path.GetFullPath(file) != Path.GetFullPath(target))
            {
                File.Copy(file, target, overwrite: true);
            }
        }

        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (var st = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors")))
        {
            foreach (var entry in st.Entries)
            {
                tensors[entry.Name] = st.Load(entry.Name);
            }
        }

        edit(tensors);
        SafeTensorsWriter.Write(Path.Combine(destination, "model.safetensors"), tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal));
    }
}
