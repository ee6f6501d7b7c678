using System.Numerics;

namespace Nabla.Kernels;

/// <summary>
/// im2col and its transpose col2im for one sample and one group, over a tile of output pixels: the column matrix
/// has a row per (c, kh, kw) and a column per output pixel p in [p0, p0 + pn), so a convolution becomes
/// W (Og x K) · col (K x pn). Tiling the pixels bounds the scratch memory whatever the image size.
/// </summary>
internal static class Im2Col
{
    /// <summary>col[r, j] = x[c, oh·SH − PH + kh·DH, ow·SW − PW + kw·DW] (0 outside), r = (c·KH + kh)·KW + kw, p = p0 + j.</summary>
    /// <param name="g">The convolution's sizes.</param>
    /// <param name="x">One sample's input channels of this group: Cg planes of H·W.</param>
    /// <param name="p0">First output pixel of the tile.</param>
    /// <param name="pn">Output pixels in the tile.</param>
    /// <param name="col">K rows of <paramref name="pn"/>.</param>
    public static void Pack<T>(in ConvGeometry g, ReadOnlySpan<T> x, int p0, int pn, Span<T> col) where T : unmanaged, INumberBase<T>
    {
        int r = 0;
        for (int c = 0; c < g.Cg; c++)
        {
            var plane = x.Slice(c * g.HW, g.HW);
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++, r++)
                    PackRow(g, plane, kh, kw, p0, pn, col.Slice(r * pn, pn));
        }
    }

    /// <summary>One im2col row (kernel offset kh, kw of one input plane) over output pixels [p0, p0 + pn) into dst.</summary>
    internal static void PackRow<T>(in ConvGeometry g, ReadOnlySpan<T> plane, int kh, int kw, int p0, int pn, Span<T> dst) where T : unmanaged, INumberBase<T>
    {
        // columns ow with 0 <= ow·SW − PW + kw·DW < W: [lo, hi)
        int offW = kw * g.DW - g.PW;
        int lo = offW >= 0 ? 0 : (-offW + g.SW - 1) / g.SW;
        int hi = g.W - 1 - offW < 0 ? 0 : (g.W - 1 - offW) / g.SW + 1;
        hi = Math.Min(hi, g.OW);
        int j = 0, p = p0, end = p0 + pn;
        while (p < end)
        {
            int oh = p / g.OW, ow0 = p - oh * g.OW;
            int ow1 = Math.Min(g.OW, ow0 + (end - p));
            int n = ow1 - ow0;
            var seg = dst.Slice(j, n);
            int ih = oh * g.SH - g.PH + kh * g.DH;
            if ((uint)ih >= (uint)g.H || lo >= hi)
            {
                seg.Clear();
            }
            else
            {
                var row = plane.Slice(ih * g.W, g.W);
                int a = Math.Clamp(lo, ow0, ow1), b = Math.Clamp(hi, ow0, ow1);
                if (b < a) b = a;
                seg.Slice(0, a - ow0).Clear();
                seg.Slice(b - ow0).Clear();
                if (g.SW == 1)
                {
                    row.Slice(a + offW, b - a).CopyTo(seg.Slice(a - ow0));
                }
                else
                {
                    for (int ow = a; ow < b; ow++) seg[ow - ow0] = row[ow * g.SW + offW];
                }
            }
            j += n;
            p += n;
        }
    }

    /// <summary>The transpose of <see cref="Pack{T}"/>: dx[c, ih, iw] += col[r, j] for every in-bounds position.</summary>
    public static void Unpack<T>(in ConvGeometry g, ReadOnlySpan<T> col, int p0, int pn, Span<T> dx) where T : unmanaged, INumberBase<T>
        => Unpack(g, col, pn, p0, pn, dx);

    /// <summary><see cref="Unpack{T}(in ConvGeometry, ReadOnlySpan{T}, int, int, Span{T})"/> with col rows <paramref name="ld"/> apart.</summary>
    public static void Unpack<T>(in ConvGeometry g, ReadOnlySpan<T> col, int ld, int p0, int pn, Span<T> dx) where T : unmanaged, INumberBase<T>
    {
        int r = 0;
        for (int c = 0; c < g.Cg; c++)
        {
            var plane = dx.Slice(c * g.HW, g.HW);
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++, r++)
                    UnpackRow(g, col.Slice(r * ld, pn), kh, kw, p0, pn, plane);
        }
    }

    private static void UnpackRow<T>(in ConvGeometry g, ReadOnlySpan<T> src, int kh, int kw, int p0, int pn, Span<T> plane) where T : unmanaged, INumberBase<T>
    {
        int offW = kw * g.DW - g.PW;
        int lo = offW >= 0 ? 0 : (-offW + g.SW - 1) / g.SW;
        int hi = g.W - 1 - offW < 0 ? 0 : (g.W - 1 - offW) / g.SW + 1;
        hi = Math.Min(hi, g.OW);
        int j = 0, p = p0, end = p0 + pn;
        while (p < end)
        {
            int oh = p / g.OW, ow0 = p - oh * g.OW;
            int ow1 = Math.Min(g.OW, ow0 + (end - p));
            int n = ow1 - ow0;
            int ih = oh * g.SH - g.PH + kh * g.DH;
            if ((uint)ih < (uint)g.H && lo < hi)
            {
                var row = plane.Slice(ih * g.W, g.W);
                var seg = src.Slice(j, n);
                int a = Math.Clamp(lo, ow0, ow1), b = Math.Clamp(hi, ow0, ow1);
                if (g.SW == 1)
                {
                    if (b > a) System.Numerics.Tensors.TensorPrimitives.Add(row.Slice(a + offW, b - a), seg.Slice(a - ow0, b - a), row.Slice(a + offW, b - a));
                }
                else
                {
                    for (int ow = a; ow < b; ow++) row[ow * g.SW + offW] += seg[ow - ow0];
                }
            }
            j += n;
            p += n;
        }
    }

    /// <summary>The plain reference of <see cref="Pack{T}"/>: one element at a time.</summary>
    public static void PackReference<T>(in ConvGeometry g, ReadOnlySpan<T> x, int p0, int pn, Span<T> col) where T : unmanaged, INumberBase<T>
    {
        for (int c = 0; c < g.Cg; c++)
            for (int kh = 0; kh < g.KH; kh++)
                for (int kw = 0; kw < g.KW; kw++)
                {
                    int r = (c * g.KH + kh) * g.KW + kw;
                    for (int j = 0; j < pn; j++)
                    {
                        int p = p0 + j, oh = p / g.OW, ow = p % g.OW;
                        int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                        col[r * pn + j] = (uint)ih < (uint)g.H && (uint)iw < (uint)g.W ? x[c * g.HW + ih * g.W + iw] : T.Zero;
                    }
                }
    }
}
