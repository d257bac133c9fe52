namespace Modalities.Image;

/// <summary>
/// Makes SkiaSharp's first GIF frame match PIL's <c>convert("RGB")</c> where Skia leaves pixels transparent.
/// PIL keeps frame 0 in mode "P": it starts from a canvas filled with the transparency index (or index 0 when the
/// GIF has none), draws the frame's indices over it, and <c>convert("RGB")</c> maps every index, the transparent one
/// included, through the palette. Skia writes transparent pixels (the transparent index, and the canvas outside a
/// frame smaller than the screen) as alpha 0 without a colour. So every alpha-0 pixel gets the palette colour of
/// that fill index. Only the GIF header is parsed here; the LZW data stay Skia's.
/// </summary>
internal static class GifFirstFrame
{
    /// <summary>The RGB colour PIL gives pixels that Skia decoded as transparent, or null if the header is unusual.</summary>
    public static (byte R, byte G, byte B)? TransparentFill(ReadOnlySpan<byte> gif)
    {
        if (gif.Length < 13)
        {
            return null;
        }

        int pos = 13;
        byte screenFlags = gif[10];
        ReadOnlySpan<byte> globalTable = default;
        if ((screenFlags & 0x80) != 0)
        {
            int size = 3 << ((screenFlags & 7) + 1);
            if (gif.Length < pos + size)
            {
                return null;
            }

            globalTable = gif.Slice(pos, size);
            pos += size;
        }

        int? transparentIndex = null;
        while (pos < gif.Length)
        {
            byte block = gif[pos++];
            if (block == 0x21)
            {
                // Extension: a label, then data sub-blocks up to a zero length. A Graphic Control Extension with the
                // transparency flag sets the index; one without leaves it, as PIL's reader does.
                if (pos >= gif.Length)
                {
                    return null;
                }

                byte label = gif[pos++];
                bool first = true;
                while (pos < gif.Length && gif[pos] != 0)
                {
                    int len = gif[pos];
                    if (pos + 1 + len > gif.Length)
                    {
                        return null;
                    }

                    if (label == 0xF9 && first && len >= 4 && (gif[pos + 1] & 1) != 0)
                    {
                        transparentIndex = gif[pos + 4];
                    }

                    first = false;
                    pos += 1 + len;
                }

                pos++;
            }
            else if (block == 0x2C)
            {
                // Image descriptor: x, y, width, height (u16 each), then flags; a local colour table replaces the global one.
                if (pos + 9 > gif.Length)
                {
                    return null;
                }

                byte flags = gif[pos + 8];
                ReadOnlySpan<byte> table = globalTable;
                if ((flags & 0x80) != 0)
                {
                    int size = 3 << ((flags & 7) + 1);
                    if (gif.Length < pos + 9 + size)
                    {
                        return null;
                    }

                    table = gif.Slice(pos + 9, size);
                }

                int index = transparentIndex ?? 0;
                return table.Length >= (3 * index) + 3
                    ? (table[3 * index], table[(3 * index) + 1], table[(3 * index) + 2])
                    : null;
            }
            else
            {
                return null; // trailer or garbage before any image
            }
        }

        return null;
    }

    /// <summary>Gives every alpha-0 pixel of an unpremultiplied RGBA buffer the colour PIL would show there.</summary>
    public static void FillTransparent(ReadOnlySpan<byte> gif, Span<byte> rgba)
    {
        if (TransparentFill(gif) is not var (r, g, b))
        {
            return;
        }

        for (int i = 0; i + 3 < rgba.Length; i += 4)
        {
            if (rgba[i + 3] == 0)
            {
                rgba[i] = r;
                rgba[i + 1] = g;
                rgba[i + 2] = b;
            }
        }
    }
}
