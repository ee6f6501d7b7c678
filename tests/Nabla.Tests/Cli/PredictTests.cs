using System.Text.RegularExpressions;

namespace Nabla.Tests.Cli;

/// <summary>`nabla predict` prepares any image as MNIST's digits were made: ink box fitted into 20x20 keeping its aspect ratio, centred by its centre of mass.</summary>
public sealed class PredictTests(TinyRun run) : IClassFixture<TinyRun>
{
    // a dark slanted stroke, anti-aliased, on a light 60x28 canvas, off-centre to the right; it thickens towards its
    // end, so its centre of mass is not at a half pixel (where float and double rounding could part)
    private static float[] WideStroke(out int h, out int w)
    {
        (h, w) = (28, 60);
        var gray = new float[h * w];
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++)
            {
                // distance to the segment (30, 6) → (54, 20)
                double t = Math.Clamp(((c - 30) * 24.0 + (r - 6) * 14.0) / (24 * 24 + 14 * 14), 0, 1);
                double d = Math.Sqrt(Math.Pow(c - 30 - 24 * t, 2) + Math.Pow(r - 6 - 14 * t, 2));
                gray[r * w + c] = (float)(0.95 - 0.9 * Math.Clamp(1.5 + 1.5 * t - d, 0, 1)); // paper 0.95, ink 0.05
            }
        return gray;
    }

    /// <summary>The preprocessing as the issue states it, written independently: invert a light background, stretch the
    /// ink to [0, 1] (below 5% is background), crop its box, area-resample it to fit 20x20, put its centre of mass at (14, 14).</summary>
    private static float[] Reference(float[] gray, int h, int w)
    {
        float lo = gray.Min(), hi = gray.Max();
        bool invert = gray.Average() > 0.5f;
        var ink = gray.Select(v => (invert ? hi - v : v - lo) / (hi - lo)).Select(a => a < 0.05f ? 0f : a).ToArray();
        var rowsWithInk = Enumerable.Range(0, h).Where(r => Enumerable.Range(0, w).Any(c => ink[r * w + c] > 0)).ToList();
        var colsWithInk = Enumerable.Range(0, w).Where(c => Enumerable.Range(0, h).Any(r => ink[r * w + c] > 0)).ToList();
        int top = rowsWithInk[0], bh = rowsWithInk[^1] - top + 1, left = colsWithInk[0], bw = colsWithInk[^1] - left + 1;
        double s = Math.Min(20.0 / bh, 20.0 / bw);
        int sh = (int)Math.Round(bh * s, MidpointRounding.AwayFromZero), sw = (int)Math.Round(bw * s, MidpointRounding.AwayFromZero);
        // separable area averaging: out = Wy · crop · Wxᵀ, W[i, j] = overlap of output cell i with source cell j over the cell's size
        double[,] Weights(int n, int m)
        {
            var wt = new double[n, m];
            double size = (double)m / n;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++) wt[i, j] = Math.Max(0, Math.Min(j + 1, (i + 1) * size) - Math.Max(j, i * size)) / size;
            return wt;
        }
        var wy = Weights(sh, bh);
        var wx = Weights(sw, bw);
        var digit = new double[sh, sw];
        for (int i = 0; i < sh; i++)
            for (int j = 0; j < sw; j++)
                for (int r = 0; r < bh; r++)
                    for (int c = 0; c < bw; c++) digit[i, j] += wy[i, r] * wx[j, c] * ink[(top + r) * w + left + c];
        double mass = 0, my = 0, mx = 0;
        for (int i = 0; i < sh; i++)
            for (int j = 0; j < sw; j++) (mass, my, mx) = (mass + digit[i, j], my + i * digit[i, j], mx + j * digit[i, j]);
        int oy = (int)Math.Round(14 - my / mass, MidpointRounding.AwayFromZero), ox = (int)Math.Round(14 - mx / mass, MidpointRounding.AwayFromZero);
        var result = new float[28 * 28];
        for (int i = 0; i < sh; i++)
            for (int j = 0; j < sw; j++) result[(i + oy) * 28 + j + ox] = (float)digit[i, j];
        return result;
    }

    [Fact]
    public void WideImageKeepsItsAspectRatioAndMatchesTheReference()
    {
        var gray = WideStroke(out int h, out int w);
        var expected = Reference(gray, h, w);
        var actual = Nabla.Cli.DigitImageTestHook.Prepare(gray, h, w, 28, 28);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"pixel {i}: {actual[i]} vs {expected[i]}");
        Assert.InRange(expected.Max(), 0.9f, 1f);
        Assert.Equal(0f, expected.Take(2 * 28).Sum()); // the 20-pixel box leaves the top rows empty

        // the CLI reads the PNG and says what it did: a 28x18 stroke scaled to 20x13, not squashed to 28x28
        string png = Path.Combine(run.Root, "wide.png");
        File.WriteAllBytes(png, Nabla.Cli.PngTestHook.EncodeGray(gray.Select(v => (byte)Math.Round(v * 255)).ToArray(), h, w));
        var (code, output, err) = TinyRun.Run("predict", run.RunDir, png);
        Assert.True(code == 0, err);
        Assert.Equal("", err);
        Assert.Matches(new Regex(@"image: .*wide\.png \(60x28, inverted: light background; digit (\d+)x(\d+) → 20x(\d+), centred by its centre of mass in 28x28\)"), output);
        var m = Regex.Match(output, @"digit (\d+)x(\d+) → 20x(\d+)");
        double aspect = double.Parse(m.Groups[1].Value) / double.Parse(m.Groups[2].Value);
        Assert.InRange(20 / double.Parse(m.Groups[3].Value), aspect - 0.1, aspect + 0.1);
    }

    [Fact]
    public void BlankImageGetsAWarning()
    {
        string png = Path.Combine(run.Root, "blank.png");
        File.WriteAllBytes(png, Nabla.Cli.PngTestHook.EncodeGray(Enumerable.Repeat((byte)250, 40 * 30).ToArray(), 30, 40));
        var (code, output, err) = TinyRun.Run("predict", run.RunDir, png);
        Assert.Equal(0, code);
        Assert.StartsWith("warning: ", err);
        Assert.Contains("is blank", err);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains("prediction:", output);
    }
}
