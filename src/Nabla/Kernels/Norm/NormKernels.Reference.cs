using System.Numerics;

namespace Nabla.Kernels;

// Plain reference loops of the normalisation kernels, in float64; the tests compare the fast kernels against them.
internal static partial class NormKernels
{
    /// <summary>Reference of <see cref="Sum{T}"/>.</summary>
    public static double SumReference<T>(ReadOnlySpan<T> x) where T : IFloatingPointIeee754<T>
    {
        double s = 0;
        foreach (var v in x) s += double.CreateTruncating(v);
        return s;
    }

    /// <summary>Reference of <see cref="SumSqDev{T}"/>.</summary>
    public static double SumSqDevReference<T>(ReadOnlySpan<T> x, double m) where T : IFloatingPointIeee754<T>
    {
        double s = 0;
        foreach (var v in x) s += (double.CreateTruncating(v) - m) * (double.CreateTruncating(v) - m);
        return s;
    }

    /// <summary>Reference of <see cref="Moments{T}"/>: a plain two-pass mean and M2 in float64.</summary>
    public static (double Mean, double M2) MomentsReference<T>(ReadOnlySpan<T> x, int segCount, int segStride, int segLen) where T : IFloatingPointIeee754<T>
    {
        double s = 0;
        for (int k = 0; k < segCount; k++)
            for (int i = 0; i < segLen; i++) s += double.CreateTruncating(x[k * segStride + i]);
        double mean = s / ((double)segCount * segLen), m2 = 0;
        for (int k = 0; k < segCount; k++)
            for (int i = 0; i < segLen; i++)
            {
                double d = double.CreateTruncating(x[k * segStride + i]) - mean;
                m2 += d * d;
            }
        return (mean, m2);
    }

    /// <summary>Reference of <see cref="SumDevSq{T}"/>.</summary>
    public static (double SumDev, double SumSqDev) SumDevSqReference<T>(ReadOnlySpan<T> x, double m) where T : IFloatingPointIeee754<T>
    {
        double s1 = 0, s2 = 0;
        foreach (var v in x)
        {
            double d = double.CreateTruncating(v) - m;
            s1 += d;
            s2 += d * d;
        }
        return (s1, s2);
    }

    /// <summary>Reference of <see cref="ScaleShift{T}"/>.</summary>
    public static void ScaleShiftReference<T>(ReadOnlySpan<T> x, T a, T b, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * a + b;
    }

    /// <summary>Reference of <see cref="SumGradDev{T}"/>.</summary>
    public static (double SumG, double SumGDev) SumGradDevReference<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, double m) where T : IFloatingPointIeee754<T>
    {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            s1 += double.CreateTruncating(g[i]);
            s2 += double.CreateTruncating(g[i]) * (double.CreateTruncating(x[i]) - m);
        }
        return (s1, s2);
    }

    /// <summary>Reference of <see cref="LinComb{T}"/>.</summary>
    public static void LinCombReference<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T k1, T k2, T k3, Span<T> dx) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) dx[i] = g[i] * k1 + x[i] * k2 + k3;
    }

    /// <summary>Reference of <see cref="RowAffine{T}"/>.</summary>
    public static void RowAffineReference<T>(ReadOnlySpan<T> x, T a, T c, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) y[i] = (x[i] * a + c) * w[i] + b[i];
    }

    /// <summary>Reference of <see cref="RowBackwardSums{T}"/>.</summary>
    public static (double S1, double S2) RowBackwardSumsReference<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, T m, T r, Span<T> dw, Span<T> db)
        where T : IFloatingPointIeee754<T>
    {
        double s1 = 0, s2 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double gw = double.CreateTruncating(g[i] * w[i]);
            s1 += gw;
            s2 += gw * double.CreateTruncating(x[i] - m);
            dw[i] += g[i] * (x[i] - m) * r;
            db[i] += g[i];
        }
        return (s1, s2);
    }

    /// <summary>Reference of <see cref="RowBackwardDx{T}"/>.</summary>
    public static void RowBackwardDxReference<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, T r, T k2, T k3, Span<T> dx) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++) dx[i] = g[i] * w[i] * r + x[i] * k2 + k3;
    }
}
