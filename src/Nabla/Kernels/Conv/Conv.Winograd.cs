using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

// Winograd F(2x2, 3x3) for 3x3, stride-1, dilation-1, ungrouped float32 convolutions (Lavin & Gray, 2016).
// Each 2x2 block of output pixels ("tile") reads a 4x4 input patch d; with the 4x4 transforms
//     V = Bᵀ d B,   U = G g Gᵀ,   Y = Aᵀ (Σ_c U[o, c] ⊙ V[c]) A
//     Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 −1 −1]
// the sum over input channels becomes 16 independent GEMMs, M_ξ (O x tiles) = U_ξ (O x C) · V_ξ (C x tiles), one per
// transform position ξ: 16 multiply-adds per tile and channel pair instead of 36, 2.25x fewer.
// Tiles are numbered over (sample, tile row, tile column) and cut into blocks of a fixed size, so a block may span
// rows and samples; each block runs on one thread: gather its 4x4 patches channel by channel into 16 "planes"
// (plane (r, j) holds d[r][j] of every tile, 16 tiles to a vector), transform them straight into the GEMM's packed-B
// layout, run the 16 products against the weights packed once per call, transform back and interleave the 2x2
// results into the output rows. The input residual of such a convolution is again one (the flipped, transposed
// weights, padding 2 − p), so the same kernel serves both passes. The split depends on the shape only: results are
// bit-identical for any thread count. Reference: Conv.ForwardReference / BackwardDataReference (ConvKernelTests).
internal static partial class Conv
{
    /// <summary>True when Winograd F(2x2, 3x3) can run a convolution and its input residual on this machine (AVX-512, or AVX2 and FMA).</summary>
    internal static bool WinogradFits(in ConvGeometry g) =>
        (Avx512F.IsSupported || (Avx2.IsSupported && Fma.IsSupported)) && g.KH == 3 && g.KW == 3 && g.SH == 1 && g.SW == 1 && g.DH == 1 && g.DW == 1 && g.Groups == 1
        && g.PH is >= 0 and <= 2 && g.PW is >= 0 and <= 2;

    /// <summary>Tests set it to run the AVX2 variant (two ymm registers per 16 lanes) on an AVX-512 machine.</summary>
    internal static bool WinogradForceAvx2 { get; set; }

    private static bool WinogradWide => Avx512F.IsSupported && !WinogradForceAvx2;

    /// <summary>One Winograd problem: input (N, Cin, H, W), output (N, Cout, OH, OW), top/left padding PH, PW.</summary>
    private readonly record struct WinogradShape(int N, int Cin, int H, int W, int Cout, int OH, int OW, int PH, int PW)
    {
        public int TH => (OH + 1) / 2;
        public int TW => (OW + 1) / 2;
        public int Tiles => N * TH * TW;

        /// <summary>Tiles per block, a multiple of the GEMM's 48-column panels: the block's 16 transformed inputs and products take about 1.1 MiB (measured best on the benchmark layers).</summary>
        public int Block => Math.Clamp(294912 / (16 * (Cin + Cout)) / 48 * 48, 48, 480);
    }

    private static void ForwardWinograd(in ConvGeometry g, ReadOnlyMemory<float> x, ReadOnlyMemory<float> w, ReadOnlyMemory<float> bias, Memory<float> y)
    {
        var s = new WinogradShape(g.N, g.C, g.H, g.W, g.O, g.OH, g.OW, g.PH, g.PW);
        var (packedU, aSize) = WinogradWeights(g.O, g.C, w.Span, flip: false);
        Winograd(s, x, packedU, aSize, bias, y);
    }

