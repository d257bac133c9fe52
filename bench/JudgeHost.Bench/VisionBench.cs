extern alias video;

using System.Diagnostics;
using JudgeHost.Backbone;
using Modalities.Image;
using static TorchSharp.torch;
using VideoReader = video::Modalities.Video.FfmpegVideoReader;
using VideoSettings = video::Modalities.Video.VideoPluginSettings;

namespace JudgeHost.Bench;

/// <summary>
/// Time to decode + preprocess a 448x448 image and to run the Qwen2.5-VL-7B-shaped vision tower on it (random
/// weights), beside the decoder's time for one judgment on the same machine (Qwen2-0.5B-shaped bf16 decoder:
/// prefill of the prompt with the image tokens, then 64 generated tokens). Then the same for an 8-second 640x360
/// 30 fps H.264 video (made with ffmpeg): decode + sample (2 fps, 16 frames) + resize + patchify, and the tower on
/// its 8 temporal patches.
/// </summary>
public static class VisionBench
{
    public static int Run(bool quick, TextWriter output)
    {
        var config = quick
            ? new Qwen25VisionConfig(8, 1280, 3420, 16, 14, 2, 2, 112, [7], 896, 3)
            : new Qwen25VisionConfig(32, 1280, 3420, 16, 14, 2, 2, 112, [7, 15, 23, 31], 896, 3);
        output.WriteLine($"# vision benchmark: {config.Depth}-block tower (hidden 1280, as Qwen2.5-VL), fp32, threads {get_num_threads()}");

        string png = Path.Combine(Path.GetTempPath(), "judgehost-bench-448.png");
        WriteTestImage(png, 448, 448);
        var clock = Stopwatch.StartNew();
        var image = ImageDecoder.DecodeFile(png);
        var features = Qwen2VLImageProcessor.Preprocess(image, Qwen2VLImageOptions.Default);
        double preprocess = clock.Elapsed.TotalMilliseconds;
        output.WriteLine($"decode + preprocess 448x448 PNG: {preprocess:F1} ms -> {features.Rows} patches, {features.TokenCount} tokens");

        using var tower = new Qwen25VisionTower(config);
        using (no_grad())
        {
            var gen = manual_seed(1);
            foreach (var p in tower.parameters())
            {
                p.normal_(0, 0.02, generator: gen);
            }
        }

        using var pixels = tensor(features.PixelValues).view(features.Rows, features.Columns);
        tower.forward(pixels, [(features.GridT, features.GridH, features.GridW)]).Dispose();   // warm-up
        clock.Restart();
        using var embeddings = tower.forward(pixels, [(features.GridT, features.GridH, features.GridW)]);
        double encode = clock.Elapsed.TotalMilliseconds;
        output.WriteLine($"vision tower ({config.Depth} blocks): {encode:F0} ms for {features.Rows} patches -> [{string.Join(", ", embeddings.shape)}]");

        string dir = Path.Combine(Path.GetTempPath(), $"judgehost-bench-896-{ScalarType.BFloat16}");
        if (!File.Exists(Path.Combine(dir, "model.safetensors")))
        {
            TinyCheckpoint.Write(dir, "qwen2", TinyCheckpoint.Qwen2HalfB, tied: true, seed: 1, dtype: ScalarType.BFloat16);
        }

        var (model, _) = CheckpointLoader.Load(dir, ScalarType.BFloat16, CPU);
        using (model)
        {
            var generator = new TextGenerator(model);
            int[] text = Enumerable.Range(0, 120).Select(i => (i * 7919) % 150000).ToArray();
            using var imageRows = embeddings.to(ScalarType.BFloat16);
            var input = new SequenceInput([new SequenceSegment.Tokens(text[..60]), new SequenceSegment.Embeddings(imageRows), new SequenceSegment.Tokens(text[60..])]);
            clock.Restart();
            generator.Generate([input], quick ? 16 : 64, SamplingOptions.Greedy, []);
            double judge = clock.Elapsed.TotalMilliseconds;
            var t = generator.LastTimings;
            output.WriteLine($"decoder, one judgment: prefill {t.PrefillTokens} tokens {t.PrefillSeconds * 1000:F0} ms + {t.DecodeTokens + 1} generated tokens {t.DecodeSeconds * 1000:F0} ms = {judge:F0} ms");
            output.WriteLine($"ratio: image preprocessing + tower = {(preprocess + encode) / judge:P1} of the decoder's time for one judgment");
            var (videoPreprocess, videoEncode, videoTokens) = Video(tower, output);
            output.WriteLine($"ratio: 8-s video preprocessing + tower = {(videoPreprocess + videoEncode) / judge:P1} of the decoder's time for one judgment (which would also prefill {videoTokens} more tokens)");
        }

        return 0;
    }

    private static (double Preprocess, double Encode, int Tokens) Video(Qwen25VisionTower tower, TextWriter output)
    {
        string mp4 = Path.Combine(Path.GetTempPath(), "judgehost-bench-8s-640x360.mp4");
        if (!File.Exists(mp4))
        {
            using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg", $"-y -nostdin -loglevel error -f lavfi -i testsrc2=size=640x360:rate=30:duration=8 -c:v libx264 -pix_fmt yuv420p -preset veryfast {mp4}"))!;
            ffmpeg.WaitForExit();
        }

        var settings = new VideoSettings();
        var clock = Stopwatch.StartNew();
        var sampled = new VideoReader(settings).Read(mp4, settings.Sampling, mp4);
        var features = video::Modalities.Video.Qwen25VideoEncoder.Patchify(sampled, video::Modalities.Image.Qwen2VLImageOptions.Default);
        double preprocess = clock.Elapsed.TotalMilliseconds;
        output.WriteLine($"8-s video 640x360 30 fps: decode + sample {sampled.Frames.Count} of {sampled.TotalFrames} frames + resize to {sampled.Width}x{sampled.Height} + patchify: {preprocess:F0} ms -> {features.Rows} patches, {features.TokenCount} tokens");

        using var pixels = tensor(features.PixelValues).view(features.Rows, features.Columns);
        clock.Restart();
        using var embeddings = tower.forward(pixels, [(features.GridT, features.GridH, features.GridW)]);
        double encode = clock.Elapsed.TotalMilliseconds;
        output.WriteLine($"vision tower ({tower.Config.Depth} blocks) on the video: {encode:F0} ms for {features.Rows} patches -> [{string.Join(", ", embeddings.shape)}]");
        return (preprocess, encode, features.TokenCount);
    }

    private static void WriteTestImage(string path, int width, int height)
    {
        using var bitmap = new SkiaSharp.SKBitmap(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SkiaSharp.SKColor((byte)x, (byte)y, (byte)((x * y) >> 8)));
            }
        }

        using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
