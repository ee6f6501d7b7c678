using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// 2-D convolution kernels on dense (N, C, H, W) data: forward, the input residual (backward-data), the weight
/// gradient and the bias gradient, each its own kernel. The general path is tiled im2col + GEMM: forward and input
/// residual on pre-packed operands (Conv.Packed.cs; stride 1 on zero-padded rows, Conv.Padded.cs), the weight gradient per (sample chunk, group);
/// a 1x1 stride-1 unpadded convolution skips im2col (its input is the column matrix); depthwise convolutions run a
/// direct kernel (<see cref="ConvDirect"/>). Float32 also has Winograd F(2x2, 3x3) for 3x3 layers (Conv.Winograd.cs,
/// Conv.WinogradWeight.cs) and, for thin stride-1 layers, a forward and a weight gradient that read padded rows in
/// place (Conv.ShiftedRows.cs, Conv.RowDot.cs); <see cref="Choose"/> picks per pass. Parts are (sample, group) pairs,
/// fixed sample chunks or tile blocks, chosen from the shape only, so results are bit-identical for any
/// <see cref="Threading.MaxThreads"/>.
/// </summary>
internal static partial class Conv
{
    /// <summary>Upper bound on the elements of one thread's im2col tile (1 MiB of floats); tests pass a smaller one to force tiling.</summary>
    internal const int ColumnBudget = 1 << 18;

    /// <summary>How the forward is computed for a shape (exposed for tests and benchmarks).</summary>
    internal enum Method { Im2ColGemm, Pointwise, Direct, Winograd, RowDot, ShiftedRows }

    /// <summary>Which pass a method is chosen for: each picks on its own GEMM shape.</summary>
    internal enum Pass { Forward, BackwardData, BackwardWeight }

    /// <summary>
    /// Picks the method per pass from the shape (measured with benchmarks/Nabla.Benchmarks convpasses): pointwise GEMM
    /// for 1x1; the direct kernel for one or two output channels per group (depthwise); for float32, Winograd
    /// F(2x2, 3x3) for 3x3 stride-1 layers with at least 8 channels each way, the row-dot weight gradient and the
    /// shifted-rows forward for thin stride-1 layers; else tiled im2col + GEMM. Float64 (gradcheck) always takes the
    /// exact-order paths: im2col + GEMM, pointwise or direct.
    /// </summary>
    internal static Method Choose(in ConvGeometry g, Pass pass = Pass.Forward, bool single = false)
    {
        if (g.IsPointwise) return Method.Pointwise;
        if (g.Og <= 2) return Method.Direct;
        if (single && WinogradFits(g) && g.C >= WinogradMinChannels && g.O >= WinogradMinChannels) return Method.Winograd;
        if (single && pass == Pass.BackwardWeight && RowDotFits(g) && g.Og <= RowDotMaxChannels) return Method.RowDot;
        if (single && pass == Pass.Forward && RowDotFits(g) && g.K <= ShiftedRowsMaxK && g.Og <= 64) return Method.ShiftedRows;
        return Method.Im2ColGemm;
    }

    /// <summary>Fewest input and output channels for which Winograd beats im2col + GEMM (its GEMMs have k = channels).</summary>
    internal const int WinogradMinChannels = 8;

    /// <summary>Most output channels per group for which the row-dot weight gradient beats im2col + GEMM (measured on LeNet and the conv benchmark).</summary>
    internal const int RowDotMaxChannels = 32;

    /// <summary>
    /// Largest Cg·KH·KW for which the shifted-rows forward is chosen (with at most 64 output channels per group): it
    /// skips im2col, which costs as much as the GEMM when k is short. Measured: LeNet's layers (k = 25, 150) and
    /// 3x3 layers with 3–8 input channels run 1.05–2.9x faster than im2col + GEMM.
    /// </summary>
    internal const int ShiftedRowsMaxK = 160;

    /// <summary>True when the row kernels (Conv.RowDot.cs) can run: stride 1, and 512-bit vectors or AVX2 with FMA.</summary>
    internal static bool RowDotFits(in ConvGeometry g) =>
        (Vector512.IsHardwareAccelerated || (Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported)) && g.SH == 1 && g.SW == 1;

    // pixels per im2col tile: the whole image when it fits the budget, else as many as fit (at least 16)
    private static int TileP(in ConvGeometry g, int budget) => Math.Clamp(budget / Math.Max(g.K, 1), Math.Min(g.P, 16), Math.Max(g.P, 1));

    /// <summary>Runs body over parts, on threads when there are several parts and enough work.</summary>
    private static void RunParts(int parts, long flops, Action<int> body)
    {
        if (parts >= 2 && flops >= 1L << 17) Threading.For(parts, body);
        else for (int i = 0; i < parts; i++) body(i);
    }