    private static void BackwardDataWinograd(in ConvGeometry g, ReadOnlyMemory<float> dy, ReadOnlyMemory<float> w, Memory<float> dx)
    {
        // dx[c, i, j] = Σ_o Σ_kh,kw dy[o, i + PH − kh, j + PW − kw] w[o, c, kh, kw]: a 3x3 correlation of dy with the
        // flipped kernel w[o, c, 2 − kh, 2 − kw], padding 2 − PH, 2 − PW, giving H x W
        var s = new WinogradShape(g.N, g.O, g.OH, g.OW, g.C, g.H, g.W, 2 - g.PH, 2 - g.PW);
        var (packedU, aSize) = WinogradWeights(g.O, g.C, w.Span, flip: true);
        Winograd(s, dy, packedU, aSize, ReadOnlyMemory<float>.Empty, dx);
    }

    /// <summary>
    /// U_ξ = G g Gᵀ for every kernel of w (O, C, 3, 3), packed as 16 GEMM left operands (Cout x Cin each, aSize
    /// elements apart): Cout = O, Cin = C for the forward; flipped and transposed (Cout = C, Cin = O) for the residual.
    /// </summary>
    private static (float[] Packed, int ASize) WinogradWeights(int o, int c, ReadOnlySpan<float> w, bool flip)
    {
        int m = flip ? c : o, k = flip ? o : c;
        int aSize = Gemm.PackedASize(m, k);
        var packed = WeightBuffer<float>.Get(16 * aSize);
        var u = Scratch<float>.Get(16 * m * k);
        Span<double> gg = stackalloc double[12];
        for (int oc = 0; oc < o; oc++)
            for (int cc = 0; cc < c; cc++)
            {
                var g = w.Slice((oc * c + cc) * 9, 9);
                // G g: rows 0..3 of a 4x3
                for (int j = 0; j < 3; j++)
                {
                    double g0 = Tap(g, 0, j, flip), g1 = Tap(g, 1, j, flip), g2 = Tap(g, 2, j, flip);
                    gg[j] = g0;
                    gg[3 + j] = 0.5 * (g0 + g1 + g2);
                    gg[6 + j] = 0.5 * (g0 - g1 + g2);
                    gg[9 + j] = g2;
                }
                int at = flip ? cc * k + oc : oc * k + cc;
                for (int i = 0; i < 4; i++)
                {
                    double a0 = gg[3 * i], a1 = gg[3 * i + 1], a2 = gg[3 * i + 2];
                    u[(4 * i + 0) * m * k + at] = (float)a0;
                    u[(4 * i + 1) * m * k + at] = (float)(0.5 * (a0 + a1 + a2));
                    u[(4 * i + 2) * m * k + at] = (float)(0.5 * (a0 - a1 + a2));
                    u[(4 * i + 3) * m * k + at] = (float)a2;
                }
            }
        for (int xi = 0; xi < 16; xi++)
            Gemm.PackA<float>(false, m, k, u.Slice(xi * m * k, m * k), k, packed.AsSpan(xi * aSize, aSize));
        return (packed, aSize);
    }

    private static double Tap(ReadOnlySpan<float> g, int i, int j, bool flip) => flip ? g[(2 - i) * 3 + 2 - j] : g[i * 3 + j];

    private static void Winograd(WinogradShape s, ReadOnlyMemory<float> x, float[] packedU, int aSize, ReadOnlyMemory<float> bias, Memory<float> y)
    {
        int block = s.Block, tiles = s.Tiles;
        int parts = (tiles + block - 1) / block;
        RunParts(parts, 32L * s.Cin * s.Cout * tiles, part =>
        {
            int q0 = part * block;
            if (WinogradWide) WinogradBlock<Vector512<float>, Lanes512>(s, x.Span, packedU, aSize, bias.Span, y.Span, q0, Math.Min(block, tiles - q0));
            else WinogradBlock<Vector256x2, Lanes256x2>(s, x.Span, packedU, aSize, bias.Span, y.Span, q0, Math.Min(block, tiles - q0));
        });
    }

