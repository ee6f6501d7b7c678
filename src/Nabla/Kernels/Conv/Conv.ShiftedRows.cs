using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// The forward of a stride-1 float convolution straight from zero-padded rows, for layers whose im2col would cost as
// much as their GEMM (few input channels and taps, as LeNet's first layer): on the extended pixels,
//     yₑ[o, j] = Σ_k w[o, k] · padded[c_k][off_k + j],   off_k = kh·DH·Wp + kw·DW
// is a GEMM whose right operand rows are shifted slices of the padded input, read in place (no packing). A register
// tile of 6 output channels x 64 pixels keeps 24 vector sums; each tap adds one broadcast weight per channel times
// four shifted input vectors. Each output element is one fixed sum over k: bit-identical for any thread count.
internal static partial class Conv
{
    private static void ForwardShiftedRows(ConvGeometry g, ReadOnlyMemory<float> x, ReadOnlyMemory<float> w, ReadOnlyMemory<float> bias, Memory<float> y)
    {
        bool wide = RowsWide;
        RunParts(g.N * g.Groups, 2L * g.N * g.O * g.P * g.K, part =>
        {
            int n = part / g.Groups, grp = part % g.Groups;
            ShiftedRowsSample(g, wide, x.Span.Slice((n * g.C + grp * g.Cg) * g.HW, g.Cg * g.HW), w.Span.Slice(grp * g.Og * g.K, g.Og * g.K),
                bias.IsEmpty ? default : bias.Span.Slice(grp * g.Og, g.Og), y.Span.Slice((n * g.O + grp * g.Og) * g.P, g.Og * g.P));
        });
    }

    /// <summary>One sample and group: x (Cg, H, W), w (Og, K), b (Og) or empty, y (Og, OH, OW).</summary>
    [SkipLocalsInit]
    private static unsafe void ShiftedRowsSample(in ConvGeometry g, bool wide, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, Span<float> y)
    {
        var (wp, pe) = Extended(g);
        int hp = g.OH + (g.KH - 1) * g.DH, pe64 = (pe + 63) & ~63;
        int plane = hp * wp + 64;                  // the last tap's last tile reads up to hp·Wp + 63
        var scratch = Scratch<float>.Get(g.Cg * plane + RowDotO * pe64);
        var padded = scratch.Slice(0, g.Cg * plane);
        PadRows(g, x, 0, hp, wp, plane, padded);
        Span<int> off = g.K <= 1024 ? stackalloc int[g.K] : new int[g.K];
        for (int k = 0; k < g.K; k++)
        {
            int c = k / (g.KH * g.KW), kh = k / g.KW % g.KH, kw = k % g.KW;
            off[k] = c * plane + kh * g.DH * wp + kw * g.DW;
        }
        fixed (float* px = scratch, pw = w, pye = scratch.Slice(g.Cg * plane))
        fixed (int* poff = off)
            for (int o0 = 0; o0 < g.Og; o0 += RowDotO)
            {
                // channels past Og repeat the last one; their rows of yₑ are not copied out
                int last = g.Og - 1;
                float* w0 = pw + (long)o0 * g.K, w1 = pw + (long)Math.Min(o0 + 1, last) * g.K, w2 = pw + (long)Math.Min(o0 + 2, last) * g.K,
                    w3 = pw + (long)Math.Min(o0 + 3, last) * g.K, w4 = pw + (long)Math.Min(o0 + 4, last) * g.K, w5 = pw + (long)Math.Min(o0 + 5, last) * g.K;
                if (wide)
                    for (int j = 0; j < pe; j += 64)
                        ShiftedRowsTile<Vector512<float>, Ops512<float>, Four>(px + j, poff, g.K, w0, w1, w2, w3, w4, w5, pye + j, pe64);
                else
                    for (int j = 0; j < pe; j += 16)
                        ShiftedRowsTile<Vector256<float>, Ops256<float>, Two>(px + j, poff, g.K, w0, w1, w2, w3, w4, w5, pye + j, pe64);
                for (int i = 0; i < RowDotO && o0 + i < g.Og; i++)
                {
                    var ye = new ReadOnlySpan<float>(pye + (long)i * pe64, pe64);
                    var yo = y.Slice((o0 + i) * g.P, g.P);
                    float bo = b.IsEmpty ? 0f : b[o0 + i];
                    for (int oh = 0; oh < g.OH; oh++)
                    {
                        var src = ye.Slice(oh * wp, g.OW);
                        var dst = yo.Slice(oh * g.OW, g.OW);
                        if (b.IsEmpty) src.CopyTo(dst);
                        else System.Numerics.Tensors.TensorPrimitives.Add(src, bo, dst);
                    }
                }
            }
    }

