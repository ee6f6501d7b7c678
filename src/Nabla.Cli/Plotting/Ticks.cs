using System.Globalization;

namespace Nabla.Cli.Plotting;

/// <summary>"Nice" axis ticks: multiples of 1, 2 or 5 times a power of ten, at most a given number inside a range.</summary>
internal static class Ticks
{
    /// <summary>
    /// The ticks in [lo, hi] with the smallest nice step that gives at most <paramref name="maxCount"/> of them, and
    /// their labels; <paramref name="integers"/> allows only whole-number steps (epochs).
    /// </summary>
    public static (double[] Values, string[] Labels) Nice(double lo, double hi, int maxCount, bool integers)
    {
        maxCount = Math.Max(2, maxCount);
        // the powers of ten by repeated multiplication, not Math.Pow (its last bit may differ between C libraries)
        double scale = 1;
        int exponent = 0;
        double span = hi - lo;
        while (scale * 10 <= span && exponent < 300) { scale *= 10; exponent++; }
        while (scale > span && exponent > -300) { scale /= 10; exponent--; }
        scale /= 10;
        exponent--;
        if (integers && exponent < 0) (scale, exponent) = (1, 0);
        while (true)
        {
            foreach (int m in (ReadOnlySpan<int>)[1, 2, 5])
            {
                double step = m * scale;
                long first = (long)Math.Ceiling(lo / step - 1e-9), last = (long)Math.Floor(hi / step + 1e-9);
                if (last - first + 1 > maxCount) continue;
                var values = new double[Math.Max(0, last - first + 1)];
                for (int i = 0; i < values.Length; i++) values[i] = exponent < 0 ? (first + i) * m / Pow10(-exponent) : (first + i) * step;
                return (values, values.Select(v => Format(v, exponent, hi)).ToArray());
            }
            scale *= 10;
            exponent++;
        }
    }

    private static double Pow10(int n)
    {
        double p = 1;
        for (int i = 0; i < n; i++) p *= 10;
        return p;
    }

    // As many decimals as the step has; very small or large numbers in scientific notation
    private static string Format(double v, int exponent, double hi)
    {
        if (v == 0) return "0";
        if (exponent < -6 || Math.Abs(hi) >= 1e7) return v.ToString("0.##E+0", CultureInfo.InvariantCulture);
        return v.ToString("F" + Math.Max(0, -exponent).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }
}
