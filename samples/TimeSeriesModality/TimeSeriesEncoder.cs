using System.Globalization;
using JudgeHost.Abstractions;
using TorchSharp;

namespace TimeSeriesModality;

/// <summary>
/// Series → z-normalised (per series, as RevIN does) → right-padded with its last value to whole patches →
/// linear projection: one embedding row per patch, laid out as a 1-D sequence.
/// </summary>
public sealed class TimeSeriesEncoder : IModalityEncoder
{
    private readonly torch.Tensor _weight;   // [hidden, patch]
    private readonly torch.Tensor _bias;     // [hidden]
    private readonly TimeSeriesOptions _options;
    private readonly torch.ScalarType _dtype;
    private readonly torch.Device _device;

    public TimeSeriesEncoder(torch.Tensor weight, torch.Tensor bias, TimeSeriesOptions options, torch.ScalarType dtype, torch.Device device)
    {
        _weight = weight;
        _bias = bias;
        _options = options;
        _dtype = dtype;
        _device = device;
    }

    public EncodedMedia Encode(MediaItem item, CancellationToken cancellationToken = default)
    {
        float[] series = Read(item);
        int patch = _options.PatchLength;
        int patches = (series.Length + patch - 1) / patch;
        float[] padded = new float[patches * patch];
        series.CopyTo(padded, 0);
        Array.Fill(padded, series[^1], series.Length, padded.Length - series.Length);

        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(padded).reshape(patches, patch);                      // [patches, patch]
        var mean = torch.tensor(series).mean();
        var std = torch.tensor(series).std(unbiased: false);
        x = (x - mean) / (std + 1e-5f);
        var embeddings = torch.nn.functional.linear(x, _weight, _bias);            // [patches, hidden]
        var result = embeddings.to(_dtype, _device).MoveToOuterDisposeScope();
        return new EncodedMedia(result, new PositionLayout.Sequence(patches));
    }

    public void Dispose()
    {
        _weight.Dispose();
        _bias.Dispose();
    }

    private float[] Read(MediaItem item)
    {
        string text;
        if (item.Path is { } path)
        {
            if (!File.Exists(path))
            {
                throw new InvalidMediaException($"Time series file '{path}' does not exist. Check the path in the request.");
            }

            text = File.ReadAllText(path);
        }
        else
        {
            text = item.Value ?? "";
        }

        string[] fields = text.Split([',', '\n', '\r', ';', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 0)
        {
            throw new InvalidMediaException($"{item.Describe()} holds no numbers. Give comma- or newline-separated values.");
        }

        if (fields.Length > _options.MaxPoints)
        {
            throw new InvalidMediaException($"{item.Describe()} has {fields.Length} points; the limit is {_options.MaxPoints} (Modalities:TimeSeries:MaxPoints). Downsample it.");
        }

        var values = new float[fields.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            if (!float.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
            {
                throw new InvalidMediaException($"{item.Describe()}: value {i + 1} ('{fields[i]}') is not a finite number.");
            }
        }

        return values;
    }
}
