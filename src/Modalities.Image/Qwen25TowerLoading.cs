using JudgeHost.Abstractions;

namespace Modalities.Image;

/// <summary>
/// What the image and video encoders of a Qwen2.5-VL or Qwen2.5-Omni checkpoint both start from (compiled into both
/// plugins). Omni's tower is Qwen2.5-VL's with split q/k/v attention linears (<see cref="FusedQkvWeights"/>).
/// </summary>
public static class Qwen25TowerLoading
{
    /// <summary>
    /// Checks that the vision merger feeds the language model's hidden size, reads the checkpoint's
    /// preprocessor_config.json (or the released defaults), and loads the tower's <c>visual.*</c> (Omni:
    /// <c>thinker.visual.*</c>) weights.
    /// </summary>
    /// <exception cref="CorruptCheckpointException">vision_config.out_hidden_size differs from the language model's hidden size.</exception>
    public static (Qwen25VisionTower Tower, Qwen2VLImageOptions Options) Load(EncoderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = Qwen25VisionConfig.From(context.Config);
        if (config.OutHiddenSize != context.HiddenSize)
        {
            throw new CorruptCheckpointException($"vision_config.out_hidden_size is {config.OutHiddenSize} but the language model's hidden size is {context.HiddenSize}; the checkpoint is inconsistent.");
        }

        string preprocessor = Path.Combine(context.ModelDirectory, "preprocessor_config.json");
        var options = File.Exists(preprocessor) ? Qwen2VLImageOptions.FromPreprocessorConfig(preprocessor) : Qwen2VLImageOptions.Default;
        var tower = new Qwen25VisionTower(config);
        try
        {
            tower.Load(FusedQkvWeights.Wrap(context.Weights));
            return (tower, options);
        }
        catch
        {
            tower.Dispose();
            throw;
        }
    }
}
