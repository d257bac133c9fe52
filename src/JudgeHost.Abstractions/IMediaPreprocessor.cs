using TorchSharp;

namespace JudgeHost.Abstractions;

/// <summary>
/// Optional: an <see cref="IModalityEncoder"/> that also implements this exposes its preprocessing (the tensors its
/// model consumes before the encoder runs, e.g. <c>pixel_values</c> and <c>image_grid_thw</c>), so users can compare
/// them with the reference processor (<c>judgehost inspect preprocess</c>). Added in contract 1.1.
/// </summary>
public interface IMediaPreprocessor
{
    /// <summary>
    /// Preprocesses one item. Keys are the reference processor's output names; the caller owns and disposes the
    /// tensors (CPU). Throws <see cref="InvalidMediaException"/> for unusable input.
    /// </summary>
    /// <param name="item">The media item.</param>
    IReadOnlyDictionary<string, torch.Tensor> Preprocess(MediaItem item);
}
