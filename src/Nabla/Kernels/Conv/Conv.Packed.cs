using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

// The im2col + GEMM path on pre-packed operands: the weights are packed into GEMM panels once per call (per group),
// each tile's column matrix is written straight into the GEMM's packed-B panel layout, and the micro-kernel runs on
// them (Gemm.PrepackedProduct). Small images put several samples side by side in one column matrix, so the product's
// n is large. Tiles depend on the shape only, so results are bit-identical for any thread count.
internal static partial class Conv
{
    /// <summary>
    /// How the (sample, pixel) columns are cut into tiles: several whole samples per tile (SamplesPerTile, when a
    /// sample's K x P column matrix fits the budget), else tiles of Cols pixels within one sample (TilesPerSample).
    /// </summary>
    internal readonly record struct ColumnTiling(int SamplesPerTile, int TilesPerSample, int Cols, int Tiles)
    {
        public static ColumnTiling For(in ConvGeometry g, int budget) => For(g, budget, g.P);

        /// <summary>The tiling of <paramref name="pixels"/> columns per sample.</summary>
        public static ColumnTiling For(in ConvGeometry g, int budget, int pixels)
        {
            int k = Math.Max(g.K, 1), cnMax = Math.Max(budget / k, 1);
            if (pixels <= cnMax)
            {
                // at least min(N, 8) tiles, so two threads get balanced work
                int spp = Math.Max(1, Math.Min(cnMax / Math.Max(pixels, 1), (g.N + 7) / 8));
                return new ColumnTiling(spp, 1, pixels, (g.N + spp - 1) / spp);
            }
            int tps = (pixels + cnMax - 1) / cnMax;
            int c = (pixels + tps - 1) / tps;
            c = c >= 48 ? (c + 47) / 48 * 48 : (c + 15) / 16 * 16;
            if ((long)c * k > budget && c > 48) c -= 48;
            tps = (pixels + c - 1) / c;
            return new ColumnTiling(1, tps, c, g.N * tps);
        }

        /// <summary>Tile t: samples [N0, N1), pixels [P0, P0 + Pn) of each.</summary>
        public (int N0, int N1, int P0, int Pn) Get(int n, int pixels, int t)
        {
            if (TilesPerSample == 1) return (t * SamplesPerTile, Math.Min(n, (t + 1) * SamplesPerTile), 0, pixels);
            int s = t / TilesPerSample, p0 = t % TilesPerSample * Cols;
            return (s, s + 1, p0, Math.Min(Cols, pixels - p0));
        }
    }

    /// <summary>
    /// A per-thread buffer for a call's weight-sized data, held by the calling thread while its parts run (separate
    /// from <see cref="Scratch{T}"/>, which parts use): the packed weights of a forward or input residual, or the
    /// per-chunk sums of a weight gradient.
    /// </summary>
    private static class WeightBuffer<T>
    {
        [ThreadStatic] private static T[]? t_buffer;

        public static T[] Get(int length)
        {
            var b = t_buffer;
            if (b is null || b.Length < length) t_buffer = b = new T[Math.Max(length, 1)];
            return b;
        }
    }

