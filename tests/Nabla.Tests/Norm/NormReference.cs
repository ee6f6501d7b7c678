namespace Nabla.Tests.Norm;

/// <summary>
/// Independent float64 references for the normalisation layers, written as plain loops straight from the
/// definitions (mean, then biased variance; nothing shared with the library's kernels).
/// </summary>
internal static class NormReference
{
    /// <summary>Normalises x viewed as (N, C, L): the units are given by <paramref name="unitOf"/>(n, c) and the affine by channel.</summary>
    private static double[] Normalize(double[] x, int n, int c, int l, Func<int, int, int> unitOf, int units, double eps,
        double[]? w, double[]? b, double[]? fixedMean = null, double[]? fixedVar = null)
    {
        var sum = new double[units];
        var cnt = new double[units];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
                for (int k = 0; k < l; k++)
                {
                    sum[unitOf(i, j)] += x[(i * c + j) * l + k];
                    cnt[unitOf(i, j)]++;
                }
        var mean = fixedMean ?? sum.Select((s, u) => s / cnt[u]).ToArray();
        var sq = new double[units];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
                for (int k = 0; k < l; k++)
                {
                    double d = x[(i * c + j) * l + k] - mean[unitOf(i, j)];
                    sq[unitOf(i, j)] += d * d;
                }
        var variance = fixedVar ?? sq.Select((s, u) => s / cnt[u]).ToArray();
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
                for (int k = 0; k < l; k++)
                {
                    int u = unitOf(i, j), at = (i * c + j) * l + k;
                    y[at] = (x[at] - mean[u]) / Math.Sqrt(variance[u] + eps) * (w?[j] ?? 1) + (b?[j] ?? 0);
                }
        return y;
    }

    public static double[] BatchNormTrain(double[] x, int n, int c, int l, double eps, double[]? w, double[]? b) =>
        Normalize(x, n, c, l, (_, j) => j, c, eps, w, b);

    public static double[] BatchNormEval(double[] x, int n, int c, int l, double eps, double[]? w, double[]? b, double[] rm, double[] rv) =>
        Normalize(x, n, c, l, (_, j) => j, c, eps, w, b, rm, rv);

    public static double[] GroupNorm(double[] x, int n, int c, int l, int groups, double eps, double[]? w, double[]? b) =>
        Normalize(x, n, c, l, (i, j) => i * groups + j / (c / groups), n * groups, eps, w, b);

    /// <summary>Per-channel batch mean and unbiased variance of x as (N, C, L).</summary>
    public static (double[] Mean, double[] UnbiasedVar) ChannelStats(double[] x, int n, int c, int l)
    {
        var mean = new double[c];
        var v = new double[c];
        for (int j = 0; j < c; j++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
                for (int k = 0; k < l; k++) s += x[(i * c + j) * l + k];
            mean[j] = s / (n * l);
            double q = 0;
            for (int i = 0; i < n; i++)
                for (int k = 0; k < l; k++) q += Math.Pow(x[(i * c + j) * l + k] - mean[j], 2);
            v[j] = q / (n * l - 1);
        }
        return (mean, v);
    }

    /// <summary>LayerNorm (rms false) or RMSNorm (rms true) of rows of d values.</summary>
    public static double[] RowNorm(double[] x, int d, double eps, double[]? w, double[]? b, bool rms)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / d; r++)
        {
            double mean = 0;
            if (!rms)
            {
                for (int i = 0; i < d; i++) mean += x[r * d + i];
                mean /= d;
            }
            double v = 0;
            for (int i = 0; i < d; i++) v += Math.Pow(x[r * d + i] - mean, 2);
            v /= d;
            for (int i = 0; i < d; i++)
                y[r * d + i] = (x[r * d + i] - mean) / Math.Sqrt(v + eps) * (w?[i] ?? 1) + (b?[i] ?? 0);
        }
        return y;
    }

    public static void AssertClose(double[] expected, double[] actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]);
            Assert.True(err <= atol + rtol * Math.Abs(expected[i]), $"{what}: element {i}: expected {expected[i]:G17}, got {actual[i]:G17} (|diff| {err:G3})");
        }
    }
}
