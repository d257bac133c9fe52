using JudgeHost.Abstractions;
using TorchSharp;

namespace TimeSeriesModality;

/// <summary>
/// Encodes numeric series for any backbone: the checkpoint carries a linear projection
/// <c>timeseries_encoder.proj.weight [hidden, patch]</c> and <c>timeseries_encoder.proj.bias [hidden]</c>.
/// </summary>
public sealed class TimeSeriesEncoderFactory(TimeSeriesOptions options) : IModalityEncoderFactory
{
    public string Modality => "timeseries";

    public IReadOnlyList<string> Families => [];

    public string WeightPrefix => "timeseries_encoder.";

    public IModalityEncoder Create(EncoderContext context)
    {
        foreach (string name in new[] { "proj.weight", "proj.bias" })
        {
            if (!context.Weights.Contains(name))
            {
                throw new MissingWeightsException(
                    $"The timeseries plugin needs tensor '{WeightPrefix}{name}' but the checkpoint in '{context.ModelDirectory}' lacks it. Use a checkpoint trained with a time-series encoder.");
            }
        }

        long[] shape = context.Weights.GetShape("proj.weight");
        if (shape.Length != 2 || shape[0] != context.HiddenSize || shape[1] != options.PatchLength)
        {
            throw new MissingWeightsException(
                $"'{WeightPrefix}proj.weight' has shape [{string.Join(", ", shape)}]; expected [{context.HiddenSize}, {options.PatchLength}] (hidden size, Modalities:TimeSeries:PatchLength).");
        }

        var weight = context.Weights.Load("proj.weight", torch.ScalarType.Float32);
        var bias = context.Weights.Load("proj.bias", torch.ScalarType.Float32);
        return new TimeSeriesEncoder(weight, bias, options, context.DType, context.Device);
    }
}