    /// <summary>y = conv(x, w) + b. x (N, C, H, W), w (O, Cg, KH, KW), b (O) or empty, y (N, O, OH, OW).</summary>
    public static void Forward<T>(ConvGeometry g, ReadOnlyMemory<T> x, ReadOnlyMemory<T> w, ReadOnlyMemory<T> bias, Memory<T> y,
        Method? force = null, int columnBudget = ColumnBudget) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var method = force ?? Choose(g, Pass.Forward, typeof(T) == typeof(float));
        if (method == Method.Winograd)
        {
            if (typeof(T) == typeof(float) && WinogradFits(g))
            {
                ForwardWinograd(g, AsFloat(x), AsFloat(w), AsFloat(bias), AsFloat(y));
                return;
            }
            method = Method.Im2ColGemm;
        }
        if (method == Method.ShiftedRows && typeof(T) == typeof(float) && RowDotFits(g))
        {
            ForwardShiftedRows(g, AsFloat(x), AsFloat(w), AsFloat(bias), AsFloat(y));
            return;
        }
        if (method is Method.RowDot or Method.ShiftedRows || (method == Method.Pointwise && !g.IsPointwise)) method = Method.Im2ColGemm;
        if (method == Method.Im2ColGemm)
        {
            ForwardPacked(g, x, w, bias, y, columnBudget);
            return;
        }
        long flops = 2L * g.N * g.O * g.P * g.K;
        RunParts(g.N * g.Groups, flops, part =>
        {
            int n = part / g.Groups, grp = part % g.Groups;
            var ys = y.Span.Slice((n * g.O + grp * g.Og) * g.P, g.Og * g.P);
            var xs = x.Span.Slice((n * g.C + grp * g.Cg) * g.HW, g.Cg * g.HW);
            var ws = w.Span.Slice(grp * g.Og * g.K, g.Og * g.K);
            T beta = T.Zero;
            if (!bias.IsEmpty)
            {
                var bs = bias.Span.Slice(grp * g.Og, g.Og);
                for (int o = 0; o < g.Og; o++) ys.Slice(o * g.P, g.P).Fill(bs[o]);
                beta = T.One;
            }
            else if (method == Method.Direct) ys.Clear();
            if (method == Method.Direct)
            {
                ConvDirect.Forward(g, xs, ws, ys);
            }
            else
            {
                Gemm.Multiply(false, false, g.Og, g.P, g.Cg, ws, g.K, xs, g.P, beta, ys, g.P);
            }
        });
    }

    /// <summary>The input residual dx = convᵀ(dy, w): per tile dcol = Wᵀ·dy, then col2im. dx is overwritten.</summary>
    public static void BackwardData<T>(ConvGeometry g, ReadOnlyMemory<T> dy, ReadOnlyMemory<T> w, Memory<T> dx,
        Method? force = null, int columnBudget = ColumnBudget) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var method = force ?? Choose(g, Pass.BackwardData, typeof(T) == typeof(float));
        if (method == Method.Winograd)
        {
            if (typeof(T) == typeof(float) && WinogradFits(g))
            {
                BackwardDataWinograd(g, AsFloat(dy), AsFloat(w), AsFloat(dx));
                return;
            }
            method = Method.Im2ColGemm;
        }
        if (method is Method.RowDot or Method.ShiftedRows || (method == Method.Pointwise && !g.IsPointwise)) method = Method.Im2ColGemm;
        if (method == Method.Im2ColGemm)
        {
            BackwardDataPacked(g, dy, w, dx, columnBudget);
            return;
        }
        long flops = 2L * g.N * g.O * g.P * g.K;
        RunParts(g.N * g.Groups, flops, part =>
        {
            int n = part / g.Groups, grp = part % g.Groups;
            var gys = dy.Span.Slice((n * g.O + grp * g.Og) * g.P, g.Og * g.P);
            var dxs = dx.Span.Slice((n * g.C + grp * g.Cg) * g.HW, g.Cg * g.HW);
            var ws = w.Span.Slice(grp * g.Og * g.K, g.Og * g.K);
            if (method == Method.Pointwise)
            {
                Gemm.Multiply(true, false, g.Cg, g.P, g.Og, ws, g.K, gys, g.P, T.Zero, dxs, g.P);
                return;
            }
            dxs.Clear();
            ConvDirect.BackwardData(g, gys, ws, dxs);
        });
    }

    private static ReadOnlyMemory<float> AsFloat<T>(ReadOnlyMemory<T> m) => Unsafe.As<ReadOnlyMemory<T>, ReadOnlyMemory<float>>(ref m);

    private static Memory<float> AsFloat<T>(Memory<T> m) => Unsafe.As<Memory<T>, Memory<float>>(ref m);

    /// <summary>Samples per weight-gradient chunk: the chunk count depends on N only (8 at most).</summary>
    internal static int WeightChunks(int n) => Math.Min(n, 8);

    /// <summary>The weight gradient dW = Σ_n dy_n·col_nᵀ, summed per fixed sample chunk, then over chunks in order. dw is overwritten.</summary>
    public static void BackwardWeight<T>(ConvGeometry g, ReadOnlyMemory<T> x, ReadOnlyMemory<T> dy, Memory<T> dw,
        Method? force = null, int columnBudget = ColumnBudget) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var method = force ?? Choose(g, Pass.BackwardWeight, typeof(T) == typeof(float));
        if (method == Method.Winograd && typeof(T) == typeof(float) && WinogradFits(g))
        {
            BackwardWeightWinograd(g, AsFloat(x), AsFloat(dy), AsFloat(dw));
            return;
        }
        if (method == Method.RowDot && typeof(T) == typeof(float) && RowDotFits(g))
        {
            BackwardWeightRowDot(g, AsFloat(x), AsFloat(dy), AsFloat(dw), 4 * columnBudget);
            return;
        }
        int chunks = WeightChunks(g.N);
        int wsize = g.O * g.K;
        T[]? partial = chunks > 1 ? WeightBuffer<T>.Get(chunks * wsize) : null;   // each part clears its own chunk
        bool direct = method == Method.Direct;
        bool pointwise = !direct && g.IsPointwise && force != Method.Im2ColGemm;
        long flops = 2L * g.N * g.O * g.P * g.K;
        int tileP = TileP(g, columnBudget);
        RunParts(chunks * g.Groups, flops, part =>
        {
            int chunk = part / g.Groups, grp = part % g.Groups;
            var dst = partial is null ? dw.Span.Slice(grp * g.Og * g.K, g.Og * g.K) : partial.AsSpan(chunk * wsize + grp * g.Og * g.K, g.Og * g.K);
            dst.Clear();
            int n0 = (int)((long)chunk * g.N / chunks), n1 = (int)((long)(chunk + 1) * g.N / chunks);
            var col = direct || pointwise ? default : Scratch<T>.Get(g.K * tileP);
            for (int n = n0; n < n1; n++)
            {
                var gys = dy.Span.Slice((n * g.O + grp * g.Og) * g.P, g.Og * g.P);
                var xs = x.Span.Slice((n * g.C + grp * g.Cg) * g.HW, g.Cg * g.HW);
                if (direct)
                {
                    ConvDirect.BackwardWeight(g, xs, gys, dst);
                }
                else if (pointwise)
                {
                    Gemm.Multiply(false, true, g.Og, g.Cg, g.P, gys, g.P, xs, g.P, T.One, dst, g.K);
                }
                else
                {
                    for (int p0 = 0; p0 < g.P; p0 += tileP)
                    {
                        int pn = Math.Min(tileP, g.P - p0);
                        Im2Col.Pack(g, xs, p0, pn, col);
                        Gemm.Multiply(false, true, g.Og, g.K, pn, gys.Slice(p0), g.P, col, pn, T.One, dst, g.K);
                    }
                }
            }
        });
        if (partial is not null)
        {
            var d = dw.Span.Slice(0, wsize);
            partial.AsSpan(0, wsize).CopyTo(d);
            for (int c = 1; c < chunks; c++) TensorPrimitives.Add(d, partial.AsSpan(c * wsize, wsize), d);
        }
    }

    /// <summary>db[o] = Σ_n Σ_p dy[n, o, p], summed per (n, o) row and then over n in order.</summary>
    public static void BiasGrad<T>(int n, int channels, int pixels, ReadOnlySpan<T> dy, Span<T> db) where T : unmanaged, IFloatingPointIeee754<T>
    {
        db.Slice(0, channels).Clear();
        for (int i = 0; i < n; i++)
            for (int o = 0; o < channels; o++)
                db[o] += TensorPrimitives.Sum(dy.Slice((i * channels + o) * pixels, pixels));
    }
}

/// <summary>A per-thread scratch array reused across calls (grown on demand), so steady-state convolutions allocate nothing.</summary>
internal static class Scratch<T>
{
    [ThreadStatic] private static T[]? t_buffer;

    public static Span<T> Get(int length)
    {
        var b = t_buffer;
        if (b is null || b.Length < length) t_buffer = b = new T[Math.Max(length, 1)];
        return b.AsSpan(0, length);
    }
}
