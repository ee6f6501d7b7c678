using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// The direct convolution kernel for one (sample, group): no im2col; each weight tap adds a scaled input row to an
/// output row (a Vector512 axpy when the stride is 1). It wins when the GEMM would be tiny: depthwise convolutions
/// (one output channel per group) and few-tap kernels on few channels.
/// </summary>
internal static class ConvDirect
{
    // the output columns ow with 0 <= ow·SW + off < W, as [lo, hi)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Lo, int Hi) Cols(in ConvGeometry g, int off)
    {
        int lo = off >= 0 ? 0 : (-off + g.SW - 1) / g.SW;
        int hi = g.W - 1 - off < 0 ? 0 : (g.W - 1 - off) / g.SW + 1;
        return (lo, Math.Min(hi, g.OW));
    }

    /// <summary>y[o] += Σ_c,kh,kw w[o,c,kh,kw]·x[c, shifted]; y holds the bias (or zeros) on entry. x: Cg planes, w: Og x K, y: Og x P.</summary>
    public static void Forward<T>(in ConvGeometry g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int o = 0; o < g.Og; o++)
            for (int oh = 0; oh < g.OH; oh++)
            {
                var yrow = y.Slice(o * g.P + oh * g.OW, g.OW);
                for (int c = 0; c < g.Cg; c++)
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.SH - g.PH + kh * g.DH;
                        if ((uint)ih >= (uint)g.H) continue;
                        var xrow = x.Slice(c * g.HW + ih * g.W, g.W);
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            T wv = w[o * g.K + (c * g.KH + kh) * g.KW + kw];
                            int off = kw * g.DW - g.PW;
                            var (lo, hi) = Cols(g, off);
                            if (lo >= hi) continue;
                            if (g.SW == 1) Axpy(wv, xrow.Slice(lo + off, hi - lo), yrow.Slice(lo, hi - lo));
                            else for (int ow = lo; ow < hi; ow++) yrow[ow] += wv * xrow[ow * g.SW + off];
                        }
                    }
            }
    }

    /// <summary>dx[c, shifted] += Σ_o w[o,c,kh,kw]·dy[o]; dx (Cg planes) is accumulated into.</summary>
    public static void BackwardData<T>(in ConvGeometry g, ReadOnlySpan<T> dy, ReadOnlySpan<T> w, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int c = 0; c < g.Cg; c++)
            for (int o = 0; o < g.Og; o++)
                for (int oh = 0; oh < g.OH; oh++)
                {
                    var gyrow = dy.Slice(o * g.P + oh * g.OW, g.OW);
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.SH - g.PH + kh * g.DH;
                        if ((uint)ih >= (uint)g.H) continue;
                        var dxrow = dx.Slice(c * g.HW + ih * g.W, g.W);
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            T wv = w[o * g.K + (c * g.KH + kh) * g.KW + kw];
                            int off = kw * g.DW - g.PW;
                            var (lo, hi) = Cols(g, off);
                            if (lo >= hi) continue;
                            if (g.SW == 1) Axpy(wv, gyrow.Slice(lo, hi - lo), dxrow.Slice(lo + off, hi - lo));
                            else for (int ow = lo; ow < hi; ow++) dxrow[ow * g.SW + off] += wv * gyrow[ow];
                        }
                    }
                }
    }

    /// <summary>dw[o, c, kh, kw] += Σ_oh,ow dy[o, oh, ow]·x[c, shifted]; dw (Og x K) is accumulated into.</summary>
    public static void BackwardWeight<T>(in ConvGeometry g, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int o = 0; o < g.Og; o++)
            for (int c = 0; c < g.Cg; c++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        int off = kw * g.DW - g.PW;
                        var (lo, hi) = Cols(g, off);
                        T s = T.Zero;
                        if (lo < hi)
                            for (int oh = 0; oh < g.OH; oh++)
                            {
                                int ih = oh * g.SH - g.PH + kh * g.DH;
                                if ((uint)ih >= (uint)g.H) continue;
                                var xrow = x.Slice(c * g.HW + ih * g.W, g.W);
                                var gyrow = dy.Slice(o * g.P + oh * g.OW, g.OW);
                                if (g.SW == 1) s += Dot(gyrow.Slice(lo, hi - lo), xrow.Slice(lo + off, hi - lo));
                                else for (int ow = lo; ow < hi; ow++) s += gyrow[ow] * xrow[ow * g.SW + off];
                            }
                        dw[o * g.K + (c * g.KH + kh) * g.KW + kw] += s;
                    }
    }

    /// <summary>y += a·x: 512-bit vectors where accelerated, then 256-bit ones, then scalar (element-wise: the same values at any width).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Axpy<T>(T a, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(x.Length, y.Length, nameof(x));
        int i = 0, n = y.Length;
        if (Vector512.IsHardwareAccelerated) i = Axpy<T, Vector512<T>, Ops512<T>>(a, x, y, i);
        if (Vector256.IsHardwareAccelerated) i = Axpy<T, Vector256<T>, Ops256<T>>(a, x, y, i);
        for (; i < n; i++) y[i] += a * x[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Axpy<T, TV, TOps>(T a, ReadOnlySpan<T> x, Span<T> y, int i)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        var va = TOps.Broadcast(a);
        for (; i <= y.Length - TOps.Count; i += TOps.Count) TOps.Store(TOps.Add(TOps.Mul(TOps.Load(x, i), va), TOps.Load(y, i)), y, i);
        return i;
    }

    /// <summary>Σ a[i]·b[i]: vector lanes at <see cref="VectorOps.Bits"/>, a fixed-order lane sum, then the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Dot<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(b.Length, a.Length, nameof(b));
        return VectorOps.Bits switch
        {
            512 => Dot<T, Vector512<T>, Ops512<T>>(a, b),
            256 => Dot<T, Vector256<T>, Ops256<T>>(a, b),
            _ => Dot<T, Vector128<T>, Ops128<T>>(a, b),
        };
    }

    private static T Dot<T, TV, TOps>(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int i = 0, n = a.Length, w = TOps.Count;
        T s = T.Zero;
        if (n >= w)
        {
            TV acc = default;
            for (; i <= n - w; i += w) acc = TOps.Add(acc, TOps.Mul(TOps.Load(a, i), TOps.Load(b, i)));
            s = TOps.Sum(acc);
        }
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }
}
