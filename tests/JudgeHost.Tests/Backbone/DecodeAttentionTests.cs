using JudgeHost.Backbone;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace JudgeHost.Tests.Backbone;

public class DecodeAttentionTests
{
    [Theory]
    [InlineData(3, 2, 7, 64, 129, true)]    // Qwen2-0.5B decode: 7 query heads per KV head, a cache view narrowed from a longer buffer
    [InlineData(1, 4, 1, 32, 5, false)]     // one query head per KV head, a short context
    [InlineData(16, 2, 14, 64, 40, true)]   // two new tokens per row (a continuation), 16 rows split over the cores
    [InlineData(2, 1, 3, 128, 700, false)]  // a long context, head dimension 128
    public void MatchesLibtorchSdpa(int batch, int heads, int rows, int dim, int length, bool strided)
    {
        if (!DecodeAttention.Supported)
        {
            return; // no AVX-512 here: the model uses libtorch's kernel instead
        }

        var gen = manual_seed(batch + heads + rows + dim + length);
        using var scope = NewDisposeScope();
        var q = randn([batch, heads, rows, dim], generator: gen).to(ScalarType.BFloat16);
        var buffer = randn([batch, heads, length + (strided ? 37 : 0), dim], generator: gen).to(ScalarType.BFloat16);
        var keys = buffer.narrow(2, 0, length);
        var values = (randn([batch, heads, length + (strided ? 37 : 0), dim], generator: gen) * 3).to(ScalarType.BFloat16).narrow(2, 0, length);
        int tokens = rows % 7 == 0 ? rows / 7 : rows;                        // 7 query heads per KV head, or 1
        var mask = rand([batch, 1, tokens, length], generator: gen) > 0.2;   // padding slots anywhere ...
        mask.select(3, length - 1).fill_(true);                              // ... but every row sees its newest key
        Assert.True(DecodeAttention.Applies(q, keys, values));

        var actual = DecodeAttention.Run(q, keys, values, mask).to(ScalarType.Float32);
        // libtorch's view: query row g * S + t of a KV head is query head g's token t, masked by mask row t.
        var full = mask.unsqueeze(2).expand(batch, 1, rows / tokens, tokens, length).reshape(batch, 1, rows, length);
        var libtorch = F.scaled_dot_product_attention(q, keys, values, full).to(ScalarType.Float32);
        var exact = F.scaled_dot_product_attention(q.to(ScalarType.Float64), keys.to(ScalarType.Float64), values.to(ScalarType.Float64), full).to(ScalarType.Float32);

        Assert.Equal(libtorch.shape, actual.shape);
        // As close to the exact result as libtorch's bf16 kernel is (both round the probabilities and the output to bf16).
        double ours = (actual - exact).abs().max().item<float>();
        double theirs = (libtorch - exact).abs().max().item<float>();
        Assert.True(ours <= (1.5 * theirs) + 1e-3, $"managed {ours:G3} vs libtorch {theirs:G3} from the fp64 result");
        Assert.True((actual - libtorch).abs().max().item<float>() <= 4 * theirs + 1e-3);
    }

    [Fact]
    public void AppliesOnlyToBf16CpuDecodeShapes()
    {
        if (!DecodeAttention.Supported)
        {
            return;
        }

        using var q = zeros([1, 2, 7, 64], ScalarType.BFloat16);
        using var kv = zeros([1, 2, 9, 64], ScalarType.BFloat16);
        Assert.True(DecodeAttention.Applies(q, kv, kv));
        using var fp32 = zeros([1, 2, 7, 64]);
        Assert.False(DecodeAttention.Applies(fp32, kv, kv));
        using var prefill = zeros([1, 2, DecodeAttention.MaxQueryRows + 1, 64], ScalarType.BFloat16);
        Assert.False(DecodeAttention.Applies(prefill, kv, kv));
        using var oddDim = zeros([1, 2, 7, 24], ScalarType.BFloat16);
        using var oddKv = zeros([1, 2, 9, 24], ScalarType.BFloat16);
        Assert.False(DecodeAttention.Applies(oddDim, oddKv, oddKv));
    }
}
