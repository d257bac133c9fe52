using JudgeHost.Abstractions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace TimeSeriesModality;

/// <summary>
/// Registers the <c>timeseries</c> modality. Configuration section <c>Modalities:TimeSeries</c>:
/// <c>PatchLength</c> (default 8) and <c>MaxPoints</c> (default 65536).
/// </summary>
public sealed class TimeSeriesPlugin : IModalityPlugin
{
    public string Name => "TimeSeries";

    public void ConfigureServices(IServiceCollection services, IConfiguration configuration)
    {
        var options = new TimeSeriesOptions
        {
            PatchLength = ReadInt(configuration, nameof(TimeSeriesOptions.PatchLength), 8),
            MaxPoints = ReadInt(configuration, nameof(TimeSeriesOptions.MaxPoints), 65536),
        };
        if (options.PatchLength < 1 || options.MaxPoints < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(configuration), "Modalities:TimeSeries:PatchLength and MaxPoints must be positive.");
        }

        services.AddSingleton(options);
        services.AddSingleton<IModalityEncoderFactory, TimeSeriesEncoderFactory>();
    }

    private static int ReadInt(IConfiguration configuration, string key, int fallback) =>
        configuration[key] is { } text
            ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture)
            : fallback;
}