    private static void ForwardPacked<T>(ConvGeometry g, ReadOnlyMemory<T> x, ReadOnlyMemory<T> w, ReadOnlyMemory<T> bias, Memory<T> y, int budget)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aSize = Gemm.PackedASize(g.Og, g.K);
        var packedW = WeightBuffer<T>.Get(aSize * g.Groups);
        for (int grp = 0; grp < g.Groups; grp++)
            Gemm.PackA<T>(false, g.Og, g.K, w.Span.Slice(grp * g.Og * g.K, g.Og * g.K), g.K, packedW.AsSpan(grp * aSize, aSize));
        if (g.SH == 1 && g.SW == 1)
        {
            ForwardPadded(g, x, packedW, aSize, bias, y, budget);
            return;
        }
        var tiling = ColumnTiling.For(g, budget);
        long flops = 2L * g.N * g.O * g.P * g.K;
        RunParts(tiling.Tiles * g.Groups, flops, part =>
        {
            int t = part / g.Groups, grp = part % g.Groups;
            var (n0, n1, p0, pn) = tiling.Get(g.N, g.P, t);
            int cn = (n1 - n0) * pn;
            var lb = Gemm.PackedB.Create<T>(g.K, cn);
            bool direct = n1 - n0 == 1;
            var scratch = Scratch<T>.Get(lb.Size + cn + (direct ? 0 : g.Og * cn));
            var pb = scratch.Slice(0, lb.Size);
            var row = scratch.Slice(lb.Size, cn);
            var xs = x.Span;
            int r = 0;
            for (int c = 0; c < g.Cg; c++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++, r++)
                    {
                        for (int s = n0; s < n1; s++)
                            Im2Col.PackRow(g, xs.Slice(((s * g.C) + grp * g.Cg + c) * g.HW, g.HW), kh, kw, p0, pn, row.Slice((s - n0) * pn, pn));
                        lb.ScatterRow<T>(r, row, pb);
                    }
            var pa = packedW.AsSpan(grp * aSize, aSize);
            var bs = bias.IsEmpty ? default : bias.Span.Slice(grp * g.Og, g.Og);
            if (direct)
            {
                // one sample: the product lands in y itself, on top of the bias
                var ys = y.Span.Slice((n0 * g.O + grp * g.Og) * g.P + p0);
                T beta = T.Zero;
                if (!bias.IsEmpty)
                {
                    for (int o = 0; o < g.Og; o++) ys.Slice(o * g.P, pn).Fill(bs[o]);
                    beta = T.One;
                }
                Gemm.PrepackedProduct<T>(g.Og, pa, lb, pb, ys, g.P, beta);
                return;
            }
            var cbuf = scratch.Slice(lb.Size + cn, g.Og * cn);
            Gemm.PrepackedProduct<T>(g.Og, pa, lb, pb, cbuf, cn, T.Zero);
            var yspan = y.Span;
            for (int s = n0; s < n1; s++)
                for (int o = 0; o < g.Og; o++)
                {
                    var src = cbuf.Slice(o * cn + (s - n0) * pn, pn);
                    var dst = yspan.Slice((s * g.O + grp * g.Og + o) * g.P + p0, pn);
                    if (bias.IsEmpty) src.CopyTo(dst);
                    else TensorPrimitives.Add(src, bs[o], dst);
                }
        });
    }

    private static void BackwardDataPacked<T>(ConvGeometry g, ReadOnlyMemory<T> dy, ReadOnlyMemory<T> w, Memory<T> dx, int budget)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int aSize = Gemm.PackedASize(g.K, g.Og);
        var packedW = WeightBuffer<T>.Get(aSize * g.Groups);
        for (int grp = 0; grp < g.Groups; grp++)
            Gemm.PackA<T>(true, g.K, g.Og, w.Span.Slice(grp * g.Og * g.K, g.Og * g.K), g.K, packedW.AsSpan(grp * aSize, aSize));
        if (g.SH == 1 && g.SW == 1)
        {
            BackwardDataPadded(g, dy, packedW, aSize, dx, budget);
            return;
        }
        var tiling = ColumnTiling.For(g, budget);
        long flops = 2L * g.N * g.O * g.P * g.K;
        // a part owns whole samples (col2im of neighbouring pixel tiles overlaps): all of a sample's tiles, or a sample group
        int partsPerGroup = tiling.TilesPerSample == 1 ? tiling.Tiles : g.N;
        RunParts(partsPerGroup * g.Groups, flops, part =>
        {
            int q = part / g.Groups, grp = part % g.Groups;
            int tFirst = q * tiling.TilesPerSample, tLast = tFirst + tiling.TilesPerSample;
            var pa = packedW.AsSpan(grp * aSize, aSize);
            var dys = dy.Span;
            var dxs = dx.Span;
            for (int t = tFirst; t < tLast; t++)
            {
                var (n0, n1, p0, pn) = tiling.Get(g.N, g.P, t);
                if (p0 == 0)
                    for (int s = n0; s < n1; s++) dxs.Slice((s * g.C + grp * g.Cg) * g.HW, g.Cg * g.HW).Clear();
                int cn = (n1 - n0) * pn;
                var lb = Gemm.PackedB.Create<T>(g.Og, cn);
                var scratch = Scratch<T>.Get(lb.Size + cn + g.K * cn);
                var pb = scratch.Slice(0, lb.Size);
                var row = scratch.Slice(lb.Size, cn);
                var col = scratch.Slice(lb.Size + cn, g.K * cn);
                for (int o = 0; o < g.Og; o++)
                {
                    for (int s = n0; s < n1; s++)
                        dys.Slice((s * g.O + grp * g.Og + o) * g.P + p0, pn).CopyTo(row.Slice((s - n0) * pn, pn));
                    lb.ScatterRow<T>(o, row, pb);
                }
                Gemm.PrepackedProduct<T>(g.K, pa, lb, pb, col, cn, T.Zero);
                for (int s = n0; s < n1; s++)
                    Im2Col.Unpack<T>(g, col.Slice((s - n0) * pn), cn, p0, pn, dxs.Slice((s * g.C + grp * g.Cg) * g.HW, g.Cg * g.HW));
            }
        });
    }
}
