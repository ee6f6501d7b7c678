namespace Nabla.Cli;

/// <summary>
/// Turns any gray image into the input MNIST's models saw, the way MNIST's digits were made: white ink on black,
/// the digit's bounding box scaled (area-averaged, so anti-aliased) to fit a 20x20 box keeping its aspect ratio, then
/// placed in the 28x28 field so that its centre of mass sits at the centre. Other field sizes scale the 20/28 box.
/// </summary>
internal static class DigitImage
{
    /// <summary>Ink below this fraction of the image's contrast is background (paper texture, JPEG noise).</summary>
    public const float NoiseFloor = 0.05f;

    /// <summary>An image whose darkest and lightest pixels differ by less than this holds no digit.</summary>
    public const float MinContrast = 0.1f;

    /// <summary>The model input (rows x cols, ink in [0, 1]) and what was done to get it.</summary>
    /// <param name="Pixels">rows x cols, row-major.</param>
    /// <param name="Inverted">The image had a light background and was inverted.</param>
    /// <param name="Blank">No ink found: <paramref name="Pixels"/> is all zeros.</param>
    /// <param name="Box">The digit's bounding box in the source image (height, width).</param>
    /// <param name="Scaled">Its size after scaling into the 20x20 box (height, width).</param>
    public readonly record struct Result(float[] Pixels, bool Inverted, bool Blank, (int H, int W) Box, (int H, int W) Scaled);

    /// <summary>Prepares the h x w image <paramref name="gray"/> (luminance in [0, 1]) for a model of rows x cols inputs.</summary>
    public static Result Prepare(float[] gray, int h, int w, int rows, int cols)
    {
        // MNIST digits are white on black: a light background means dark ink
        bool invert = gray.Average() > 0.5f;
        float lo = float.MaxValue, hi = float.MinValue;
        foreach (float v in gray)
        {
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }
        var output = new float[rows * cols];
        if (hi - lo < MinContrast) return new Result(output, invert, true, (0, 0), (0, 0));

        // ink stretched to [0, 1] from the background level; below the noise floor it is background
        var ink = new float[gray.Length];
        int top = h, bottom = -1, left = w, right = -1;
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++)
            {
                float v = gray[r * w + c];
                float a = (invert ? hi - v : v - lo) / (hi - lo);
                if (a < NoiseFloor) continue;
                ink[r * w + c] = a;
                (top, bottom, left, right) = (Math.Min(top, r), Math.Max(bottom, r), Math.Min(left, c), Math.Max(right, c));
            }
        int bh = bottom - top + 1, bw = right - left + 1;
        var crop = new float[bh * bw];
        for (int r = 0; r < bh; r++) ink.AsSpan((top + r) * w + left, bw).CopyTo(crop.AsSpan(r * bw, bw));

        // fit into the 20x20 box of a 28x28 field, keeping the aspect ratio
        double boxH = rows * 20 / 28.0, boxW = cols * 20 / 28.0, scale = Math.Min(boxH / bh, boxW / bw);
        int sh = Math.Clamp((int)Math.Round(bh * scale, MidpointRounding.AwayFromZero), 1, rows);
        int sw = Math.Clamp((int)Math.Round(bw * scale, MidpointRounding.AwayFromZero), 1, cols);
        var digit = Resize(crop, bh, bw, sh, sw);

        // place it so that its centre of mass (in pixel indices) lands on the field's centre, rows/2 and cols/2
        double mass = 0, my = 0, mx = 0;
        for (int r = 0; r < sh; r++)
            for (int c = 0; c < sw; c++)
            {
                double m = digit[r * sw + c];
                mass += m;
                my += m * r;
                mx += m * c;
            }
        int oy = (int)Math.Round(rows / 2.0 - my / mass, MidpointRounding.AwayFromZero);
        int ox = (int)Math.Round(cols / 2.0 - mx / mass, MidpointRounding.AwayFromZero);
        for (int r = 0; r < sh; r++)
            for (int c = 0; c < sw; c++)
                if ((uint)(r + oy) < (uint)rows && (uint)(c + ox) < (uint)cols) output[(r + oy) * cols + c + ox] = digit[r * sw + c];
        return new Result(output, invert, false, (bh, bw), (sh, sw));
    }

    /// <summary>Box-filter resize (each output pixel averages the source pixels its area covers, weighted by overlap).</summary>
    private static float[] Resize(float[] src, int h, int w, int outH, int outW)
    {
        if (h == outH && w == outW) return (float[])src.Clone();
        var dst = new float[outH * outW];
        double sy = (double)h / outH, sx = (double)w / outW;
        for (int r = 0; r < outH; r++)
        {
            for (int c = 0; c < outW; c++)
            {
                double y0 = r * sy, y1 = y0 + sy, x0 = c * sx, x1 = x0 + sx, sum = 0, wsum = 0;
                for (int yy = (int)y0; yy < Math.Min(h, (int)Math.Ceiling(y1)); yy++)
                {
                    double wy = Math.Min(yy + 1, y1) - Math.Max(yy, y0);
                    for (int xx = (int)x0; xx < Math.Min(w, (int)Math.Ceiling(x1)); xx++)
                    {
                        double wx = Math.Min(xx + 1, x1) - Math.Max(xx, x0);
                        sum += wy * wx * src[yy * w + xx];
                        wsum += wy * wx;
                    }
                }
                dst[r * outW + c] = (float)(sum / wsum);
            }
        }
        return dst;
    }
}

/// <summary>Lets tests compare `nabla predict`'s input with a reference preprocessing (the CLI's types are internal).</summary>
public static class DigitImageTestHook
{
    /// <summary>The rows x cols model input `nabla predict` makes from the h x w gray image (luminance in [0, 1]).</summary>
    public static float[] Prepare(float[] gray, int h, int w, int rows, int cols) => DigitImage.Prepare(gray, h, w, rows, cols).Pixels;
}