    /// <summary>Tiles [q0, q0 + qn) of the problem: gather, transform, 16 products, inverse transform, scatter.</summary>
    [SkipLocalsInit]
    private static unsafe void WinogradBlock<TV, TL>(in WinogradShape s, ReadOnlySpan<float> x, ReadOnlySpan<float> packedU, int aSize,
        ReadOnlySpan<float> bias, Span<float> y, int q0, int qn) where TV : struct where TL : struct, ILanes16<TV>
    {
        int ld = (qn + 15) & ~15;                  // lanes per plane / product row, whole vectors
        int planeLen = ld + 32;                    // gathers write whole vectors past a segment's end
        var lb = Gemm.PackedB.Create<float>(s.Cin, qn);
        int vStride = lb.Size + 16, mStride = s.Cout * ld + 16;   // one cache line apart: the 16 streams use different cache sets
        int vLen = 16 * vStride, mLen = 16 * mStride;
        var scratch = Scratch<float>.Get(vLen + mLen + 16 * planeLen + 4 * ld);
        int maxSegments = qn / Math.Max(s.TW, 1) + 2;
        Span<int> seg = maxSegments <= 128 ? stackalloc int[5 * maxSegments] : new int[5 * maxSegments];
        int segments = Segments(s, q0, qn, seg);

        fixed (float* px = x, pu = packedU, pscr = scratch, py = y)
        {
            float* pv = pscr, pm = pscr + vLen, planes = pm + mLen, yb = planes + 16 * planeLen;

            // 1. per input channel: gather the 16 planes, transform into V_ξ (packed B, row c)
            for (int c = 0; c < s.Cin; c++)
            {
                GatherPatches<TV, TL>(s, px, c, seg, segments, planes, planeLen);
                int kb = c / lb.Kc, pp = c - kb * lb.Kc, kcb = Math.Min(lb.Kc, lb.K - kb * lb.Kc);
                long rowBase = (long)kb * lb.Kc * lb.NPadW;
                for (int t = 0; t < ld; t += 16)
                {
                    int jp = t / lb.Nr, width = jp == lb.NPanels - 1 ? lb.LastW : lb.Nr;
                    float* dst = pv + rowBase + (long)jp * lb.Nr * kcb + (long)pp * width + (t - jp * lb.Nr);
                    InputTransform<TV, TL>(planes + t, planeLen, dst, vStride);
                }
            }

            // 2. the 16 products M_ξ = U_ξ · V_ξ (Cout x qn, row stride ld)
            for (int xi = 0; xi < 16; xi++)
                Gemm.PrepackedProduct<float>(s.Cout, new ReadOnlySpan<float>(pu + (long)xi * aSize, aSize), lb,
                    new ReadOnlySpan<float>(pv + (long)xi * vStride, lb.Size), new Span<float>(pm + (long)xi * mStride, s.Cout * ld), ld, 0f);

            // 3. per output channel: inverse transform to 2x2 outputs (+ bias), interleave into the output rows
            for (int o = 0; o < s.Cout; o++)
            {
                var b = TL.Broadcast(bias.IsEmpty ? 0f : bias[o]);
                for (int t = 0; t < ld; t += 16)
                    OutputTransform<TV, TL>(pm + (long)o * ld + t, mStride, b, yb + t, ld);
                for (int sg = 0; sg < segments; sg++)
                {
                    int off = seg[5 * sg], n = seg[5 * sg + 1], th = seg[5 * sg + 2], tw = seg[5 * sg + 3], len = seg[5 * sg + 4];
                    int cols = Math.Min(2 * len, s.OW - 2 * tw);
                    for (int a = 0; a < 2; a++)
                    {
                        int oh = 2 * th + a;
                        if (oh >= s.OH) break;
                        float* dst = py + (((long)n * s.Cout + o) * s.OH + oh) * s.OW + 2 * tw;
                        float* e = yb + 2 * a * ld + off, f = e + ld;
                        for (int k = 0; k < cols; k += 32)
                            TL.StoreInterleaved(TL.Load(e + k / 2), TL.Load(f + k / 2), dst + k, Math.Min(32, cols - k));
                    }
                }
            }
        }
    }

