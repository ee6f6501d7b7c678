using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

/// <summary>
/// Max pooling with a 2x2 window, stride 2, no padding or dilation (the common case) on float planes: 16 outputs per
/// step (AVX-512, or AVX2 with two registers; <see cref="ILanes16{TV}"/>), picking exactly what
/// <see cref="Pool.MaxForwardGeneral{T}"/> picks (window order (0,0), (0,1), (1,0), (1,1); first maximum on ties; the
/// first NaN wins). Positions are tracked as floats, exact for planes below 2^24 pixels.
/// </summary>
internal static class PoolFast
{
    /// <summary>True when the fast path applies to this geometry on this machine.</summary>
    public static bool Supports(in PoolGeometry g) =>
        g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && g.DH == 1 && g.DW == 1
        && 2 * g.OH <= g.H && 2 * g.OW <= g.W && (long)g.H * g.W < 1 << 24 && (Avx512F.IsSupported || Avx2.IsSupported);

    /// <summary>One plane: y[oh, ow] = max of the 2x2 window, idx = its position in the plane.</summary>
    public static void Max2x2Plane(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> idx)
    {
        if (Avx512F.IsSupported) Max2x2Plane<Vector512<float>, Lanes512>(g, x, y, idx);
        else Max2x2Plane<Vector256x2, Lanes256x2>(g, x, y, idx);
    }

    internal static unsafe void Max2x2Plane<TV, TL>(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> idx)
        where TV : struct where TL : struct, ILanes16<TV>
    {
        int w = g.W;
        var one = TL.Broadcast(1f);
        var down = TL.Broadcast(w);
        fixed (float* px = x, py = y)
        fixed (int* pi = idx)
            for (int oh = 0; oh < g.OH; oh++)
            {
                float* r0 = px + 2 * oh * w, r1 = r0 + w;
                float* yo = py + oh * g.OW;
                int* io = pi + oh * g.OW;
                for (int ow = 0; ow < g.OW; ow += 16)
                {
                    // 16 outputs read 32 input columns of each row; a narrower last chunk reads (and writes) fewer
                    int rest = Math.Min(16, g.OW - ow), cols = 2 * rest;
                    TV l0 = TL.LoadWindow(r0 + 2 * ow, 0, cols), h0 = TL.LoadWindow(r0 + 2 * ow + 16, 0, cols - 16);
                    TV l1 = TL.LoadWindow(r1 + 2 * ow, 0, cols), h1 = TL.LoadWindow(r1 + 2 * ow + 16, 0, cols - 16);
                    var ia = TL.EvenIndices(2 * oh * w + 2 * ow);
                    var best = TL.Even(l0, h0);
                    var bi = ia;
                    Step<TV, TL>(ref best, ref bi, TL.Odd(l0, h0), TL.Add(ia, one));
                    Step<TV, TL>(ref best, ref bi, TL.Even(l1, h1), TL.Add(ia, down));
                    Step<TV, TL>(ref best, ref bi, TL.Odd(l1, h1), TL.Add(TL.Add(ia, down), one));
                    TL.StoreFirst(best, yo + ow, rest);
                    TL.StoreFirstAsInt(bi, io + ow, rest);
                }
            }
    }

    /// <summary>
    /// One plane's input residual: each window's arg-max position gets its output's residual and the window's other
    /// three positions zero (the windows tile the plane; a last odd row or column, which no window reads, is zero). The
    /// same bits as clearing the plane and adding each residual at its position (0 + g: a −0 residual lands as +0), in
    /// one pass and without the clear.
    /// </summary>
    public static void Max2x2PlaneBackward(in PoolGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> idx, Span<float> dx)
    {
        if (Avx512F.IsSupported) Max2x2PlaneBackward<Vector512<float>, Lanes512>(g, dy, idx, dx);
        else Max2x2PlaneBackward<Vector256x2, Lanes256x2>(g, dy, idx, dx);
    }

    internal static unsafe void Max2x2PlaneBackward<TV, TL>(in PoolGeometry g, ReadOnlySpan<float> dy, ReadOnlySpan<int> idx, Span<float> dx)
        where TV : struct where TL : struct, ILanes16<TV>
    {
        int w = g.W;
        var zero = TL.Zero;
        var one = TL.Broadcast(1f);
        var down = TL.Broadcast(w);
        fixed (float* pdy = dy, pdx = dx)
        fixed (int* pi = idx)
        {
            for (int oh = 0; oh < g.OH; oh++)
            {
                float* d0 = pdx + 2 * oh * w, d1 = d0 + w;
                float* go = pdy + oh * g.OW;
                float* io = (float*)(pi + oh * g.OW);
                for (int ow = 0; ow < g.OW; ow += 16)
                {
                    int rest = Math.Min(16, g.OW - ow);
                    TV gv = TL.LoadWindow(go + ow, 0, rest);
                    TV iv = TL.IntBitsToFloat(TL.LoadWindow(io + ow, 0, rest));
                    TV ia = TL.EvenIndices(2 * oh * w + 2 * ow), ib = TL.Add(ia, down);
                    TL.StoreInterleaved(Pick<TV, TL>(iv, ia, gv, zero), Pick<TV, TL>(iv, TL.Add(ia, one), gv, zero), d0 + 2 * ow, 2 * rest);
                    TL.StoreInterleaved(Pick<TV, TL>(iv, ib, gv, zero), Pick<TV, TL>(iv, TL.Add(ib, one), gv, zero), d1 + 2 * ow, 2 * rest);
                }
                for (int c = 2 * g.OW; c < w; c++) d0[c] = d1[c] = 0f;
            }
            new Span<float>(pdx + 2 * g.OH * w, (g.H - 2 * g.OH) * w).Clear();
        }
    }

    /// <summary>0 + (position == at ? g : 0), lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Pick<TV, TL>(TV position, TV at, TV g, TV zero) where TV : struct where TL : struct, ILanes16<TV> =>
        TL.Add(zero, TL.Select(TL.Equal(position, at), g, zero));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TV, TL>(ref TV best, ref TV bi, TV v, TV iv) where TV : struct where TL : struct, ILanes16<TV>
    {
        // update where best is not NaN and (v > best or v is NaN)
        var take = TL.And(TL.Equal(best, best), TL.Or(TL.GreaterThan(v, best), TL.Not(TL.Equal(v, v))));
        best = TL.Select(take, v, best);
        bi = TL.Select(take, iv, bi);
    }
}
