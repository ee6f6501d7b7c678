namespace Nabla.Data;

/// <summary>How a geometric transform reads the source image between pixel centres.</summary>
public enum Interpolation
{
    /// <summary>The nearest source pixel (labels and masks keep their values).</summary>
    Nearest,

    /// <summary>The distance-weighted mean of the four surrounding source pixels.</summary>
    Bilinear,
}

/// <summary>
/// Per-sample transforms usable as a <see cref="SampleTransform"/> of a <see cref="DataLoader"/>: normalisation and
/// seeded random geometric augmentations of H×W images (or of each channel of a C×H×W image). Geometric transforms
/// fill pixels that come from outside the image with zeros. Every random transform draws the same number of values
/// from the generator for every sample, so a seed gives the same augmentations everywhere.
/// </summary>
public static class Transforms
{
    /// <summary>Applies <paramref name="transforms"/> one after another (null entries are skipped).</summary>
    public static SampleTransform Compose(params SampleTransform?[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        var list = transforms.Where(t => t is not null).Cast<SampleTransform>().ToArray();
        return (sample, g) =>
        {
            foreach (var t in list) t(sample, g);
        };
    }

    /// <summary>
    /// x ← (x − mean) / std for every value (one mean and std for all channels). Shape: any sample shape.
    /// MNIST's usual constants are mean 0.1307, std 0.3081.
    /// </summary>
    public static SampleTransform Normalize(float mean, float std) => Normalize([mean], [std]);

    /// <summary>
    /// x ← (x − mean[c]) / std[c] for channel c of a C×H×W sample (the sample is split into
    /// <paramref name="mean"/>.Length equal planes). Shape: (C, H, W) with C = mean.Length.
    /// </summary>
    public static SampleTransform Normalize(float[] mean, float[] std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length == 0 || mean.Length != std.Length)
            throw new ArgumentException($"Normalize: mean and std need the same, non-zero number of channels, got {mean.Length} and {std.Length}.");
        foreach (float s in std)
            if (!(s > 0) || !float.IsFinite(s)) throw new ArgumentOutOfRangeException(nameof(std), $"Normalize: every std must be finite and > 0, got {s}.");
        var m = (float[])mean.Clone();
        var inv = std.Select(s => 1f / s).ToArray();
        return (sample, _) =>
        {
            if (sample.Length % m.Length != 0)
                throw new ArgumentException($"Normalize: a sample of {sample.Length} values does not split into {m.Length} channels.");
            int plane = sample.Length / m.Length;
            for (int c = 0; c < m.Length; c++)
            {
                var p = sample.Slice(c * plane, plane);
                for (int i = 0; i < p.Length; i++) p[i] = (p[i] - m[c]) * inv[c];
            }
        };
    }

    /// <summary>
    /// Shifts an H×W image (or each channel of a C×H×W image) by a random whole number of pixels in [−max, max]
    /// along each axis, filling with zeros (a shift by the image's size or more leaves only zeros).
    /// </summary>
    public static SampleTransform RandomShift(int maxShift, int height, int width)
    {
        if (maxShift < 0) throw new ArgumentOutOfRangeException(nameof(maxShift), $"RandomShift: max shift must be ≥ 0, got {maxShift}.");
        CheckSize("RandomShift", height, width);
        return (sample, g) =>
        {
            int dy = (int)g.NextInt64(-maxShift, maxShift + 1), dx = (int)g.NextInt64(-maxShift, maxShift + 1);
            if (dx == 0 && dy == 0) return;
            int plane = height * width;
            if (sample.Length % plane != 0) throw new ArgumentException($"RandomShift: a sample of {sample.Length} values is not a stack of {height}x{width} images.");
            var copy = plane <= 4096 ? stackalloc float[plane] : new float[plane];
            for (int c = 0; c < sample.Length / plane; c++)
            {
                var img = sample.Slice(c * plane, plane);
                img.CopyTo(copy);
                img.Clear();
                for (int r = 0; r < height; r++)
                {
                    int sr = r - dy;
                    int c0 = Math.Max(0, dx), c1 = Math.Min(width, width + dx);
                    if ((uint)sr >= (uint)height || c1 <= c0) continue;
                    copy.Slice(sr * width + c0 - dx, c1 - c0).CopyTo(img.Slice(r * width + c0, c1 - c0));
                }
            }
        };
    }

    /// <summary>Translates by a uniform random real offset in [−max, max] pixels along each axis (sub-pixel with bilinear).</summary>
    public static SampleTransform RandomTranslation(double maxPixels, int height, int width, Interpolation interpolation = Interpolation.Bilinear) =>
        RandomAffine(0, maxPixels, 1, 1, 0, height, width, interpolation);

    /// <summary>Rotates about the image centre by a uniform random angle in [−degrees, degrees].</summary>
    public static SampleTransform RandomRotation(double degrees, int height, int width, Interpolation interpolation = Interpolation.Bilinear) =>
        RandomAffine(degrees, 0, 1, 1, 0, height, width, interpolation);

