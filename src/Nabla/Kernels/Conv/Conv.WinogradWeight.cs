using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// The weight gradient of the Winograd convolution (Conv.Winograd.cs): F(3x3, 2x2) over the same 2x2 output tiles,
// the residual's 2x2 block as kernel and the input's 4x4 patch as data; the sum over tiles is 16 GEMMs.
internal static partial class Conv
{
    /// <summary>
    /// The weight gradient dw[o, c, i, j] = Σ_n Σ_(y,x) dy[n, o, y, x] x[n, c, y + i − PH, x + j − PW] as Winograd
    /// F(3x3, 2x2) over the same tiles: per tile, the 2x2 block of dy is the "kernel" and the 4x4 input patch d the
    /// data, so dw = Aᵀ [Σ_tiles (G dy Gᵀ) ⊙ (Bᵀ d B)] A with the forward's Bᵀ and
    ///     G = [1 0; ½ ½; ½ −½; 0 −1],  Aᵀ = [1 1 1 0; 0 1 −1 0; 0 1 1 1].
    /// The sum over tiles is 16 GEMMs Ŵ_ξ (O x C) += Ŷ_ξ (O x tiles) · V_ξᵀ, accumulated per fixed chunk of tile
    /// blocks and then over chunks in order (bit-identical for any thread count). dw is overwritten.
    /// </summary>
    private static void BackwardWeightWinograd(in ConvGeometry g, ReadOnlyMemory<float> x, ReadOnlyMemory<float> dy, Memory<float> dw)
    {
        var s = new WinogradShape(g.N, g.C, g.H, g.W, g.O, g.OH, g.OW, g.PH, g.PW);
        int block = s.Block, tiles = s.Tiles, blocks = (tiles + block - 1) / block;
        int wsize = 16 * g.O * g.C;
        int chunks = Math.Clamp((1 << 23) / wsize, 1, Math.Min(blocks, 8));   // partial sums: at most 32 MiB (or one chunk)
        var partial = WeightBuffer<float>.Get(chunks * wsize);
        RunParts(chunks, 32L * s.Cin * s.Cout * tiles, chunk =>
        {
            var acc = partial.AsSpan(chunk * wsize, wsize);
            acc.Clear();
            for (int b = chunk * blocks / chunks, b1 = (chunk + 1) * blocks / chunks; b < b1; b++)
            {
                if (WinogradWide) WinogradWeightBlock<Vector512<float>, Lanes512>(s, x.Span, dy.Span, acc, b * block, Math.Min(block, tiles - b * block));
                else WinogradWeightBlock<Vector256x2, Lanes256x2>(s, x.Span, dy.Span, acc, b * block, Math.Min(block, tiles - b * block));
            }
        });
        var total = partial.AsSpan(0, wsize);
        for (int c = 1; c < chunks; c++) System.Numerics.Tensors.TensorPrimitives.Add(total, partial.AsSpan(c * wsize, wsize), total);
        WeightOutputTransform(g.O * g.C, total, dw.Span);
    }

    /// <summary>Tiles [q0, q0 + qn): V_ξ of the input patches, Ŷ_ξ of the dy blocks, acc_ξ (O x C) += Ŷ_ξ · V_ξᵀ.</summary>
    [SkipLocalsInit]
    private static unsafe void WinogradWeightBlock<TV, TL>(in WinogradShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> acc, int q0, int qn)
        where TV : struct where TL : struct, ILanes16<TV>
    {
        int ld = (qn + 15) & ~15, planeLen = ld + 32;
        int vStride = s.Cin * ld + 16, yStride = s.Cout * ld + 16;
        var scratch = Scratch<float>.Get(16 * vStride + 16 * yStride + 16 * planeLen);
        int maxSegments = qn / Math.Max(s.TW, 1) + 2;
        Span<int> seg = maxSegments <= 128 ? stackalloc int[5 * maxSegments] : new int[5 * maxSegments];
        int segments = Segments(s, q0, qn, seg);
        fixed (float* px = x, pdy = dy, pscr = scratch)
        {
            float* pv = pscr, py = pscr + 16 * vStride, planes = py + 16 * yStride;
            for (int c = 0; c < s.Cin; c++)
            {
                GatherPatches<TV, TL>(s, px, c, seg, segments, planes, planeLen);
                for (int t = 0; t < ld; t += 16) InputTransform<TV, TL>(planes + t, planeLen, pv + (long)c * ld + t, vStride);
            }
            for (int o = 0; o < s.Cout; o++)
            {
                GatherBlocks<TV, TL>(s, pdy, o, seg, segments, planes, planeLen);
                for (int t = 0; t < ld; t += 16) GradTransform<TV, TL>(planes + t, planeLen, py + (long)o * ld + t, yStride);
            }
            // lanes past qn hold leftovers: the products run over the first qn only
            for (int xi = 0; xi < 16; xi++)
                Gemm.Sgemm(false, true, s.Cout, s.Cin, qn, 1f, new ReadOnlySpan<float>(py + (long)xi * yStride, s.Cout * ld), ld,
                    new ReadOnlySpan<float>(pv + (long)xi * vStride, s.Cin * ld), ld, 1f, acc.Slice(xi * s.Cout * s.Cin, s.Cout * s.Cin), s.Cin);
        }
    }