    /// <summary>
    /// Cuts tiles [q0, q0 + qn) into runs of consecutive tiles in one tile row: seg[5i..5i+5) = (offset in the block,
    /// sample, tile row, first tile column, length). Returns the number of runs.
    /// </summary>
    private static int Segments(in WinogradShape s, int q0, int qn, Span<int> seg)
    {
        int per = s.TH * s.TW, segments = 0;
        for (int q = q0, end = q0 + qn; q < end; segments++)
        {
            int n = q / per, rem = q - n * per, th = rem / s.TW, tw = rem - th * s.TW, len = Math.Min(s.TW - tw, end - q);
            seg[5 * segments] = q - q0;
            seg[5 * segments + 1] = n;
            seg[5 * segments + 2] = th;
            seg[5 * segments + 3] = tw;
            seg[5 * segments + 4] = len;
            q += len;
        }
        return segments;
    }

    /// <summary>
    /// The 4x4 input patches of the block's tiles in input channel c, as 16 planes: plane 4r + j holds d[r][j] of
    /// every tile (input row 2·th + r − PH, column 2·tw + j − PW; zero outside the input) at planes + (4r + j)·planeLen.
    /// </summary>
    private static unsafe void GatherPatches<TV, TL>(in WinogradShape s, float* x, int c, ReadOnlySpan<int> seg, int segments, float* planes, int planeLen)
        where TV : struct where TL : struct, ILanes16<TV>
    {
        for (int sg = 0; sg < segments; sg++)
        {
            int off = seg[5 * sg], n = seg[5 * sg + 1], th = seg[5 * sg + 2], tw = seg[5 * sg + 3], len = seg[5 * sg + 4];
            float* image = x + ((long)n * s.Cin + c) * s.H * s.W;
            int c0 = 2 * tw - s.PW;
            for (int r = 0; r < 4; r++)
            {
                float* p0 = planes + 4 * r * planeLen + off;
                int ih = 2 * th + r - s.PH;
                if ((uint)ih >= (uint)s.H)
                {
                    for (int t = 0; t < len; t += 16)
                        for (int j = 0; j < 4; j++) TL.Store(TL.Zero, p0 + j * planeLen + t);
                    continue;
                }
                // plane j, tile t: input column c0 + 2t + j; whole vectors, written past len (later runs overwrite)
                float* src = image + (long)ih * s.W;
                for (int t = 0; t < len; t += 16)
                {
                    int col = c0 + 2 * t;
                    TV v0 = TL.LoadWindow(src, col, s.W), v1 = TL.LoadWindow(src, col + 16, s.W);
                    TV w0 = TL.LoadWindow(src, col + 2, s.W), w1 = TL.LoadWindow(src, col + 18, s.W);
                    TL.Store(TL.Even(v0, v1), p0 + t);
                    TL.Store(TL.Odd(v0, v1), p0 + planeLen + t);
                    TL.Store(TL.Even(w0, w1), p0 + 2 * planeLen + t);
                    TL.Store(TL.Odd(w0, w1), p0 + 3 * planeLen + t);
                }
            }
        }
    }

    /// <summary>V = Bᵀ d B for 16 tiles: d[r][j] at planes + (4r + j)·planeLen; V_ξ (ξ = 4i + j) at dst + ξ·stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void InputTransform<TV, TL>(float* planes, int planeLen, float* dst, int stride) where TV : struct where TL : struct, ILanes16<TV>
    {
        // e = d B row by row, then Bᵀ e column by column
        RowTransform<TV, TL>(planes, planeLen, out var e00, out var e01, out var e02, out var e03);
        RowTransform<TV, TL>(planes + 4 * planeLen, planeLen, out var e10, out var e11, out var e12, out var e13);
        RowTransform<TV, TL>(planes + 8 * planeLen, planeLen, out var e20, out var e21, out var e22, out var e23);
        RowTransform<TV, TL>(planes + 12 * planeLen, planeLen, out var e30, out var e31, out var e32, out var e33);
        Column<TV, TL>(e00, e10, e20, e30, dst, stride);
        Column<TV, TL>(e01, e11, e21, e31, dst + stride, stride);
        Column<TV, TL>(e02, e12, e22, e32, dst + 2L * stride, stride);
        Column<TV, TL>(e03, e13, e23, e33, dst + 3L * stride, stride);
    }

