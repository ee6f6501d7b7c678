using System.Numerics;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// The span loops of the normalisation layers (BatchNorm, GroupNorm, InstanceNorm, LayerNorm, RMSNorm): the
/// statistics of a unit (<see cref="Moments{T}"/>), the fused normalise+affine passes and the fused backward passes.
/// Each is written once over a vector width (<see cref="IVectorOps{TV, T}"/>) and runs with Vector512 where accelerated,
/// else Vector256 (AVX2) or Vector128 (NEON), with a scalar tail; each loop keeps one fixed summation order for a
/// given length and machine, so results never depend on the thread count. Plain references: NormKernels.Reference.cs.
/// </summary>
internal static partial class NormKernels
{
    /// <summary>Σ x (four vector accumulators, then the tail).</summary>
    public static T Sum<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> => VectorOps.Bits switch
    {
        512 => Sum<T, Vector512<T>, Ops512<T>>(x),
        256 => Sum<T, Vector256<T>, Ops256<T>>(x),
        _ => Sum<T, Vector128<T>, Ops128<T>>(x),
    };

    private static T Sum<T, TV, TO>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, w = TO.Count;
        T s = T.Zero;
        if (n >= w)
        {
            TV a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                a0 = TO.Add(a0, TO.Load(x, i));
                a1 = TO.Add(a1, TO.Load(x, i + w));
                a2 = TO.Add(a2, TO.Load(x, i + 2 * w));
                a3 = TO.Add(a3, TO.Load(x, i + 3 * w));
            }
            for (; i + w <= n; i += w) a0 = TO.Add(a0, TO.Load(x, i));
            s = TO.Sum(TO.Add(TO.Add(a0, a1), TO.Add(a2, a3)));
        }
        for (; i < n; i++) s += x[i];
        return s;
    }

    /// <summary>Σ (x − m)²: the second pass of a two-pass variance over data already in cache.</summary>
    public static T SumSqDev<T>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T> => VectorOps.Bits switch
    {
        512 => SumSqDev<T, Vector512<T>, Ops512<T>>(x, m),
        256 => SumSqDev<T, Vector256<T>, Ops256<T>>(x, m),
        _ => SumSqDev<T, Vector128<T>, Ops128<T>>(x, m),
    };

    private static T SumSqDev<T, TV, TO>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, w = TO.Count;
        T s = T.Zero;
        if (n >= w)
        {
            var vm = TO.Broadcast(m);
            TV a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                var d0 = TO.Sub(TO.Load(x, i), vm);
                var d1 = TO.Sub(TO.Load(x, i + w), vm);
                var d2 = TO.Sub(TO.Load(x, i + 2 * w), vm);
                var d3 = TO.Sub(TO.Load(x, i + 3 * w), vm);
                a0 = TO.Fma(d0, d0, a0);
                a1 = TO.Fma(d1, d1, a1);
                a2 = TO.Fma(d2, d2, a2);
                a3 = TO.Fma(d3, d3, a3);
            }
            for (; i + w <= n; i += w)
            {
                var d = TO.Sub(TO.Load(x, i), vm);
                a0 = TO.Fma(d, d, a0);
            }
            s = TO.Sum(TO.Add(TO.Add(a0, a1), TO.Add(a2, a3)));
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
    public static (T SumDev, T SumSqDev) SumDevSq<T>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T> => VectorOps.Bits switch
    {
        512 => SumDevSq<T, Vector512<T>, Ops512<T>>(x, m),
        256 => SumDevSq<T, Vector256<T>, Ops256<T>>(x, m),
        _ => SumDevSq<T, Vector128<T>, Ops128<T>>(x, m),
    };

    private static (T, T) SumDevSq<T, TV, TO>(ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, w = TO.Count;
        T s1 = T.Zero, s2 = T.Zero;
        if (n >= w)
        {
            var vm = TO.Broadcast(m);
            TV a0 = default, a1 = default, b0 = default, b1 = default;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                var d0 = TO.Sub(TO.Load(x, i), vm);
                var d1 = TO.Sub(TO.Load(x, i + w), vm);
                a0 = TO.Add(a0, d0);
                a1 = TO.Add(a1, d1);
                b0 = TO.Fma(d0, d0, b0);
                b1 = TO.Fma(d1, d1, b1);
            }
            for (; i + w <= n; i += w)
            {
                var d = TO.Sub(TO.Load(x, i), vm);
                a0 = TO.Add(a0, d);
                b0 = TO.Fma(d, d, b0);
            }
            s1 = TO.Sum(TO.Add(a0, a1));
            s2 = TO.Sum(TO.Add(b0, b1));
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
        if (VectorOps.Bits == 512) ScaleShift<T, Vector512<T>, Ops512<T>>(x, a, b, y);
        else if (VectorOps.Bits == 256) ScaleShift<T, Vector256<T>, Ops256<T>>(x, a, b, y);
        else ScaleShift<T, Vector128<T>, Ops128<T>>(x, a, b, y);
    }

    private static void ScaleShift<T, TV, TO>(ReadOnlySpan<T> x, T a, T b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, w = TO.Count;
        if (n >= w)
        {
            TV va = TO.Broadcast(a), vb = TO.Broadcast(b);
            for (; i + 2 * w <= n; i += 2 * w)
            {
                TO.Store(TO.Fma(TO.Load(x, i), va, vb), y, i);
                TO.Store(TO.Fma(TO.Load(x, i + w), va, vb), y, i + w);
            }
            for (; i + w <= n; i += w) TO.Store(TO.Fma(TO.Load(x, i), va, vb), y, i);
        }
        for (; i < n; i++) y[i] = T.FusedMultiplyAdd(x[i], a, b);
    }

    /// <summary>(Σ g, Σ g·(x − m)): the two sums a channel's backward needs (db and dw·σ).</summary>
    public static (T SumG, T SumGDev) SumGradDev<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T> => VectorOps.Bits switch
    {
        512 => SumGradDev<T, Vector512<T>, Ops512<T>>(g, x, m),
        256 => SumGradDev<T, Vector256<T>, Ops256<T>>(g, x, m),
        _ => SumGradDev<T, Vector128<T>, Ops128<T>>(g, x, m),
    };

    private static (T, T) SumGradDev<T, TV, TO>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T m) where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, w = TO.Count;
        T s1 = T.Zero, s2 = T.Zero;
        if (n >= w)
        {
            var vm = TO.Broadcast(m);
            TV a0 = default, a1 = default, b0 = default, b1 = default;
            for (; i + 2 * w <= n; i += 2 * w)
            {
                var g0 = TO.Load(g, i);
                var g1 = TO.Load(g, i + w);
                a0 = TO.Add(a0, g0);
                a1 = TO.Add(a1, g1);
                b0 = TO.Fma(g0, TO.Sub(TO.Load(x, i), vm), b0);
                b1 = TO.Fma(g1, TO.Sub(TO.Load(x, i + w), vm), b1);
            }
            for (; i + w <= n; i += w)
            {
                var g0 = TO.Load(g, i);
                a0 = TO.Add(a0, g0);
                b0 = TO.Fma(g0, TO.Sub(TO.Load(x, i), vm), b0);
            }
            s1 = TO.Sum(TO.Add(a0, a1));
            s2 = TO.Sum(TO.Add(b0, b1));
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
        if (VectorOps.Bits == 512) LinComb<T, Vector512<T>, Ops512<T>>(g, x, k1, k2, k3, dx);
        else if (VectorOps.Bits == 256) LinComb<T, Vector256<T>, Ops256<T>>(g, x, k1, k2, k3, dx);
        else LinComb<T, Vector128<T>, Ops128<T>>(g, x, k1, k2, k3, dx);
    }

    private static void LinComb<T, TV, TO>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, T k1, T k2, T k3, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, w = TO.Count;
        if (n >= w)
        {
            TV v1 = TO.Broadcast(k1), v2 = TO.Broadcast(k2), v3 = TO.Broadcast(k3);
            for (; i + 2 * w <= n; i += 2 * w)
            {
                TO.Store(TO.Fma(TO.Load(g, i), v1, TO.Fma(TO.Load(x, i), v2, v3)), dx, i);
                TO.Store(TO.Fma(TO.Load(g, i + w), v1, TO.Fma(TO.Load(x, i + w), v2, v3)), dx, i + w);
            }
            for (; i + w <= n; i += w) TO.Store(TO.Fma(TO.Load(g, i), v1, TO.Fma(TO.Load(x, i), v2, v3)), dx, i);
        }
        for (; i < n; i++) dx[i] = T.FusedMultiplyAdd(g[i], k1, T.FusedMultiplyAdd(x[i], k2, k3));
    }

    /// <summary>y = (x·a + c)·w + b, element-wise w and b: a row of LayerNorm (a = 1/σ, c = −μ/σ) or RMSNorm (c = 0, b = 0).</summary>
    public static void RowAffine<T>(ReadOnlySpan<T> x, T a, T c, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (VectorOps.Bits == 512) RowAffine<T, Vector512<T>, Ops512<T>>(x, a, c, w, b, y);
        else if (VectorOps.Bits == 256) RowAffine<T, Vector256<T>, Ops256<T>>(x, a, c, w, b, y);
        else RowAffine<T, Vector128<T>, Ops128<T>>(x, a, c, w, b, y);
    }

    private static void RowAffine<T, TV, TO>(ReadOnlySpan<T> x, T a, T c, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, vw = TO.Count;
        if (n >= vw)
        {
            TV va = TO.Broadcast(a), vc = TO.Broadcast(c);
            for (; i + vw <= n; i += vw) TO.Store(TO.Fma(TO.Fma(TO.Load(x, i), va, vc), TO.Load(w, i), TO.Load(b, i)), y, i);
        }
        for (; i < n; i++) y[i] = T.FusedMultiplyAdd(T.FusedMultiplyAdd(x[i], a, c), w[i], b[i]);
    }

    /// <summary>
    /// The first backward pass over a row of LayerNorm/RMSNorm: returns (Σ g·w, Σ g·w·(x − m)) and adds
    /// g·(x − m)·r into <paramref name="dw"/> and g into <paramref name="db"/> (this row's share of the parameter gradients).
    /// </summary>
    public static (T S1, T S2) RowBackwardSums<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, T m, T r, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T> => VectorOps.Bits switch
    {
        512 => RowBackwardSums<T, Vector512<T>, Ops512<T>>(g, x, w, m, r, dw, db),
        256 => RowBackwardSums<T, Vector256<T>, Ops256<T>>(g, x, w, m, r, dw, db),
        _ => RowBackwardSums<T, Vector128<T>, Ops128<T>>(g, x, w, m, r, dw, db),
    };

    private static (T, T) RowBackwardSums<T, TV, TO>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, T m, T r, Span<T> dw, Span<T> db)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, vw = TO.Count;
        T s1 = T.Zero, s2 = T.Zero;
        if (n >= vw)
        {
            TV vm = TO.Broadcast(m), vr = TO.Broadcast(r);
            TV a1 = default, a2 = default;
            for (; i + vw <= n; i += vw)
            {
                var gi = TO.Load(g, i);
                var xm = TO.Sub(TO.Load(x, i), vm);
                var gw = TO.Mul(gi, TO.Load(w, i));
                a1 = TO.Add(a1, gw);
                a2 = TO.Fma(gw, xm, a2);
                TO.Store(TO.Fma(gi, TO.Mul(xm, vr), TO.Load(dw, i)), dw, i);
                TO.Store(TO.Add(TO.Load(db, i), gi), db, i);
            }
            s1 = TO.Sum(a1);
            s2 = TO.Sum(a2);
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
        if (VectorOps.Bits == 512) RowBackwardDx<T, Vector512<T>, Ops512<T>>(g, x, w, r, k2, k3, dx);
        else if (VectorOps.Bits == 256) RowBackwardDx<T, Vector256<T>, Ops256<T>>(g, x, w, r, k2, k3, dx);
        else RowBackwardDx<T, Vector128<T>, Ops128<T>>(g, x, w, r, k2, k3, dx);
    }

    private static void RowBackwardDx<T, TV, TO>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, T r, T k2, T k3, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TO : struct, IVectorOps<TV, T>
    {
        int n = x.Length, i = 0, vw = TO.Count;
        if (n >= vw)
        {
            TV vr = TO.Broadcast(r), v2 = TO.Broadcast(k2), v3 = TO.Broadcast(k3);
            for (; i + vw <= n; i += vw) TO.Store(TO.Fma(TO.Mul(TO.Load(g, i), TO.Load(w, i)), vr, TO.Fma(TO.Load(x, i), v2, v3)), dx, i);
        }
        for (; i < n; i++) dx[i] = T.FusedMultiplyAdd(g[i] * w[i], r, T.FusedMultiplyAdd(x[i], k2, k3));
    }
}
