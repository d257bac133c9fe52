namespace Modalities.Image;

/// <summary>
/// PIL's <c>ImageOps.exif_transpose</c> on RGB pixels. Orientation values are EXIF's (= Skia's SKEncodedOrigin):
/// 2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90
/// (PIL's rotations are counter-clockwise); 1 and unknown values leave the image as it is.
/// </summary>
internal static class ExifOrientation
{
    public static RgbImage Apply(RgbImage image, int orientation)
    {
        if (orientation is < 2 or > 8)
        {
            return image;
        }

        int w = image.Width;
        int h = image.Height;
        bool swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        byte[] src = image.Pixels;
        byte[] dst = new byte[src.Length];
        for (int r = 0; r < oh; r++)
        {
            for (int c = 0; c < ow; c++)
            {
                // Source (row, column) of output pixel (r, c).
                (int sr, int sc) = orientation switch
                {
                    2 => (r, w - 1 - c),
                    3 => (h - 1 - r, w - 1 - c),
                    4 => (h - 1 - r, c),
                    5 => (c, r),
                    6 => (h - 1 - c, r),
                    7 => (h - 1 - c, w - 1 - r),
                    _ => (c, w - 1 - r),
                };
                int s = ((sr * w) + sc) * 3;
                int d = ((r * ow) + c) * 3;
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }

        return new RgbImage(dst, ow, oh, image.Source);
    }
}
