using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Modalities.Video;

/// <summary>
/// torchvision's <c>F.resize(uint8 video, [h, w], BICUBIC, antialias=True)</c> as qwen-vl-utils calls it: the frames
/// are cast to float32, resized by <c>interpolate(mode="bicubic", align_corners=False, antialias=True)</c>, clamped to
/// [0, 255], rounded half to even and cast back to uint8. The interpolation is libtorch's own kernel (the one this
/// process runs), so the arithmetic is torch's, not a port of it.
/// </summary>
public static class TorchvisionResize
{
    /// <summary>Resizes one row-major RGB frame; returns row-major RGB bytes of the new size.</summary>
    public static byte[] Bicubic(byte[] rgb, int width, int height, int newWidth, int newHeight)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        using var scope = NewDisposeScope();
        var frame = tensor(rgb).view(1, height, width, 3).permute(0, 3, 1, 2).to(ScalarType.Float32);
        var resized = F.interpolate(frame, size: [newHeight, newWidth], mode: InterpolationMode.Bicubic, align_corners: false, antialias: true);
        var bytes = resized.clamp(0, 255).round().to(ScalarType.Byte).permute(0, 2, 3, 1).contiguous();
        return bytes.data<byte>().ToArray();
    }
}