    /// <summary>
    /// A random affine map about the image centre, as torchvision's RandomAffine: rotation by an angle in
    /// [−degrees, degrees], scaling by a factor in [scaleMin, scaleMax], shear along x by an angle in [−shear, shear]
    /// degrees, then translation by up to ±<paramref name="translatePixels"/> along each axis. Each output pixel
    /// reads the source at the inverse-mapped point; points outside the image read zero.
    /// Draws 5 uniform values per sample (angle, scale, shear, dx, dy), whatever the ranges.
    /// </summary>
    public static SampleTransform RandomAffine(double degrees, double translatePixels, double scaleMin, double scaleMax, double shear,
        int height, int width, Interpolation interpolation = Interpolation.Bilinear)
    {
        if (!(degrees >= 0) || !double.IsFinite(degrees)) throw new ArgumentOutOfRangeException(nameof(degrees), $"RandomAffine: degrees must be finite and ≥ 0, got {degrees}.");
        if (!(translatePixels >= 0) || !double.IsFinite(translatePixels)) throw new ArgumentOutOfRangeException(nameof(translatePixels), $"RandomAffine: translation must be finite and ≥ 0, got {translatePixels}.");
        if (!(scaleMin > 0) || !(scaleMax >= scaleMin) || !double.IsFinite(scaleMax)) throw new ArgumentOutOfRangeException(nameof(scaleMin), $"RandomAffine: need 0 < scaleMin ≤ scaleMax, got {scaleMin} and {scaleMax}.");
        if (!(shear >= 0) || !(shear < 90)) throw new ArgumentOutOfRangeException(nameof(shear), $"RandomAffine: shear must be in [0, 90) degrees, got {shear}.");
        CheckSize("RandomAffine", height, width);
        return (sample, g) =>
        {
            double angle = (2 * g.NextDouble() - 1) * degrees;
            double scale = scaleMin + g.NextDouble() * (scaleMax - scaleMin);
            double sh = (2 * g.NextDouble() - 1) * shear;
            double tx = (2 * g.NextDouble() - 1) * translatePixels, ty = (2 * g.NextDouble() - 1) * translatePixels;
            Affine(sample, height, width, angle, scale, sh, tx, ty, interpolation);
        };
    }

    /// <summary>
    /// Applies one affine map about the image centre in place to each H×W plane of <paramref name="sample"/>:
    /// forward map p' = c + t + S·R·Sh·(p − c) with rotation R (counter-clockwise on screen for positive degrees),
    /// scale S and x-shear Sh; every output pixel p' samples the input at the inverse image, zero outside.
    /// </summary>
    public static void Affine(Span<float> sample, int height, int width, double degrees, double scale, double shearDegrees,
        double translateX, double translateY, Interpolation interpolation = Interpolation.Bilinear)
    {
        CheckSize("Affine", height, width);
        int plane = height * width;
        if (sample.Length % plane != 0) throw new ArgumentException($"Affine: a sample of {sample.Length} values is not a stack of {height}x{width} images.");
        if (degrees == 0 && scale == 1 && shearDegrees == 0 && translateX == 0 && translateY == 0) return;
        // forward matrix M = S·R·Sh in (x right, y down) coordinates; a positive angle turns the image counter-clockwise on screen
        double a = -degrees * Math.PI / 180, s = Math.Tan(shearDegrees * Math.PI / 180);
        double cos = Math.Cos(a), sin = Math.Sin(a);
        double m00 = scale * cos, m01 = scale * (cos * s - sin), m10 = scale * sin, m11 = scale * (sin * s + cos);
        double det = m00 * m11 - m01 * m10;
        double i00 = m11 / det, i01 = -m01 / det, i10 = -m10 / det, i11 = m00 / det;
        double cx = (width - 1) * 0.5, cy = (height - 1) * 0.5;
        var src = new float[plane];
        for (int ch = 0; ch < sample.Length / plane; ch++)
        {
            var img = sample.Slice(ch * plane, plane);
            img.CopyTo(src);
            for (int r = 0; r < height; r++)
            {
                for (int c = 0; c < width; c++)
                {
                    double u = c - cx - translateX, v = r - cy - translateY;
                    double x = i00 * u + i01 * v + cx, y = i10 * u + i11 * v + cy;
                    img[r * width + c] = interpolation == Interpolation.Nearest ? Nearest(src, height, width, x, y) : Bilinear(src, height, width, x, y);
                }
            }
        }
    }

    private static float Nearest(float[] src, int h, int w, double x, double y)
    {
        int c = (int)Math.Round(x, MidpointRounding.AwayFromZero), r = (int)Math.Round(y, MidpointRounding.AwayFromZero);
        return (uint)r < (uint)h && (uint)c < (uint)w ? src[r * w + c] : 0f;
    }

    // bilinear weights over the four neighbours; each neighbour outside the image contributes zero
    private static float Bilinear(float[] src, int h, int w, double x, double y)
    {
        if (x <= -1 || y <= -1 || x >= w || y >= h) return 0f;
        int c0 = (int)Math.Floor(x), r0 = (int)Math.Floor(y);
        double fx = x - c0, fy = y - r0;
        double v00 = At(src, h, w, r0, c0), v01 = At(src, h, w, r0, c0 + 1), v10 = At(src, h, w, r0 + 1, c0), v11 = At(src, h, w, r0 + 1, c0 + 1);
        return (float)((1 - fy) * ((1 - fx) * v00 + fx * v01) + fy * ((1 - fx) * v10 + fx * v11));
    }

    private static double At(float[] src, int h, int w, int r, int c) => (uint)r < (uint)h && (uint)c < (uint)w ? src[r * w + c] : 0.0;

    private static void CheckSize(string name, int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), $"{name}: image size must be positive, got {height}x{width}.");
    }
}