    /// <summary>
    /// ye[i·stride + j] = Σ_k w_i[k] · x[off[k] + j] for the 6 channels i and j in one tile of TVecs vectors (64 pixels
    /// with 512-bit vectors, 16 with 256-bit ones): 24 or 12 vector sums in registers.
    /// </summary>
    private static unsafe void ShiftedRowsTile<TV, TOps, TVecs>(float* x, int* off, int k, float* w0, float* w1, float* w2, float* w3,
        float* w4, float* w5, float* ye, int stride)
        where TV : struct where TOps : struct, IVectorOps<TV, float> where TVecs : struct, IConstant
    {
        bool four = TVecs.Value == 4;
        int l = TOps.Count;
        TV a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default,
            a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default,
            a40 = default, a41 = default, a42 = default, a43 = default, a50 = default, a51 = default, a52 = default, a53 = default;
        for (int p = 0; p < k; p++)
        {
            float* s = x + off[p];
            TV x0 = TOps.Load(s), x1 = TOps.Load(s + l);
            TV x2 = four ? TOps.Load(s + 2 * l) : default, x3 = four ? TOps.Load(s + 3 * l) : default;
            TV b = TOps.Broadcast(w0[p]);
            a00 = TOps.Fma(b, x0, a00); a01 = TOps.Fma(b, x1, a01);
            if (four) { a02 = TOps.Fma(b, x2, a02); a03 = TOps.Fma(b, x3, a03); }
            b = TOps.Broadcast(w1[p]);
            a10 = TOps.Fma(b, x0, a10); a11 = TOps.Fma(b, x1, a11);
            if (four) { a12 = TOps.Fma(b, x2, a12); a13 = TOps.Fma(b, x3, a13); }
            b = TOps.Broadcast(w2[p]);
            a20 = TOps.Fma(b, x0, a20); a21 = TOps.Fma(b, x1, a21);
            if (four) { a22 = TOps.Fma(b, x2, a22); a23 = TOps.Fma(b, x3, a23); }
            b = TOps.Broadcast(w3[p]);
            a30 = TOps.Fma(b, x0, a30); a31 = TOps.Fma(b, x1, a31);
            if (four) { a32 = TOps.Fma(b, x2, a32); a33 = TOps.Fma(b, x3, a33); }
            b = TOps.Broadcast(w4[p]);
            a40 = TOps.Fma(b, x0, a40); a41 = TOps.Fma(b, x1, a41);
            if (four) { a42 = TOps.Fma(b, x2, a42); a43 = TOps.Fma(b, x3, a43); }
            b = TOps.Broadcast(w5[p]);
            a50 = TOps.Fma(b, x0, a50); a51 = TOps.Fma(b, x1, a51);
            if (four) { a52 = TOps.Fma(b, x2, a52); a53 = TOps.Fma(b, x3, a53); }
        }
        StoreTile<TV, TOps>(ye, l, four, a00, a01, a02, a03);
        StoreTile<TV, TOps>(ye + stride, l, four, a10, a11, a12, a13);
        StoreTile<TV, TOps>(ye + 2L * stride, l, four, a20, a21, a22, a23);
        StoreTile<TV, TOps>(ye + 3L * stride, l, four, a30, a31, a32, a33);
        StoreTile<TV, TOps>(ye + 4L * stride, l, four, a40, a41, a42, a43);
        StoreTile<TV, TOps>(ye + 5L * stride, l, four, a50, a51, a52, a53);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreTile<TV, TOps>(float* d, int l, bool four, TV a, TV b, TV c, TV e)
        where TV : struct where TOps : struct, IVectorOps<TV, float>
    {
        TOps.Store(a, d);
        TOps.Store(b, d + l);
        if (!four) return;
        TOps.Store(c, d + 2 * l);
        TOps.Store(e, d + 3 * l);
    }
}
