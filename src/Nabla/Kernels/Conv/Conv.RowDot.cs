using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// The weight gradient of a stride-1 float convolution as dot products of padded rows, for layers whose GEMM would be
// thin (few output channels or taps, as in LeNet): on the extended pixels of Conv.Padded.cs (rows padded to
// Wp = OW + (KW−1)·DW), im2col row (c, kh, kw) is the contiguous slice padded[c][kh·DH·Wp + kw·DW + j], so
//     dw[o, c, kh, kw] = Σ_n Σ_j dyₑ[n, o, j] · padded[n, c, kh·DH·Wp + kw·DW + j]
// with dyₑ the output residual on the extended pixels (zeros in the dropped columns). A register tile of 6 output
// channels x 4 taps keeps 24 vector sums over the pixels and samples of a chunk, reduced once at the end. Chunks of
// samples are fixed by N (as the im2col path), summed in order: bit-identical for any thread count.
internal static partial class Conv
{
    private const int RowDotO = 6, RowDotTaps = 4;

    [ThreadStatic] private static bool t_rowsForce256;

    /// <summary>
    /// Tests set it to run the 256-bit variants (AVX2: 6 x 2 register tiles) on an AVX-512 machine; per calling thread
    /// (those variants round differently, so other tests must not see it), read before the work is split.
    /// </summary>
    internal static bool RowsForce256 { get => t_rowsForce256; set => t_rowsForce256 = value; }

    /// <summary>512-bit tiles (6 x 4 vectors, 32 registers) or 256-bit ones (6 x 2 vectors, AVX2's 16 registers).</summary>
    private static bool RowsWide => Vector512.IsHardwareAccelerated && !t_rowsForce256;

    /// <summary>
    /// The weight gradient; each thread lays out the padded rows of at most <paramref name="budget"/> elements of
    /// samples at once (whole samples, at least one).
    /// </summary>
    private static void BackwardWeightRowDot(ConvGeometry g, ReadOnlyMemory<float> x, ReadOnlyMemory<float> dy, Memory<float> dw, int budget)
    {
        int chunks = WeightChunks(g.N), wsize = g.O * g.K;
        var partial = WeightBuffer<float>.Get(chunks * wsize);
        bool wide = RowsWide;
        RunParts(chunks * g.Groups, 2L * g.N * g.O * g.P * g.K, part =>
        {
            int chunk = part / g.Groups, grp = part % g.Groups;
            int n0 = (int)((long)chunk * g.N / chunks), n1 = (int)((long)(chunk + 1) * g.N / chunks);
            RowDotChunk(g, x.Span, dy.Span, grp, n0, n1, partial.AsSpan(chunk * wsize + grp * g.Og * g.K, g.Og * g.K), budget, wide);
        });
        var d = dw.Span.Slice(0, wsize);
        partial.AsSpan(0, wsize).CopyTo(d);
        for (int c = 1; c < chunks; c++) System.Numerics.Tensors.TensorPrimitives.Add(d, partial.AsSpan(c * wsize, wsize), d);
    }

    /// <summary>dst (Og x K) = the weight gradient of group grp summed over samples [n0, n1), in groups of samples that fit the budget.</summary>
    private static void RowDotChunk(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int grp, int n0, int n1, Span<float> dst, int budget, bool wide)
    {
        var (wp, pe) = Extended(g);
        int hp = g.OH + (g.KH - 1) * g.DH, pe16 = (pe + 15) & ~15;
        long perSample = (long)g.Cg * (hp * wp + 16) + (long)g.Og * pe16;
        int group = (int)Math.Clamp(budget / perSample, 1, n1 - n0);
        for (int s0 = n0; s0 < n1; s0 += group)
            RowDotSamples(g, x, dy, grp, s0, Math.Min(n1, s0 + group), dst, accumulate: s0 > n0, wide);
    }

