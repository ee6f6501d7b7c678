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
                int ow = 0;
                for (; 2 * ow + 32 <= w && ow + 16 <= g.OW; ow += 16)
                {
                    var l0 = Avx512F.LoadVector512(r0 + 2 * ow);
                    var h0 = Avx512F.LoadVector512(r0 + 2 * ow + 16);
                    var l1 = Avx512F.LoadVector512(r1 + 2 * ow);
                    var h1 = Avx512F.LoadVector512(r1 + 2 * ow + 16);
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
                    Avx512F.Store(yo + ow, best);
                    Avx512F.Store(io + ow, bi);
                }
                for (; ow < g.OW; ow++)
                {
                    int i0 = 2 * oh * w + 2 * ow;
                    float best = x[i0];
                    int bi = i0;
                    Scalar(ref best, ref bi, x[i0 + 1], i0 + 1);
                    Scalar(ref best, ref bi, x[i0 + w], i0 + w);
                    Scalar(ref best, ref bi, x[i0 + w + 1], i0 + w + 1);
                    yo[ow] = best;
                    io[ow] = bi;
                }
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref Vector512<float> best, ref Vector512<int> bi, Vector512<float> v, Vector512<int> iv)
    {
        // update where best is not NaN and (v > best or v is NaN)
        var alive = Vector512.Equals(best, best);
        var take = alive & (Vector512.GreaterThan(v, best) | ~Vector512.Equals(v, v));
        best = Vector512.ConditionalSelect(take, v, best);
        bi = Vector512.ConditionalSelect(take.AsInt32(), iv, bi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scalar(ref float best, ref int bi, float v, int i)
    {
        if (!float.IsNaN(best) && (v > best || float.IsNaN(v)))
        {
            best = v;
            bi = i;
        }
    }
}
