using System.Text;
using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using TorchSharp;

namespace JudgeHost.Tests.Backbone;

[Collection(TorchCollection.Name)]
public sealed class SafeTensorsTests
{
    [Fact]
    public void WriteThenOpen_RoundTripsEveryDtypeBitExactly()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.safetensors");
        using var f32 = torch.randn(3, 5, generator: torch.manual_seed(1));
        using var bf16 = f32.to(torch.bfloat16);
        using var f16 = f32.to(torch.float16);
        using var i64 = torch.arange(7, dtype: torch.int64);
        SafeTensorsWriter.Write(path, [new("a.f32", f32), new("b.bf16", bf16), new("c.f16", f16), new("d.i64", i64)]);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["a.f32", "b.bf16", "c.f16", "d.i64"], file.Entries.Select(e => e.Name));
        using var a = file.Load("a.f32");
        using var b = file.Load("b.bf16");
        using var c = file.Load("c.f16");
        using var d = file.Load("d.i64");
        Assert.True(a.eq(f32).all().item<bool>());
        Assert.Equal(torch.bfloat16, b.dtype);
        Assert.True(b.eq(bf16).all().item<bool>());
        Assert.True(c.eq(f16).all().item<bool>());
        Assert.True(d.eq(i64).all().item<bool>());
        using var converted = file.Load("b.bf16", torch.float32);
        Assert.Equal(torch.float32, converted.dtype);
    }

    [Fact]
    public void Open_TruncatedFile_NamesTheFile()
    {
        using var dir = new TempDir();
        string path = dir.Combine("model.safetensors");
        using var t = torch.ones(64, 64);
        SafeTensorsWriter.Write(path, [new("w", t)]);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);

        var e = Assert.Throws<CorruptCheckpointException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}""", "offsets span")]          // shape says 8 bytes, offsets 16
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}}""", "header lies about offsets")] // beyond the data
    [InlineData("""{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", "does not read")]    // unknown dtype
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", "overlap")] // two tensors share bytes
    [InlineData("""{"w":{"dtype":"F32"}}""", "lacks dtype, shape or data_offsets")]                    // incomplete entry
    [InlineData("""not json""", "not valid JSON")]                                                       // garbage header
    public void Open_LyingHeader_IsTypedError(string header, string expected)
    {
        using var dir = new TempDir();
        string path = dir.Combine("bad.safetensors");
        byte[] h = Encoding.UTF8.GetBytes(header);
        using (var s = File.Create(path))
        {
            s.Write(BitConverter.GetBytes((ulong)h.Length));
            s.Write(h);
            s.Write(new byte[16]);
        }

        var e = Assert.Throws<CorruptCheckpointException>(() => SafeTensorsFile.Open(path));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("bad.safetensors", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_HeaderLengthBeyondFile_IsTypedError()
    {
        using var dir = new TempDir();
        string path = dir.Combine("short.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(1_000_000UL), .. "{}"u8.ToArray()]);

        var e = Assert.Throws<CorruptCheckpointException>(() => SafeTensorsFile.Open(path));
        Assert.Contains("claims 1000000 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckpointFiles_ShardedIndexThatDisagrees_IsTypedError()
    {
        using var dir = new TempDir();
        using var t = torch.ones(2);
        SafeTensorsWriter.Write(dir.Combine("model-00001-of-00002.safetensors"), [new("a", t)]);
        SafeTensorsWriter.Write(dir.Combine("model-00002-of-00002.safetensors"), [new("b", t)]);
        File.WriteAllText(dir.Combine("model.safetensors.index.json"),
            """{"metadata":{},"weight_map":{"a":"model-00002-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}""");

        var e = Assert.Throws<CorruptCheckpointException>(() => CheckpointFiles.Open(dir.Path));
        Assert.Contains("'a'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckpointFiles_Sharded_MapsNamesAndPrefixes()
    {
        using var dir = new TempDir();
        using var t = torch.arange(3, dtype: torch.float32);
        SafeTensorsWriter.Write(dir.Combine("model-00001-of-00002.safetensors"), [new("model.embed_tokens.weight", t)]);
        SafeTensorsWriter.Write(dir.Combine("model-00002-of-00002.safetensors"), [new("visual.patch_embed.proj.weight", t)]);
        File.WriteAllText(dir.Combine("model.safetensors.index.json"),
            """{"metadata":{},"weight_map":{"model.embed_tokens.weight":"model-00001-of-00002.safetensors","visual.patch_embed.proj.weight":"model-00002-of-00002.safetensors"}}""");

        using var files = CheckpointFiles.Open(dir.Path);
        var visual = files.WithPrefix("visual.");
        Assert.Equal(["patch_embed.proj.weight"], visual.Names);
        using var loaded = visual.Load("patch_embed.proj.weight");
        Assert.True(loaded.eq(t).all().item<bool>());
        Assert.Throws<MissingWeightsException>(() => visual.Load("blocks.0.norm1.weight"));
    }
}