    /// <summary>dst (Og x K) = (or +=, when accumulating) the weight gradient of group grp summed over samples [n0, n1).</summary>
    [SkipLocalsInit]
    private static unsafe void RowDotSamples(in ConvGeometry g, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, int grp, int n0, int n1, Span<float> dst, bool accumulate, bool wide)
    {
        var (wp, pe) = Extended(g);
        int hp = g.OH + (g.KH - 1) * g.DH, pe16 = (pe + 15) & ~15;
        int plane = hp * wp + 16;                  // the last tap reads up to hp·Wp + 15
        int ns = n1 - n0, xSample = g.Cg * plane, ySample = g.Og * pe16;
        var scratch = Scratch<float>.Get(ns * (xSample + ySample));
        for (int s = 0; s < ns; s++)
        {
            int n = n0 + s;
            PadRows(g, x.Slice((n * g.C + grp * g.Cg) * g.HW, g.Cg * g.HW), 0, hp, wp, plane, scratch.Slice(s * xSample, xSample));
            var ye = scratch.Slice(ns * xSample + s * ySample, ySample);
            ye.Clear();
            for (int o = 0; o < g.Og; o++)
            {
                var src = dy.Slice((n * g.O + grp * g.Og + o) * g.P, g.P);
                for (int oh = 0; oh < g.OH; oh++) src.Slice(oh * g.OW, g.OW).CopyTo(ye.Slice(o * pe16 + oh * wp, g.OW));
            }
        }
        Span<int> off = stackalloc int[RowDotTaps];
        Span<float> sums = stackalloc float[RowDotO * RowDotTaps];
        fixed (float* pscr = scratch)
        {
            float* px = pscr, py = pscr + ns * xSample;
            int taps = wide ? 4 : 2;
            for (int o0 = 0; o0 < g.Og; o0 += RowDotO)
                for (int k0 = 0; k0 < g.K; k0 += taps)
                {
                    // taps past K and channels past Og repeat the last one; their sums are dropped
                    for (int t = 0; t < RowDotTaps; t++)
                    {
                        int k = Math.Min(k0 + t, g.K - 1), c = k / (g.KH * g.KW), kh = k / g.KW % g.KH, kw = k % g.KW;
                        off[t] = c * plane + kh * g.DH * wp + kw * g.DW;
                    }
                    int o1 = Math.Min(o0 + 1, g.Og - 1), o2 = Math.Min(o0 + 2, g.Og - 1), o3 = Math.Min(o0 + 3, g.Og - 1),
                        o4 = Math.Min(o0 + 4, g.Og - 1), o5 = Math.Min(o0 + 5, g.Og - 1);
                    if (taps == 4)
                        RowDotTile<Vector512<float>, Ops512<float>, Four>(px, xSample, py, ySample, ns, pe16,
                            o0 * pe16, o1 * pe16, o2 * pe16, o3 * pe16, o4 * pe16, o5 * pe16, off[0], off[1], off[2], off[3], sums);
                    else
                        RowDotTile<Vector256<float>, Ops256<float>, Two>(px, xSample, py, ySample, ns, pe16,
                            o0 * pe16, o1 * pe16, o2 * pe16, o3 * pe16, o4 * pe16, o5 * pe16, off[0], off[1], off[2], off[3], sums);
                    for (int i = 0; i < RowDotO && o0 + i < g.Og; i++)
                        for (int t = 0; t < taps && k0 + t < g.K; t++)
                        {
                            ref float d = ref dst[(o0 + i) * g.K + k0 + t];
                            d = accumulate ? d + sums[i * RowDotTaps + t] : sums[i * RowDotTaps + t];
                        }
                }
        }
    }