    /// <summary>One row of d B: (d0 − d2, d1 + d2, d2 − d1, d1 − d3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowTransform<TV, TL>(float* p, int planeLen, out TV a0, out TV a1, out TV a2, out TV a3)
        where TV : struct where TL : struct, ILanes16<TV>
    {
        var d0 = TL.Load(p);
        var d1 = TL.Load(p + planeLen);
        var d2 = TL.Load(p + 2 * planeLen);
        var d3 = TL.Load(p + 3 * planeLen);
        a0 = TL.Sub(d0, d2);
        a1 = TL.Add(d1, d2);
        a2 = TL.Sub(d2, d1);
        a3 = TL.Sub(d1, d3);
    }

    /// <summary>Column j of Bᵀ e: V_(4i + j) for i = 0..3, stored 4·stride apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Column<TV, TL>(TV e0, TV e1, TV e2, TV e3, float* d, int stride) where TV : struct where TL : struct, ILanes16<TV>
    {
        TL.Store(TL.Sub(e0, e2), d);
        TL.Store(TL.Add(e1, e2), d + 4L * stride);
        TL.Store(TL.Sub(e2, e1), d + 8L * stride);
        TL.Store(TL.Sub(e1, e3), d + 12L * stride);
    }

    /// <summary>Y = Aᵀ m A + b for 16 tiles: m_ξ at src + ξ·stride; y_ab (a, b in 0..1) at dst + (2a + b)·ld.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void OutputTransform<TV, TL>(float* src, long stride, TV b, float* dst, int ld) where TV : struct where TL : struct, ILanes16<TV>
    {
        // column j of Aᵀ m: s0j = m0j + m1j + m2j, s1j = m1j − m2j − m3j; then y_a0 = sa0 + sa1 + sa2, y_a1 = sa1 − sa2 − sa3
        TV m0 = TL.Load(src), m1 = TL.Load(src + 4 * stride), m2 = TL.Load(src + 8 * stride), m3 = TL.Load(src + 12 * stride);
        TV s00 = TL.Add(TL.Add(m0, m1), m2), s10 = TL.Sub(TL.Sub(m1, m2), m3);
        m0 = TL.Load(src + stride); m1 = TL.Load(src + 5 * stride); m2 = TL.Load(src + 9 * stride); m3 = TL.Load(src + 13 * stride);
        TV s01 = TL.Add(TL.Add(m0, m1), m2), s11 = TL.Sub(TL.Sub(m1, m2), m3);
        m0 = TL.Load(src + 2 * stride); m1 = TL.Load(src + 6 * stride); m2 = TL.Load(src + 10 * stride); m3 = TL.Load(src + 14 * stride);
        TV s02 = TL.Add(TL.Add(m0, m1), m2), s12 = TL.Sub(TL.Sub(m1, m2), m3);
        m0 = TL.Load(src + 3 * stride); m1 = TL.Load(src + 7 * stride); m2 = TL.Load(src + 11 * stride); m3 = TL.Load(src + 15 * stride);
        TV s03 = TL.Add(TL.Add(m0, m1), m2), s13 = TL.Sub(TL.Sub(m1, m2), m3);
        TL.Store(TL.Add(TL.Add(TL.Add(s00, s01), s02), b), dst);
        TL.Store(TL.Add(TL.Sub(TL.Sub(s01, s02), s03), b), dst + ld);
        TL.Store(TL.Add(TL.Add(TL.Add(s10, s11), s12), b), dst + 2 * ld);
        TL.Store(TL.Add(TL.Sub(TL.Sub(s11, s12), s13), b), dst + 3 * ld);
    }
}