    /// <summary>
    /// The 2x2 output blocks of the block's tiles in output channel o of dy (N, Cout, OH, OW), as 4 planes: plane
    /// 2a + b holds dy[2·th + a, 2·tw + b] of every tile (zero past the output) at planes + (2a + b)·planeLen.
    /// </summary>
    private static unsafe void GatherBlocks<TV, TL>(in WinogradShape s, float* dy, int o, ReadOnlySpan<int> seg, int segments, float* planes, int planeLen)
        where TV : struct where TL : struct, ILanes16<TV>
    {
        for (int sg = 0; sg < segments; sg++)
        {
            int off = seg[5 * sg], n = seg[5 * sg + 1], th = seg[5 * sg + 2], tw = seg[5 * sg + 3], len = seg[5 * sg + 4];
            float* image = dy + ((long)n * s.Cout + o) * s.OH * s.OW;
            for (int a = 0; a < 2; a++)
            {
                float* p0 = planes + 2 * a * planeLen + off;
                int oh = 2 * th + a;
                if (oh >= s.OH)
                {
                    for (int t = 0; t < len; t += 16)
                    {
                        TL.Store(TL.Zero, p0 + t);
                        TL.Store(TL.Zero, p0 + planeLen + t);
                    }
                    continue;
                }
                float* src = image + (long)oh * s.OW;
                for (int t = 0; t < len; t += 16)
                {
                    int col = 2 * (tw + t);
                    TV v0 = TL.LoadWindow(src, col, s.OW), v1 = TL.LoadWindow(src, col + 16, s.OW);
                    TL.Store(TL.Even(v0, v1), p0 + t);
                    TL.Store(TL.Odd(v0, v1), p0 + planeLen + t);
                }
            }
        }
    }

    /// <summary>Ŷ = G y Gᵀ (4x4 from 2x2) for 16 tiles: y[a][b] at planes + (2a + b)·planeLen; Ŷ_ξ at dst + ξ·stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void GradTransform<TV, TL>(float* planes, int planeLen, float* dst, int stride)
        where TV : struct where TL : struct, ILanes16<TV>
    {
        var half = TL.Broadcast(0.5f);
        var y00 = TL.Load(planes);
        var y01 = TL.Load(planes + planeLen);
        var y10 = TL.Load(planes + 2 * planeLen);
        var y11 = TL.Load(planes + 3 * planeLen);
        // rows of G y: (y0, (y0 + y1)/2, (y0 − y1)/2, −y1), then the same on each row's two columns
        GradRow<TV, TL>(y00, y01, dst, stride);
        GradRow<TV, TL>(TL.Mul(TL.Add(y00, y10), half), TL.Mul(TL.Add(y01, y11), half), dst + 4L * stride, stride);
        GradRow<TV, TL>(TL.Mul(TL.Sub(y00, y10), half), TL.Mul(TL.Sub(y01, y11), half), dst + 8L * stride, stride);
        GradRow<TV, TL>(TL.Sub(TL.Zero, y10), TL.Sub(TL.Zero, y11), dst + 12L * stride, stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void GradRow<TV, TL>(TV a, TV b, float* d, int stride) where TV : struct where TL : struct, ILanes16<TV>
    {
        var half = TL.Broadcast(0.5f);
        TL.Store(a, d);
        TL.Store(TL.Mul(TL.Add(a, b), half), d + stride);
        TL.Store(TL.Mul(TL.Sub(a, b), half), d + 2L * stride);
        TL.Store(TL.Sub(TL.Zero, b), d + 3L * stride);
    }

    /// <summary>dw (3x3 per kernel) = Aᵀ Ŵ A for each of the count kernels; Ŵ_ξ of kernel i at w[ξ·count + i].</summary>
    private static void WeightOutputTransform(int count, ReadOnlySpan<float> w, Span<float> dw)
    {
        Span<float> m = stackalloc float[16];
        Span<float> r = stackalloc float[12];
        for (int i = 0; i < count; i++)
        {
            for (int xi = 0; xi < 16; xi++) m[xi] = w[xi * count + i];
            // rows of Aᵀ m: (m0 + m1 + m2, m1 − m2, m1 + m2 + m3), per column j
            for (int j = 0; j < 4; j++)
            {
                float m0 = m[j], m1 = m[4 + j], m2 = m[8 + j], m3 = m[12 + j];
                r[j] = m0 + m1 + m2;
                r[4 + j] = m1 - m2;
                r[8 + j] = m1 + m2 + m3;
            }
            var d = dw.Slice(i * 9, 9);
            for (int k = 0; k < 3; k++)
            {
                float a0 = r[4 * k], a1 = r[4 * k + 1], a2 = r[4 * k + 2], a3 = r[4 * k + 3];
                d[3 * k] = a0 + a1 + a2;
                d[3 * k + 1] = a1 - a2;
                d[3 * k + 2] = a1 + a2 + a3;
            }
        }
    }
}
