using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// The span loops of the normalisation layers (BatchNorm, GroupNorm, InstanceNorm, LayerNorm, RMSNorm): the
/// statistics of a unit (<see cref="Moments{T}"/>), the fused normalise+affine passes and the fused backward passes.
/// Vector512 where accelerated, a scalar loop otherwise (and for tails); each loop keeps one fixed summation order
/// for a given length, so results never depend on the thread count. Plain references: NormKernels.Reference.cs.
/// </summary>
internal static partial class NormKernels
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma<T>(Vector512<T> x, Vector512<T> y, Vector512<T> z)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Load<T>(ReadOnlySpan<T> s, int i) => Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(Vector512<T> v, Span<T> s, int i) => v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    private static bool Simd<T>(int n) => Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count;

    /// <summary>Σ x (four vector accumulators, then the tail).</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        T s = T.Zero;
        if (Simd<T>(n))
        {
            int w = Vector512<T>.Count;
            Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                a0 += Load(x, i);
                a1 += Load(x, i + w);
                a2 += Load(x, i + 2 * w);
                a3 += Load(x, i + 3 * w);
            }
            for (; i + w <= n; i += w) a0 += Load(x, i);
            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) s += x[i];
        return s;
    }

    /// <summary>Σ (x − m)²: the second pass of a two-pass variance over data already in cache.</summary>
    public static T SumSqDev<T>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        T s = T.Zero;
        if (Simd<T>(n))
        {
            int w = Vector512<T>.Count;
            var vm = Vector512.Create(m);
            Vector512<T> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                var d0 = Load(x, i) - vm;
                var d1 = Load(x, i + w) - vm;
                var d2 = Load(x, i + 2 * w) - vm;
                var d3 = Load(x, i + 3 * w) - vm;
                a0 = Fma(d0, d0, a0);
                a1 = Fma(d1, d1, a1);
                a2 = Fma(d2, d2, a2);
                a3 = Fma(d3, d3, a3);
            }
            for (; i + w <= n; i += w)
            {
                var d = Load(x, i) - vm;
                a0 = Fma(d, d, a0);
            }
            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++)
        {
            T d = x[i] - m;
            s = T.FusedMultiplyAdd(d, d, s);
        }
        return s;
    }

    /// <summary>
    /// (Σ (x − m), Σ (x − m)²): the second pass of the corrected two-pass variance. The first sum is the rounding
    /// error of the first pass's mean m, so the mean can be refined to m + Σ(x − m)/n and M2 to Σ(x − m)² − (Σ(x − m))²/n.
    /// </summary>
    public static (T SumDev, T SumSqDev) SumDevSq<T>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        T s1 = T.Zero, s2 = T.Zero;
        if (Simd<T>(n))
        {
            int w = Vector512<T>.Count;
            var vm = Vector512.Create(m);
            Vector512<T> a0 = default, a1 = default, b0 = default, b1 = default;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                var d0 = Load(x, i) - vm;
                var d1 = Load(x, i + w) - vm;
                a0 += d0;
                a1 += d1;
                b0 = Fma(d0, d0, b0);
                b1 = Fma(d1, d1, b1);
            }
            for (; i + w <= n; i += w)
            {
                var d = Load(x, i) - vm;
                a0 += d;
                b0 = Fma(d, d, b0);
            }
            s1 = Vector512.Sum(a0 + a1);
            s2 = Vector512.Sum(b0 + b1);
        }
        for (; i < n; i++)
        {
            T d = x[i] - m;
            s1 += d;
            s2 = T.FusedMultiplyAdd(d, d, s2);
        }
        return (s1, s2);
    }

    /// <summary>y = x·a + b with scalar a, b: normalise and affine fused for one channel (BatchNorm, GroupNorm).</summary>
    public static void ScaleShift<T>(ReadOnlySpan<T> x, T a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        if (Simd<T>(n))
        {
            int w = Vector512<T>.Count;
            Vector512<T> va = Vector512.Create(a), vb = Vector512.Create(b);
            for (; i + 2 * w <= n; i += 2 * w)
            {
                Store(Fma(Load(x, i), va, vb), y, i);
                Store(Fma(Load(x, i + w), va, vb), y, i + w);
            }
            for (; i + w <= n; i += w) Store(Fma(Load(x, i), va, vb), y, i);
        }
        for (; i < n; i++) y[i] = T.FusedMultiplyAdd(x[i], a, b);
    }

    /// <summary>(Σ g, Σ g·(x − m)): the two sums a channel's backward needs (db and dw·σ).</summary>
    public static (T SumG, T SumGDev) SumGradDev<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        T s1 = T.Zero, s2 = T.Zero;
        if (Simd<T>(n))
        {
            int w = Vector512<T>.Count;
            var vm = Vector512.Create(m);
            Vector512<T> a0 = default, a1 = default, b0 = default, b1 = default;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                var g0 = Load(g, i);
                var g1 = Load(g, i + w);
                a0 += g0;
                a1 += g1;
                b0 = Fma(g0, Load(x, i) - vm, b0);
                b1 = Fma(g1, Load(x, i + w) - vm, b1);
            }
            for (; i + w <= n; i += w)
            {
                var g0 = Load(g, i);
                a0 += g0;
                b0 = Fma(g0, Load(x, i) - vm, b0);
            }
            s1 = Vector512.Sum(a0 + a1);
            s2 = Vector512.Sum(b0 + b1);
        }
        for (; i < n; i++)
        {
            s1 += g[i];
            s2 = T.FusedMultiplyAdd(g[i], x[i] - m, s2);
        }
        return (s1, s2);
    }

    /// <summary>dx = g·k1 + (x·k2 + k3): a channel's residual passed back, with per-channel constants.</summary>
    public static void LinComb<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T k1, T k2, T k3, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        if (Simd<T>(n))
        {
            int w = Vector512<T>.Count;
            Vector512<T> v1 = Vector512.Create(k1), v2 = Vector512.Create(k2), v3 = Vector512.Create(k3);
            for (; i + 2 * w <= n; i += 2 * w)
            {
                Store(Fma(Load(g, i), v1, Fma(Load(x, i), v2, v3)), dx, i);
                Store(Fma(Load(g, i + w), v1, Fma(Load(x, i + w), v2, v3)), dx, i + w);
            }
            for (; i + w <= n; i += w) Store(Fma(Load(g, i), v1, Fma(Load(x, i), v2, v3)), dx, i);
        }
        for (; i < n; i++) dx[i] = T.FusedMultiplyAdd(g[i], k1, T.FusedMultiplyAdd(x[i], k2, k3));
    }

    /// <summary>y = (x·a + c)·w + b, element-wise w and b: a row of LayerNorm (a = 1/σ, c = −μ/σ) or RMSNorm (c = 0, b = 0).</summary>
    public static void RowAffine<T>(ReadOnlySpan<T> x, T a, T c, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        if (Simd<T>(n))
        {
            int vw = Vector512<T>.Count;
            Vector512<T> va = Vector512.Create(a), vc = Vector512.Create(c);
            for (; i + vw <= n; i += vw) Store(Fma(Fma(Load(x, i), va, vc), Load(w, i), Load(b, i)), y, i);
        }
        for (; i < n; i++) y[i] = T.FusedMultiplyAdd(T.FusedMultiplyAdd(x[i], a, c), w[i], b[i]);
    }

    /// <summary>
    /// The first backward pass over a row of LayerNorm/RMSNorm: returns (Σ g·w, Σ g·w·(x − m)) and adds
    /// g·(x − m)·r into <paramref name="dw"/> and g into <paramref name="db"/> (this row's share of the parameter gradients).
    /// </summary>
    public static (T S1, T S2) RowBackwardSums<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, T m, T r, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        T s1 = T.Zero, s2 = T.Zero;
        if (Simd<T>(n))
        {
            int vw = Vector512<T>.Count;
            Vector512<T> vm = Vector512.Create(m), vr = Vector512.Create(r);
            Vector512<T> a1 = default, a2 = default;
            for (; i + vw <= n; i += vw)
            {
                var gi = Load(g, i);
                var xm = Load(x, i) - vm;
                var gw = gi * Load(w, i);
                a1 += gw;
                a2 = Fma(gw, xm, a2);
                Store(Fma(gi, xm * vr, Load(dw, i)), dw, i);
                Store(Load(db, i) + gi, db, i);
            }
            s1 = Vector512.Sum(a1);
            s2 = Vector512.Sum(a2);
        }
        for (; i < n; i++)
        {
            T xm = x[i] - m, gw = g[i] * w[i];
            s1 += gw;
            s2 = T.FusedMultiplyAdd(gw, xm, s2);
            dw[i] = T.FusedMultiplyAdd(g[i], xm * r, dw[i]);
            db[i] += g[i];
        }
        return (s1, s2);
    }

    /// <summary>dx = (g·w)·r + (x·k2 + k3): a row's residual passed back (LayerNorm, RMSNorm).</summary>
    public static void RowBackwardDx<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, T r, T k2, T k3, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length, i = 0;
        if (Simd<T>(n))
        {
            int vw = Vector512<T>.Count;
            Vector512<T> vr = Vector512.Create(r), v2 = Vector512.Create(k2), v3 = Vector512.Create(k3);
            for (; i + vw <= n; i += vw) Store(Fma(Load(g, i) * Load(w, i), vr, Fma(Load(x, i), v2, v3)), dx, i);
        }
        for (; i < n; i++) dx[i] = T.FusedMultiplyAdd(g[i] * w[i], r, T.FusedMultiplyAdd(x[i], k2, k3));
    }
}