    /// <summary>
    /// sums[i·4 + t] = Σ_samples Σ_j y[yo_i + j] · x[xo_t + j] over j in [0, len) for 6 channels i and TTaps taps t
    /// (4 with 512-bit vectors, 2 with 256-bit ones): 24 or 12 vector sums in registers.
    /// </summary>
    private static unsafe void RowDotTile<TV, TOps, TTaps>(float* x, int xSample, float* y, int ySample, int samples, int len,
        int yo0, int yo1, int yo2, int yo3, int yo4, int yo5, int xo0, int xo1, int xo2, int xo3, Span<float> sums)
        where TV : struct where TOps : struct, IVectorOps<TV, float> where TTaps : struct, IConstant
    {
        bool four = TTaps.Value == 4;
        int l = TOps.Count;
        TV a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default,
            a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default,
            a40 = default, a41 = default, a42 = default, a43 = default, a50 = default, a51 = default, a52 = default, a53 = default;
        for (int s = 0; s < samples; s++)
        {
            float* xs = x + (long)s * xSample, ys = y + (long)s * ySample;
            for (int j = 0; j < len; j += l)
            {
                TV x0 = TOps.Load(xs + xo0 + j), x1 = TOps.Load(xs + xo1 + j);
                TV x2 = four ? TOps.Load(xs + xo2 + j) : default, x3 = four ? TOps.Load(xs + xo3 + j) : default;
                TV v = TOps.Load(ys + yo0 + j);
                a00 = TOps.Fma(v, x0, a00); a01 = TOps.Fma(v, x1, a01);
                if (four) { a02 = TOps.Fma(v, x2, a02); a03 = TOps.Fma(v, x3, a03); }
                v = TOps.Load(ys + yo1 + j);
                a10 = TOps.Fma(v, x0, a10); a11 = TOps.Fma(v, x1, a11);
                if (four) { a12 = TOps.Fma(v, x2, a12); a13 = TOps.Fma(v, x3, a13); }
                v = TOps.Load(ys + yo2 + j);
                a20 = TOps.Fma(v, x0, a20); a21 = TOps.Fma(v, x1, a21);
                if (four) { a22 = TOps.Fma(v, x2, a22); a23 = TOps.Fma(v, x3, a23); }
                v = TOps.Load(ys + yo3 + j);
                a30 = TOps.Fma(v, x0, a30); a31 = TOps.Fma(v, x1, a31);
                if (four) { a32 = TOps.Fma(v, x2, a32); a33 = TOps.Fma(v, x3, a33); }
                v = TOps.Load(ys + yo4 + j);
                a40 = TOps.Fma(v, x0, a40); a41 = TOps.Fma(v, x1, a41);
                if (four) { a42 = TOps.Fma(v, x2, a42); a43 = TOps.Fma(v, x3, a43); }
                v = TOps.Load(ys + yo5 + j);
                a50 = TOps.Fma(v, x0, a50); a51 = TOps.Fma(v, x1, a51);
                if (four) { a52 = TOps.Fma(v, x2, a52); a53 = TOps.Fma(v, x3, a53); }
            }
        }
        sums[0] = TOps.Sum(a00); sums[1] = TOps.Sum(a01); sums[4] = TOps.Sum(a10); sums[5] = TOps.Sum(a11);
        sums[8] = TOps.Sum(a20); sums[9] = TOps.Sum(a21); sums[12] = TOps.Sum(a30); sums[13] = TOps.Sum(a31);
        sums[16] = TOps.Sum(a40); sums[17] = TOps.Sum(a41); sums[20] = TOps.Sum(a50); sums[21] = TOps.Sum(a51);
        if (!four) return;
        sums[2] = TOps.Sum(a02); sums[3] = TOps.Sum(a03); sums[6] = TOps.Sum(a12); sums[7] = TOps.Sum(a13);
        sums[10] = TOps.Sum(a22); sums[11] = TOps.Sum(a23); sums[14] = TOps.Sum(a32); sums[15] = TOps.Sum(a33);
        sums[18] = TOps.Sum(a42); sums[19] = TOps.Sum(a43); sums[22] = TOps.Sum(a52); sums[23] = TOps.Sum(a53);
    }
}
