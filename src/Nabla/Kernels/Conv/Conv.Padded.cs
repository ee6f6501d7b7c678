using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

// Stride-1 im2col on zero-padded rows. With the input rows padded to Wp = OW + (KW−1)·DW columns, output pixel
// (oh, ow) is "extended pixel" j = oh·Wp + ow, and im2col row (c, kh, kw) is the contiguous slice
// padded[c][kh·DH·Wp + kw·DW + j]: one straight copy per row instead of a copy per output row. The extended columns
// ow ≥ OW are computed and dropped (Wp/OW − 1 extra work).
internal static partial class Conv
{
    /// <summary>Padded row width Wp and extended pixels per sample (the last row's tail is left out).</summary>
    private static (int Wp, int Pe) Extended(in ConvGeometry g)
    {
        int wp = g.OW + (g.KW - 1) * g.DW;
        return (wp, (g.OH - 1) * wp + g.OW);
    }

    /// <summary>
    /// Zero-padded rows [rowLo, rowLo + rows) of the Cg planes of one sample and group: channel c at c·stride, row i at
    /// i·Wp; padded row i holds input row i − PH shifted right by PW (zeros outside). Each plane ends with zeros.
    /// </summary>
    private static void PadRows<T>(in ConvGeometry g, ReadOnlySpan<T> x, int rowLo, int rows, int wp, int stride, Span<T> dst)
        where T : unmanaged, INumberBase<T>
    {
        int copyW = Math.Min(g.W, wp - g.PW);
        for (int c = 0; c < g.Cg; c++)
        {
            var plane = dst.Slice(c * stride, stride);
            var src = x.Slice(c * g.HW, g.HW);
            for (int i = 0; i < rows; i++)
            {
                var d = plane.Slice(i * wp, wp);
                int ih = rowLo + i - g.PH;
                if ((uint)ih >= (uint)g.H || copyW <= 0)
                {
                    d.Clear();
                    continue;
                }
                d.Slice(0, g.PW).Clear();
                src.Slice(ih * g.W, copyW).CopyTo(d.Slice(g.PW));
                d.Slice(g.PW + copyW).Clear();
            }
            plane.Slice(rows * wp).Clear();
        }
    }

    private static void ForwardPadded<T>(ConvGeometry g, ReadOnlyMemory<T> x, T[] packedW, int aSize, ReadOnlyMemory<T> bias, Memory<T> y, int budget)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (wp, pe) = Extended(g);
        var tiling = ColumnTiling.For(g, budget, pe);
        long flops = 2L * g.N * g.O * g.P * g.K;
        RunParts(tiling.Tiles * g.Groups, flops, part =>
        {
            int t = part / g.Groups, grp = part % g.Groups;
            var (n0, n1, p0, pn) = tiling.Get(g.N, pe, t);
            int ns = n1 - n0, cn = ns * pn;
            int rowLo = p0 / wp, rows = (p0 + pn - 1) / wp + (g.KH - 1) * g.DH - rowLo + 1;
            int stride = rows * wp + (g.KW - 1) * g.DW, sampleStride = g.Cg * stride;
            var lb = Gemm.PackedB.Create<T>(g.K, cn);
            var scratch = Scratch<T>.Get(lb.Size + cn + g.Og * cn + ns * sampleStride);
            var pb = scratch.Slice(0, lb.Size);
            var row = scratch.Slice(lb.Size, cn);
            var cbuf = scratch.Slice(lb.Size + cn, g.Og * cn);
            var pad = scratch.Slice(lb.Size + cn + g.Og * cn, ns * sampleStride);
            var xs = x.Span;
            for (int s = n0; s < n1; s++)
                PadRows(g, xs.Slice((s * g.C + grp * g.Cg) * g.HW, g.Cg * g.HW), rowLo, rows, wp, stride, pad.Slice((s - n0) * sampleStride, sampleStride));
            int shift = p0 - rowLo * wp;
            int r = 0;
            for (int c = 0; c < g.Cg; c++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++, r++)
                    {
                        int off = c * stride + kh * g.DH * wp + kw * g.DW + shift;
                        if (ns == 1)
                        {
                            lb.ScatterRow<T>(r, pad.Slice(off, pn), pb);
                            continue;
                        }
                        for (int s = 0; s < ns; s++) pad.Slice(s * sampleStride + off, pn).CopyTo(row.Slice(s * pn, pn));
                        lb.ScatterRow<T>(r, row, pb);
                    }
            Gemm.PrepackedProduct<T>(g.Og, packedW.AsSpan(grp * aSize, aSize), lb, pb, cbuf, cn, T.Zero);
            // keep the real pixels: extended row oh holds output row oh in its first OW columns
            var yspan = y.Span;
            var bs = bias.IsEmpty ? default : bias.Span.Slice(grp * g.Og, g.Og);
            int ohFirst = p0 / wp, ohLast = (p0 + pn - 1) / wp;
            for (int s = 0; s < ns; s++)
                for (int o = 0; o < g.Og; o++)
                {
                    var src = cbuf.Slice(o * cn + s * pn, pn);
                    var dst = yspan.Slice(((n0 + s) * g.O + grp * g.Og + o) * g.P, g.P);
                    for (int oh = ohFirst; oh <= ohLast; oh++)
                    {
                        int a = Math.Max(oh * wp, p0), b = Math.Min(oh * wp + g.OW, p0 + pn);
                        if (b <= a) continue;
                        var seg = src.Slice(a - p0, b - a);
                        var d = dst.Slice(oh * g.OW + (a - oh * wp), b - a);
                        if (bias.IsEmpty) seg.CopyTo(d);
                        else TensorPrimitives.Add(seg, bs[o], d);
                    }
                }
        });
    }
}

