using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using TorchSharp;

namespace JudgeHost.Tests.Backbone;

public sealed class DTypeNamesTests
{
    [Theory]
    [InlineData("float32", torch.ScalarType.Float32)]
    [InlineData("fp32", torch.ScalarType.Float32)]
    [InlineData("BF16", torch.ScalarType.BFloat16)]
    [InlineData("bfloat16", torch.ScalarType.BFloat16)]
    [InlineData("float16", torch.ScalarType.Float16)]
    public void Parse_AcceptsFullAndShortNames(string name, torch.ScalarType expected)
    {
        Assert.Equal(expected, DTypeNames.Parse(name, "--dtype", torch.ScalarType.Float32, torch.ScalarType.BFloat16, torch.ScalarType.Float16));
        Assert.Equal(expected, DTypeNames.FromConfig(DTypeNames.Name(expected), torch.ScalarType.Float64));
    }

    [Fact]
    public void Parse_RefusesWhatTheCommandDoesNotSupport_ListingWhatItDoes()
    {
        var e = Assert.Throws<JudgeHostException>(() => DTypeNames.Parse("float16", "--dtype", torch.ScalarType.Float32, torch.ScalarType.BFloat16));
        Assert.Equal("--dtype 'float16' is not supported; use float32 or bfloat16.", e.Message);
        Assert.Throws<JudgeHostException>(() => DTypeNames.Parse("int8", "--dtype", torch.ScalarType.Float32));
        Assert.Equal(torch.ScalarType.Float32, DTypeNames.FromConfig(null, torch.ScalarType.Float32));
        Assert.Equal(torch.ScalarType.Float32, DTypeNames.FromConfig("int8", torch.ScalarType.Float32));
    }
}
