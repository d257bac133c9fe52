namespace TimeSeriesModality;

/// <summary>Settings of the time-series plugin.</summary>
public sealed class TimeSeriesOptions
{
    /// <summary>Points per patch (one embedding row per patch). Must match the checkpoint's projection.</summary>
    public int PatchLength { get; set; } = 8;

    /// <summary>Longest series accepted.</summary>
    public int MaxPoints { get; set; } = 65536;
}