internal static partial class Conv
{
    /// <summary>
    /// The input residual on padded rows: per tile, dy is laid out on the extended pixels (zeros in the dropped
    /// columns), dcol = Wᵀ·dy, and col2im is one contiguous add per im2col row into a padded copy of dx, whose
    /// interior is copied out once a part's samples are done. A part owns whole samples.
    /// </summary>
    private static void BackwardDataPadded<T>(ConvGeometry g, ReadOnlyMemory<T> dy, T[] packedW, int aSize, Memory<T> dx, int budget)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (wp, pe) = Extended(g);
        var tiling = ColumnTiling.For(g, budget, pe);
        int hp = g.OH + (g.KH - 1) * g.DH;
        int stride = hp * wp + (g.KW - 1) * g.DW, sampleStride = g.Cg * stride;
        long flops = 2L * g.N * g.O * g.P * g.K;
        int partsPerGroup = tiling.TilesPerSample == 1 ? tiling.Tiles : g.N;
        int maxSamples = tiling.TilesPerSample == 1 ? tiling.SamplesPerTile : 1;
        RunParts(partsPerGroup * g.Groups, flops, part =>
        {
            int q = part / g.Groups, grp = part % g.Groups;
            int tFirst = q * tiling.TilesPerSample, tLast = tFirst + tiling.TilesPerSample;
            var pa = packedW.AsSpan(grp * aSize, aSize);
            var dys = dy.Span;
            var dxs = dx.Span;
            int colsMax = maxSamples * (tiling.TilesPerSample == 1 ? pe : tiling.Cols);
            var lbMax = Gemm.PackedB.Create<T>(g.Og, colsMax);
            var scratch = Scratch<T>.Get(lbMax.Size + colsMax + g.K * colsMax + maxSamples * sampleStride);
            var dpad = scratch.Slice(lbMax.Size + colsMax + g.K * colsMax, maxSamples * sampleStride);
            int n0 = 0, n1 = 0;
            for (int t = tFirst; t < tLast; t++)
            {
                int p0, pn;
                (n0, n1, p0, pn) = tiling.Get(g.N, pe, t);
                int ns = n1 - n0, cn = ns * pn;
                if (p0 == 0) dpad.Slice(0, ns * sampleStride).Clear();
                var lb = Gemm.PackedB.Create<T>(g.Og, cn);
                var pb = scratch.Slice(0, lb.Size);
                var row = scratch.Slice(lbMax.Size, cn);
                var col = scratch.Slice(lbMax.Size + colsMax, g.K * cn);
                int ohFirst = p0 / wp, ohLast = (p0 + pn - 1) / wp;
                for (int o = 0; o < g.Og; o++)
                {
                    row.Clear();
                    for (int s = 0; s < ns; s++)
                    {
                        var src = dys.Slice(((n0 + s) * g.O + grp * g.Og + o) * g.P, g.P);
                        var d = row.Slice(s * pn, pn);
                        for (int oh = ohFirst; oh <= ohLast; oh++)
                        {
                            int a = Math.Max(oh * wp, p0), b = Math.Min(oh * wp + g.OW, p0 + pn);
                            if (b > a) src.Slice(oh * g.OW + (a - oh * wp), b - a).CopyTo(d.Slice(a - p0, b - a));
                        }
                    }
                    lb.ScatterRow<T>(o, row, pb);
                }
                Gemm.PrepackedProduct<T>(g.K, pa, lb, pb, col, cn, T.Zero);
                for (int s = 0; s < ns; s++)
                {
                    int r = 0;
                    for (int c = 0; c < g.Cg; c++)
                        for (int kh = 0; kh < g.KH; kh++)
                            for (int kw = 0; kw < g.KW; kw++, r++)
                            {
                                var d = dpad.Slice(s * sampleStride + c * stride + kh * g.DH * wp + kw * g.DW + p0, pn);
                                TensorPrimitives.Add(d, col.Slice(r * cn + s * pn, pn), d);
                            }
                }
            }
            // copy the interior out: dx[c, ih, iw] = dpad[c, (ih + PH)·Wp + iw + PW] (zero where the padded window ends)
            for (int s = n0; s < n1; s++)
                for (int c = 0; c < g.Cg; c++)
                {
                    var src = dpad.Slice((s - n0) * sampleStride + c * stride, stride);
                    var dst = dxs.Slice((s * g.C + grp * g.Cg + c) * g.HW, g.HW);
                    int copyW = Math.Clamp(wp - g.PW, 0, g.W);
                    for (int ih = 0; ih < g.H; ih++)
                    {
                        var d = dst.Slice(ih * g.W, g.W);
                        int ip = ih + g.PH;
                        if (ip >= hp || copyW == 0)
                        {
                            d.Clear();
                            continue;
                        }
                        src.Slice(ip * wp + g.PW, copyW).CopyTo(d);
                        d.Slice(copyW).Clear();
                    }
                }
        });
    }
}
