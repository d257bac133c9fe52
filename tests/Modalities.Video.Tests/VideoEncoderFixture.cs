using JudgeHost.Abstractions;
using JudgeHost.Backbone;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace Modalities.Video.Tests;

/// <summary>The video encoder on the committed tiny Qwen2.5-VL checkpoint.</summary>
internal static class VideoEncoderFixture
{
    public static Qwen25VideoEncoder Create(VideoPluginSettings? settings = null)
    {
        string dir = VideoFixtures.TinyVlCheckpoint;
        var config = ModelConfigFile.Read(dir);
        var decoder = DecoderConfig.Load(dir);
        using var files = CheckpointFiles.Open(dir);
        var factory = Qwen25VideoEncoderFactory.ForQwen25VL(settings ?? new VideoPluginSettings());
        return (Qwen25VideoEncoder)factory.Create(new EncoderContext
        {
            Family = "qwen2_5_vl",
            Config = config,
            HiddenSize = decoder.HiddenSize,
            Device = CPU,
            DType = ScalarType.Float32,
            Weights = files.WithPrefix("visual."),
            ModelDirectory = dir,
            Logger = NullLogger.Instance,
        });
    }
}
