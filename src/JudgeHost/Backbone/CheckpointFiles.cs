using System.Text.Json;
using JudgeHost.Abstractions;
using TorchSharp;

namespace JudgeHost.Backbone;

/// <summary>
/// The safetensors files of a Hugging Face model directory: <c>model.safetensors</c>, or the shards named by
/// <c>model.safetensors.index.json</c>, as one name → tensor map. Every shard is opened and validated up front,
/// and the index must agree with the shards (a tensor the index names must be in that shard).
/// </summary>
public sealed class CheckpointFiles : IWeightSource, IDisposable
{
    private readonly List<SafeTensorsFile> _files;
    private readonly Dictionary<string, SafeTensorsFile> _owner;

    private CheckpointFiles(string directory, List<SafeTensorsFile> files, Dictionary<string, SafeTensorsFile> owner, List<string> names)
    {
        Directory = directory;
        _files = files;
        _owner = owner;
        Names = names;
    }

    public string Directory { get; }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<SafeTensorsFile> Files => _files;

    public static CheckpointFiles Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new JudgeHostException($"Model directory '{directory}' does not exist. Pass a local Hugging Face model directory to --model.");
        }

        string index = Path.Combine(directory, "model.safetensors.index.json");
        string single = Path.Combine(directory, "model.safetensors");
        List<string> shardNames;
        Dictionary<string, string>? weightMap = null;
        if (File.Exists(index))
        {
            weightMap = ReadIndex(index);
            shardNames = weightMap.Values.Distinct().Order(StringComparer.Ordinal).ToList();
        }
        else if (File.Exists(single))
        {
            shardNames = ["model.safetensors"];
        }
        else
        {
            var any = System.IO.Directory.GetFiles(directory, "*.safetensors").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            if (any.Count == 0)
            {
                throw new MissingWeightsException($"Model directory '{directory}' has no model.safetensors and no model.safetensors.index.json. Only safetensors checkpoints are supported.");
            }

            shardNames = any!;
        }

        var files = new List<SafeTensorsFile>();
        try
        {
            var owner = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            var names = new List<string>();
            foreach (string shard in shardNames)
            {
                var file = SafeTensorsFile.Open(Path.Combine(directory, shard));
                files.Add(file);
                foreach (var entry in file.Entries)
                {
                    if (!owner.TryAdd(entry.Name, file))
                    {
                        throw new CorruptCheckpointException($"Tensor '{entry.Name}' appears in both '{owner[entry.Name].Path}' and '{file.Path}'. Remove the stale shard.");
                    }

                    names.Add(entry.Name);
                }
            }

            if (weightMap is not null)
            {
                foreach (var (name, shard) in weightMap)
                {
                    if (!owner.TryGetValue(name, out var f) || Path.GetFileName(f.Path) != shard)
                    {
                        throw new CorruptCheckpointException($"'{index}' places tensor '{name}' in '{shard}', but that shard does not hold it. The index and the shards disagree; re-download the checkpoint.");
                    }
                }
            }

            return new CheckpointFiles(directory, files, owner, names);
        }
        catch
        {
            foreach (var f in files)
            {
                f.Dispose();
            }

            throw;
        }
    }

    public bool Contains(string name) => _owner.ContainsKey(name);

    public SafeTensorEntry Entry(string name) => _owner.TryGetValue(name, out var f)
        ? f[name]
        : throw new MissingWeightsException($"Tensor '{name}' is not in the checkpoint at '{Directory}'.");

    public long[] GetShape(string name) => Entry(name).Shape;

    public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null)
    {
        _ = Entry(name);
        return _owner[name].Load(name, dtype, device);
    }

    /// <summary>Reads one tensor into existing CPU storage (see <see cref="SafeTensorsFile.ReadInto"/>).</summary>
    public void ReadInto(string name, torch.Tensor destination) => _owner[name].ReadInto(Entry(name), destination);

    /// <summary>A view of the tensors under <paramref name="prefix"/>, with the prefix removed (what a plugin sees).</summary>
    public IWeightSource WithPrefix(string prefix) => new PrefixedWeightSource(this, prefix);

    public void Dispose()
    {
        foreach (var f in _files)
        {
            f.Dispose();
        }
    }

    private static Dictionary<string, string> ReadIndex(string index)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new CorruptCheckpointException($"'{index}' has no weight_map object. Re-download the checkpoint.");
            }

            return map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new CorruptCheckpointException($"'{index}' is not valid JSON ({e.Message}). Re-download the checkpoint.", e);
        }
    }

    private sealed class PrefixedWeightSource(CheckpointFiles files, string prefix) : IWeightSource
    {
        private readonly string[] _names = files.Names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => n[prefix.Length..]).ToArray();

        public IReadOnlyList<string> Names => _names;

        public bool Contains(string name) => files.Contains(prefix + name);

        public long[] GetShape(string name) => files.GetShape(prefix + name);

        public torch.Tensor Load(string name, torch.ScalarType? dtype = null, torch.Device? device = null) => files.Load(prefix + name, dtype, device);
    }
}
