using static TorchSharp.torch;

namespace JudgeHost.Backbone;

/// <summary>How the next token is chosen. Temperature 0 is greedy (argmax; ties go to the lowest id).</summary>
/// <param name="Temperature">Softmax temperature; 0 = greedy.</param>
/// <param name="TopP">Nucleus mass kept (1 = off), as transformers TopPLogitsWarper.</param>
/// <param name="TopK">Most likely tokens kept (0 = off), as transformers TopKLogitsWarper.</param>
/// <param name="Seed">Seed of the sampling generator; null draws one.</param>
public sealed record SamplingOptions(float Temperature = 0f, float TopP = 1f, int TopK = 0, long? Seed = null)
{
    public static SamplingOptions Greedy { get; } = new();

    public void Validate()
    {
        if (Temperature < 0 || !float.IsFinite(Temperature))
        {
            throw new JudgeHost.Abstractions.JudgeHostException($"Temperature {Temperature} must be 0 (greedy) or positive.");
        }

        if (TopP is <= 0 or > 1)
        {
            throw new JudgeHost.Abstractions.JudgeHostException($"top-p {TopP} must be in (0, 1].");
        }

        if (TopK < 0)
        {
            throw new JudgeHost.Abstractions.JudgeHostException($"top-k {TopK} must be 0 (off) or positive.");
        }
    }
}

/// <summary>Small pure functions over a <c>[B, V]</c> logits matrix (gpt-fast style).</summary>
public static class Sampling
{
    /// <summary>Next token per row. Logits are upcast to float32 first.</summary>
    public static long[] Next(Tensor logits, SamplingOptions options, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var x = logits.to(ScalarType.Float32);                                                     // [B, V]
        if (options.Temperature == 0f)
        {
            return x.argmax(-1).cpu().data<long>().ToArray();
        }

        x = x / options.Temperature;
        if (options.TopK > 0 && options.TopK < x.shape[1])
        {
            var kth = x.topk(options.TopK, dim: -1).values.narrow(-1, options.TopK - 1, 1);      // [B, 1]
            x = x.masked_fill(x < kth, float.NegativeInfinity);
        }

        if (options.TopP < 1f)
        {
            // transformers TopPLogitsWarper: ascending sort, drop the low tail whose mass is <= 1 - top_p, keep >= 1.
            var (sorted, indices) = x.sort(dim: -1, descending: false);
            var cumulative = sorted.softmax(-1).cumsum(-1);
            var remove = cumulative <= (1 - options.TopP);
            remove.narrow(-1, remove.shape[1] - 1, 1).fill_(false);
            var removeOriginal = remove.scatter(-1, indices, remove);
            x = x.masked_fill(removeOriginal, float.NegativeInfinity);
        }

        var probs = x.softmax(-1);
        return multinomial(probs, 1, generator: generator).squeeze(-1).cpu().data<long>().ToArray();
    }
}
