using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

/// <summary>
/// Max pooling with a 2x2 window, stride 2, no padding or dilation (the common case) on float planes: 16 outputs per
/// step with AVX-512, picking exactly what <see cref="Pool.MaxForwardGeneral{T}"/> picks (window order (0,0), (0,1),
/// (1,0), (1,1); first maximum on ties; the first NaN wins).
/// </summary>
internal static class PoolFast
{
    /// <summary>True when the fast path applies to this geometry on this machine.</summary>
    public static bool Supports(in PoolGeometry g) =>
        g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && g.DH == 1 && g.DW == 1
        && 2 * g.OH <= g.H && 2 * g.OW <= g.W && Avx512F.IsSupported;

    /// <summary>One plane: y[oh, ow] = max of the 2x2 window, idx = its position in the plane.</summary>
    public static unsafe void Max2x2Plane(in PoolGeometry g, ReadOnlySpan<float> x, Span<float> y, Span<int> idx)
    {
        var evens = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odds = evens + Vector512<int>.One;
        int w = g.W;
        fixed (float* px = x, py = y)
        fixed (int* pi = idx)
            for (int oh = 0; oh < g.OH; oh++)
            {
                float* r0 = px + 2 * oh * w, r1 = r0 + w;
                float* yo = py + oh * g.OW;
                int* io = pi + oh * g.OW;
                for (int ow = 0; ow < g.OW; ow += 16)
                {
                    // 16 outputs read 32 input columns of each row; a narrower last chunk uses masked loads and stores
                    int rest = Math.Min(16, g.OW - ow);
                    Vector512<float> l0, h0, l1, h1;
                    if (rest == 16)
                    {
                        l0 = Avx512F.LoadVector512(r0 + 2 * ow);
                        h0 = Avx512F.LoadVector512(r0 + 2 * ow + 16);
                        l1 = Avx512F.LoadVector512(r1 + 2 * ow);
                        h1 = Avx512F.LoadVector512(r1 + 2 * ow + 16);
                    }
                    else
                    {
                        var ml = FirstLanes(2 * rest);
                        var mh = FirstLanes(2 * rest - 16);
                        l0 = Avx512F.MaskLoad(r0 + 2 * ow, ml, Vector512<float>.Zero);
                        h0 = Avx512F.MaskLoad(r0 + 2 * ow + 16, mh, Vector512<float>.Zero);
                        l1 = Avx512F.MaskLoad(r1 + 2 * ow, ml, Vector512<float>.Zero);
                        h1 = Avx512F.MaskLoad(r1 + 2 * ow + 16, mh, Vector512<float>.Zero);
                    }
                    var a = Avx512F.PermuteVar16x32x2(l0, evens, h0);
                    var b = Avx512F.PermuteVar16x32x2(l0, odds, h0);
                    var c = Avx512F.PermuteVar16x32x2(l1, evens, h1);
                    var d = Avx512F.PermuteVar16x32x2(l1, odds, h1);
                    var ia = Vector512.Create(2 * oh * w + 2 * ow) + evens;
                    var best = a;
                    var bi = ia;
                    Step(ref best, ref bi, b, ia + Vector512<int>.One);
                    Step(ref best, ref bi, c, ia + Vector512.Create(w));
                    Step(ref best, ref bi, d, ia + Vector512.Create(w + 1));
                    if (rest == 16)
                    {
                        Avx512F.Store(yo + ow, best);
                        Avx512F.Store(io + ow, bi);
                    }
                    else
                    {
                        var m = FirstLanes(rest);
                        Avx512F.MaskStore(yo + ow, m, best);
                        Avx512F.MaskStore(io + ow, m.AsInt32(), bi);
                    }
                }
            }
    }

    /// <summary>A mask of the first <paramref name="count"/> lanes (none when count ≤ 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FirstLanes(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref Vector512<float> best, ref Vector512<int> bi, Vector512<float> v, Vector512<int> iv)
    {
        // update where best is not NaN and (v > best or v is NaN)
        var alive = Vector512.Equals(best, best);
        var take = alive & (Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v));
        best = Vector512.ConditionalSelect(take, v, best);
        bi = Vector512.ConditionalSelect(take.AsInt32(), iv, bi);
    }
}
