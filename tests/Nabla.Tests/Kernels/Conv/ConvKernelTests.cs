using Nabla.Kernels;
using K = Nabla.Kernels.Conv;

namespace Nabla.Tests.Conv;

/// <summary>Every conv kernel path (im2col+GEMM tiled and untiled, pointwise, direct) against its plain reference loop, on odd sizes, and bit-identical for any thread count.</summary>
public class ConvKernelTests
{
    public static IEnumerable<object[]> Shapes() => new int[][]
    {
        // n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups
        [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1],
        [2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [3, 4, 13, 11, 6, 5, 3, 2, 1, 2, 0, 1, 2, 2],
        [2, 6, 9, 10, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6],
        [1, 17, 5, 7, 33, 1, 1, 1, 1, 0, 0, 1, 1, 1],
        [2, 3, 16, 17, 9, 3, 4, 3, 2, 1, 3, 2, 1, 3],
        [9, 2, 6, 6, 3, 2, 2, 2, 2, 0, 0, 1, 1, 1],
        [17, 3, 9, 8, 10, 3, 2, 1, 1, 2, 1, 2, 1, 1],   // stride 1, dilated, asymmetric: padded rows, 3 samples per tile
        [2, 5, 4, 23, 9, 3, 5, 1, 1, 0, 2, 1, 1, 1],    // wide and flat: extended rows across pixel tiles
        // Winograd F(2x2, 3x3): odd and even sizes, paddings 0..2 per side, rows wider than a vector of tiles,
        // blocks spanning samples, one-column images (a segment per tile), k blocking (330 channels)
        [2, 8, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [3, 9, 6, 40, 10, 3, 3, 1, 1, 0, 2, 1, 1, 1],
        [2, 8, 5, 5, 9, 3, 3, 1, 1, 2, 0, 1, 1, 1],
        [4, 8, 40, 41, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [40, 8, 30, 1, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [1, 330, 4, 5, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [1, 9, 4, 5, 330, 3, 3, 1, 1, 1, 2, 1, 1, 1],
    }.Select(r => r.Cast<object>().ToArray());

    private static ConvGeometry Geo(int[] a) => new(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],
        ConvGeometry.OutSize(a[2], 2 * a[9], a[5], a[7], a[11]), ConvGeometry.OutSize(a[3], 2 * a[10], a[6], a[8], a[12]));

    private static float[] Rand(int n, int seed)
    {
        var g = new Generator((ulong)seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)g.NextNormal();
        return v;
    }

    // float32 error grows with the size of the summed terms, not of the (possibly cancelling) sum: the tolerance has
    // a part relative to the element and one relative to the largest element (sums of thousands of products)
    private static void Close(float[] expected, float[] actual, string what)
    {
        float scale = 0;
        foreach (var e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4f * (1 + Math.Abs(expected[i])) + 1e-5f * scale, $"{what}: element {i}: {actual[i]} vs {expected[i]}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryMethodMatchesTheReference(int n, int c, int h, int w, int o, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, int groups)
    {
        var g = Geo([n, c, h, w, o, kh, kw, sh, sw, ph, pw, dh, dw, groups]);
        var x = Rand(n * c * h * w, 1);
        var wt = Rand(o * g.K, 2);
        var b = Rand(o, 3);
        var dy = Rand(n * o * g.P, 4);
        var yRef = new float[n * o * g.P];
        var dxRef = new float[x.Length];
        var dwRef = new float[wt.Length];
        K.ForwardReference<float>(g, x, wt, b, yRef);
        K.BackwardDataReference<float>(g, dy, wt, dxRef);
        K.BackwardWeightReference<float>(g, x, dy, dwRef);
        var methods = new List<K.Method> { K.Method.Im2ColGemm, K.Method.Direct };
        if (g.IsPointwise) methods.Add(K.Method.Pointwise);
        if (K.WinogradFits(g)) methods.Add(K.Method.Winograd);
        if (K.RowDotFits(g)) methods.AddRange([K.Method.RowDot, K.Method.ShiftedRows]);
        foreach (var m in methods)
            foreach (int budget in new[] { K.ColumnBudget, 37 })   // 37 elements: tiles of 16 pixels, the tiled im2col path
            {
                string what = $"{m} budget {budget}";
                var y = new float[yRef.Length];
                var dx = new float[x.Length];
                var dwt = new float[wt.Length];
                K.Forward<float>(g, x, wt, b, y, m, budget);
                K.BackwardData<float>(g, dy, wt, dx, m, budget);
                K.BackwardWeight<float>(g, x, dy, dwt, m, budget);
                Close(yRef, y, what + " forward");
                Close(dxRef, dx, what + " input residual");
                Close(dwRef, dwt, what + " weight gradient");
                if (m == K.Method.Winograd && System.Runtime.Intrinsics.X86.Avx512F.IsSupported)
                {
                    // the AVX2 variant does the same arithmetic in the same order: bit-identical
                    var y2 = new float[yRef.Length];
                    var dx2 = new float[x.Length];
                    var dw2 = new float[wt.Length];
                    K.WinogradForceAvx2 = true;
                    try
                    {
                        K.Forward<float>(g, x, wt, b, y2, m, budget);
                        K.BackwardData<float>(g, dy, wt, dx2, m, budget);
                        K.BackwardWeight<float>(g, x, dy, dw2, m, budget);
                    }
                    finally
                    {
                        K.WinogradForceAvx2 = false;
                    }
                    Assert.Equal(y, y2);
                    Assert.Equal(dx, dx2);
                    Assert.Equal(dwt, dw2);
                }
                if (m is K.Method.RowDot or K.Method.ShiftedRows && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
                {
                    // the 256-bit (AVX2) tiles: another summation order, so against the reference
                    var y2 = new float[yRef.Length];
                    var dw2 = new float[wt.Length];
                    K.RowsForce256 = true;
                    try
                    {
                        K.Forward<float>(g, x, wt, b, y2, m, budget);
                        K.BackwardWeight<float>(g, x, dy, dw2, m, budget);
                    }
                    finally
                    {
                        K.RowsForce256 = false;
                    }
                    Close(yRef, y2, what + " forward (256-bit)");
                    Close(dwRef, dw2, what + " weight gradient (256-bit)");
                }
            }
        var db = new float[o];
        K.BiasGrad<float>(n, o, g.P, dy, db);
        for (int oc = 0; oc < o; oc++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) for (int p = 0; p < g.P; p++) s += dy[(i * o + oc) * g.P + p];
            Assert.True(Math.Abs(s - db[oc]) < 1e-3, $"bias gradient {oc}");
        }
    }

    [Fact]
    public void Im2ColMatchesItsReference()
    {
        var g = Geo([1, 3, 7, 8, 2, 3, 2, 2, 3, 1, 2, 2, 1, 1]);
        var x = Rand(g.C * g.HW, 5);
        for (int p0 = 0; p0 < g.P; p0 += 5)
        {
            int pn = Math.Min(5, g.P - p0);
            var fast = new float[g.K * pn];
            var slow = new float[g.K * pn];
            Im2Col.Pack<float>(g, x, p0, pn, fast);
            Im2Col.PackReference<float>(g, x, p0, pn, slow);
            Assert.Equal(slow, fast);
        }
    }

    [Theory]
    [InlineData(new[] { 12, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1 })]   // Winograd, all three passes, several tile blocks
    [InlineData(new[] { 16, 1, 28, 28, 6, 5, 5, 1, 1, 2, 2, 1, 1, 1 })]     // LeNet's first layer: shifted rows, row dot
    [InlineData(new[] { 16, 6, 14, 14, 16, 5, 5, 1, 1, 0, 0, 1, 1, 1 })]    // LeNet's second layer
    [InlineData(new[] { 12, 16, 14, 14, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1 })]   // strided: im2col + GEMM
    public void ResultsAreBitIdenticalForAnyThreadCount(int[] shape)
    {
        var g = Geo(shape);
        var x = Rand(g.N * g.C * g.HW, 6);
        var wt = Rand(g.O * g.K, 7);
        var dy = Rand(g.N * g.O * g.P, 8);
        (float[], float[], float[]) Run(int threads)
        {
            int saved = Threading.MaxThreads;
            Threading.MaxThreads = threads;
            try
            {
                var y = new float[dy.Length];
                var dx = new float[x.Length];
                var dwt = new float[wt.Length];
                K.Forward<float>(g, x, wt, default, y);
                K.BackwardData<float>(g, dy, wt, dx);
                K.BackwardWeight<float>(g, x, dy, dwt);
                return (y, dx, dwt);
            }
            finally
            {
                Threading.MaxThreads = saved;
            }
        }
        var a = Run(1);
        var b = Run(2);
        var c = Run(5);
        Assert.Equal(a.Item1, b.Item1);
        Assert.Equal(a.Item2, b.Item2);
        Assert.Equal(a.Item3, b.Item3);
        Assert.Equal(a.Item3, c.Item3);
    }

    [Fact]
    public void Im2ColScratchStaysBoundedForLargeImages()
    {
        // a batch of 3x224x224 images with a 7x7 stride-2 kernel: one tile per thread, never the whole batch
        var g = new ConvGeometry(256, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3, 1, 1, 1, 112, 112);
        int tile = Math.Clamp(K.ColumnBudget / g.K, Math.Min(g.P, 16), g.P);
        Assert.True((long)tile * g.K * sizeof(float) <= 1 << 20, "one tile fits in 1 MiB");
        Assert.True((long)g.K * g.P * g.N * sizeof(float) > 1L << 30, "the untiled batch would need gigabytes");
    }
}
