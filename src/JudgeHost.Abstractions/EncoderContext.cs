using System.Text.Json;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace JudgeHost.Abstractions;

/// <summary>What an encoder factory knows about the model it feeds.</summary>
public sealed class EncoderContext
{
    /// <summary>Checkpoint family: <c>model_type</c> of <c>config.json</c>, e.g. <c>qwen2_5_vl</c>.</summary>
    public required string Family { get; init; }

    /// <summary>The root of the checkpoint's <c>config.json</c> (read it for e.g. <c>vision_config</c>).</summary>
    public required JsonElement Config { get; init; }

    /// <summary>Hidden size of the language backbone: every embedding row must have this many columns.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Device the backbone runs on; put embeddings there.</summary>
    public required torch.Device Device { get; init; }

    /// <summary>Floating-point type of the backbone; return embeddings in this type.</summary>
    public required torch.ScalarType DType { get; init; }

    /// <summary>The checkpoint tensors under the factory's <see cref="IModalityEncoderFactory.WeightPrefix"/>, prefix removed.</summary>
    public required IWeightSource Weights { get; init; }

    /// <summary>Directory of the checkpoint (for side files such as <c>preprocessor_config.json</c>).</summary>
    public required string ModelDirectory { get; init; }

    /// <summary>Logger for the plugin.</summary>
    public required ILogger Logger { get; init; }
}
