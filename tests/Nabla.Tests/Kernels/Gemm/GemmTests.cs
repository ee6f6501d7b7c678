using System.Numerics;
using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

public class GemmTests
{
    private static readonly int[] s_sizes = [1, 2, 3, 7, 15, 17, 31, 33, 63, 65, 127, 129];

    /// <summary>(m, n, k) triples: every size in each position, paired with others in rotation, plus multi-k-block cases.</summary>
    public static IEnumerable<object[]> Shapes()
    {
        var seen = new HashSet<(int, int, int)>();
        for (int i = 0; i < s_sizes.Length; i++)
        {
            int s = s_sizes[i], x = s_sizes[(i + 5) % s_sizes.Length], y = s_sizes[(i + 8) % s_sizes.Length];
            foreach (var t in new[] { (s, x, y), (y, s, x), (x, y, s) })
                if (seen.Add(t)) yield return [t.Item1, t.Item2, t.Item3];
        }
        yield return [49, 50, 700];  // three k blocks, edge tiles in both directions
        yield return [96, 144, 64];  // exact multiples of the register tile
        yield return [1, 1, 1000];
    }

    private static T[] Random<T>(Random rng, long length) where T : IFloatingPointIeee754<T>
    {
        var v = new T[length];
        for (long i = 0; i < length; i++) v[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static T[] Garbage<T>(long length) where T : IFloatingPointIeee754<T>
    {
        var v = new T[length];
        Array.Fill(v, T.NaN);
        return v;
    }

    /// <summary>Runs one product with the given layout and checks it against the reference (computed in double).</summary>
    private static void Check<T>(bool transA, bool transB, int m, int n, int k, T alpha, T beta, int pad, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        int lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
        var a = Random<T>(rng, (long)(transA ? k : m) * lda);
        var b = Random<T>(rng, (long)(transB ? n : k) * ldb);
        var c = T.IsZero(beta) ? Garbage<T>((long)m * ldc) : Random<T>(rng, (long)m * ldc);
        var c0 = (T[])c.Clone();
        if (typeof(T) == typeof(float))
            Gemm.Sgemm(transA, transB, m, n, k, float.CreateChecked(alpha), Cast<T, float>(a), lda, Cast<T, float>(b), ldb,
                float.CreateChecked(beta), Cast<T, float>(c), ldc);
        else
            Gemm.Dgemm(transA, transB, m, n, k, double.CreateChecked(alpha), Cast<T, double>(a), lda, Cast<T, double>(b), ldb,
                double.CreateChecked(beta), Cast<T, double>(c), ldc);
        AssertMatches(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c0, c, ldc);
    }

    private static TTo[] Cast<TFrom, TTo>(TFrom[] v) => (TTo[])(object)v;

    private static void AssertMatches<T>(bool transA, bool transB, int m, int n, int k, T alpha, T[] a, int lda, T[] b, int ldb,
        T beta, T[] c0, T[] actual, int ldc) where T : IFloatingPointIeee754<T>
    {
        double[] ad = Array.ConvertAll(a, double.CreateChecked), bd = Array.ConvertAll(b, double.CreateChecked);
        double[] cd = Array.ConvertAll(c0, double.CreateChecked);
        double[] absA = Array.ConvertAll(ad, Math.Abs), absB = Array.ConvertAll(bd, Math.Abs);
        double[] scale = Array.ConvertAll(cd, v => double.IsNaN(v) ? 0 : Math.Abs(v));
        double al = double.CreateChecked(alpha), be = double.CreateChecked(beta);
        Gemm.ReferenceGemm(transA, transB, m, n, k, al, ad, lda, bd, ldb, be, cd, ldc);
        Gemm.ReferenceGemm(transA, transB, m, n, k, Math.Abs(al), absA, lda, absB, ldb, Math.Abs(be), scale, ldc);
        double tol = (typeof(T) == typeof(float) ? 1e-6 : 1e-14) * (Math.Sqrt(k) + 2);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                int at = i * ldc + j;
                double got = double.CreateChecked(actual[at]);
                if (j >= n)
                {
                    // Padding between rows must be untouched.
                    Assert.Equal(double.CreateChecked(c0[at]), got);
                    continue;
                }
                double err = Math.Abs(got - cd[at]);
                if (!(err <= tol * scale[at] + 1e-30))
                    Assert.Fail($"C[{i},{j}] = {got}, expected {cd[at]} (err {err:g3} > {tol * scale[at]:g3}); m={m} n={n} k={k} tA={transA} tB={transB}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Float_AllTransposes_MatchReference(int m, int n, int k)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                Check(ta, tb, m, n, k, 1f, 0f, pad: 0, seed: m * 1000 + n * 10 + k);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Double_AllTransposes_MatchReference(int m, int n, int k)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                Check(ta, tb, m, n, k, 1.0, 0.0, pad: 0, seed: m * 1000 + n * 10 + k);
    }

    [Theory]
    [InlineData(1f, 0f)]   // C holds NaN garbage that must be ignored
    [InlineData(1f, 1f)]
    [InlineData(-0.5f, 2.5f)]
    [InlineData(2f, -1f)]
    public void AlphaBeta_And_LeadingDimensions(float alpha, float beta)
    {
        int[][] shapes = [[33, 65, 17], [70, 51, 400], [1, 77, 40], [77, 1, 40], [1, 1, 9], [8, 48, 5]];
        foreach (int[] s in shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    Check(ta, tb, s[0], s[1], s[2], alpha, beta, pad: 3, seed: s[0] + s[1] + s[2]);
                    Check(ta, tb, s[0], s[1], s[2], (double)alpha, (double)beta, pad: 5, seed: s[0] * s[1]);
                }
    }

    [Fact]
    public void GemvShapes_MatchReference()
    {
        int[][] shapes = [[1, 512, 784], [1, 300, 129], [1, 1000, 33], [515, 1, 200], [200, 1, 515], [1, 130, 1]];
        foreach (int[] s in shapes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                {
                    Check(ta, tb, s[0], s[1], s[2], 1f, 0f, pad: 0, seed: 7);
                    Check(ta, tb, s[0], s[1], s[2], 0.75f, 0.5f, pad: 2, seed: 8);
                    Check(ta, tb, s[0], s[1], s[2], 0.75, 0.5, pad: 1, seed: 9);
                }
    }

    [Fact]
    public void ZeroSizes()
    {
        float[] c = [1, 2, 3, 4, 5, 6];
        Gemm.Sgemm(false, false, 2, 3, 0, 1f, [], 1, [], 3, 2f, c, 3);
        Assert.Equal([2f, 4, 6, 8, 10, 12], c);
        float[] nan = [float.NaN, float.NaN];
        Gemm.Sgemm(false, true, 1, 2, 0, 1f, [], 1, [], 1, 0f, nan, 2);
        Assert.Equal([0f, 0f], nan);
        Gemm.Sgemm(false, false, 0, 3, 5, 1f, [], 5, new float[15], 3, 1f, [], 3);
        Gemm.Sgemm(false, false, 3, 0, 5, 1f, new float[15], 5, [], 1, 1f, [], 1);
        double[] d = [1, 1];
        Gemm.Dgemm(true, true, 1, 2, 0, 1.0, [], 1, [], 1, 0.5, d, 2);
        Assert.Equal([0.5, 0.5], d);
    }

    [Fact]
    public void InvalidArguments_Throw()
    {
        var a = new float[12];
        var e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, -1, 2, 2, 1f, a, 2, a, 2, 0f, a, 2));
        Assert.Contains("Gemm", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 4, 4, 4, 1f, a, 4, new float[16], 4, 0f, new float[16], 4));
        Assert.Contains("Gemm", e.Message);
        Assert.Contains("12", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, false, 2, 2, 3, 1f, a, 2, a, 2, 0f, a, 2));
        Assert.Contains("lda", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.Sgemm(false, true, 2, 3, 2, 1f, a, 2, a, 2, 0f, new float[5], 3));
        Assert.Contains("Gemm", e.Message);
        e = Assert.Throws<ArgumentException>(() => Gemm.DgemmBatched(3, false, false, 2, 2, 2, 1.0, new double[4], 2, 0,
            new double[4], 2, 0, 0.0, new double[12], 2, 2));
        Assert.Contains("strideC", e.Message);
    }

    [Theory]
    [InlineData(6, 9, 13, 11)]     // small: one product per part
    [InlineData(3, 130, 70, 90)]   // large: each product threaded internally
    public void Batched_WithBroadcast_MatchesPerMatrix(int batch, int m, int n, int k)
    {
        var rng = new Random(batch);
        foreach (bool broadcastA in new[] { false, true })
        {
            long strideA = broadcastA ? 0 : (long)m * k, strideB = broadcastA ? (long)n * k : 0, strideC = (long)m * n + 3;
            var a = Random<float>(rng, broadcastA ? m * k : batch * strideA);
            var b = Random<float>(rng, broadcastA ? batch * strideB : n * k);
            var c = Random<float>(rng, batch * strideC);
            var expected = (float[])c.Clone();
            for (int i = 0; i < batch; i++)
                Gemm.Sgemm(false, true, m, n, k, 0.5f, a.AsSpan((int)(i * strideA)), k, b.AsSpan((int)(i * strideB)), k, 0.25f,
                    expected.AsSpan((int)(i * strideC)), n);
            Gemm.SgemmBatched(batch, false, true, m, n, k, 0.5f, a, k, strideA, b, k, strideB, 0.25f, c, n, strideC);
            Assert.Equal(expected, c);

            // Double, transposed A (stored m x k, used as k x m), against the reference per matrix.
            var ad = Array.ConvertAll(a, v => (double)v);
            long strideB2 = broadcastA ? (long)m * n : 0, strideC2 = (long)k * n + 1;
            var bd = Random<double>(rng, broadcastA ? batch * strideB2 : m * n);
            var cd = Garbage<double>(batch * strideC2);
            Gemm.DgemmBatched(batch, true, false, k, n, m, 1.0, ad, k, strideA, bd, n, strideB2, 0.0, cd, n, strideC2);
            for (int i = 0; i < batch; i++)
            {
                var want = new double[k * n];
                Gemm.ReferenceGemm(true, false, k, n, m, 1.0, ad.AsSpan((int)(i * strideA)), k, bd.AsSpan((int)(i * strideB2)), n,
                    0.0, want, n);
                for (int q = 0; q < want.Length; q++) Assert.Equal(want[q], cd[i * strideC2 + q], 1e-11);
            }
        }
    }

    [Fact]
    public void SplittingHugeProducts_GivesIdenticalResults()
    {
        var rng = new Random(3);
        int m = 77, n = 301, k = 130;
        var a = Random<float>(rng, m * k);
        var b = Random<float>(rng, k * n);
        var c = Random<float>(rng, m * n);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var whole = (float[])c.Clone();
                Gemm.Sgemm(ta, tb, m, n, k, 1.25f, a, ta ? m : k, b, tb ? k : n, -0.5f, whole, n);
                long saved = Gemm.s_maxPackedElements;
                var split = (float[])c.Clone();
                try
                {
                    Gemm.s_maxPackedElements = 4000; // forces several column and row splits
                    Gemm.Sgemm(ta, tb, m, n, k, 1.25f, a, ta ? m : k, b, tb ? k : n, -0.5f, split, n);
                }
                finally
                {
                    Gemm.s_maxPackedElements = saved;
                }
                Assert.True(whole.AsSpan().SequenceEqual(split));
            }
    }

    /// <summary>
    /// Short, wide products stream B (each panel packed by the thread that multiplies it): every element gets the same
    /// operations as when all of B is packed first, on one thread or two, in float and double. The shapes' packed A
    /// (at most 16 x 1000 floats, 64 KB) is below half of any L2, so they take the streaming path on every CPU.
    /// </summary>
    [Fact]
    public void StreamingB_GivesTheBitsOfPackingAllOfBFirst()
    {
        int saved = Threading.MaxThreads;
        var rng = new Random(11);
        int[][] shapes = [[8, 100, 30], [13, 520, 700], [16, 1000, 5], [5, 97, 333]];
        try
        {
            foreach (int[] s in shapes)
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                        foreach (int threads in new[] { 1, 2 })
                        {
                            int m = s[0], n = s[1], k = s[2];
                            Threading.MaxThreads = threads;
                            var a = Random<float>(rng, m * k);
                            var b = Random<float>(rng, k * n);
                            var c = Random<float>(rng, m * n);
                            var ad = Array.ConvertAll(a, x => (double)x);
                            var bd = Array.ConvertAll(b, x => (double)x);
                            var cd = Array.ConvertAll(c, x => (double)x);
                            float[] Float(bool stream)
                            {
                                Gemm.s_streamB = stream;
                                var r = (float[])c.Clone();
                                Gemm.Sgemm(ta, tb, m, n, k, 1.25f, a, ta ? m : k, b, tb ? k : n, -0.5f, r, n);
                                return r;
                            }
                            double[] Double(bool stream)
                            {
                                Gemm.s_streamB = stream;
                                var r = (double[])cd.Clone();
                                Gemm.Dgemm(ta, tb, m, n, k, 1.25, ad, ta ? m : k, bd, tb ? k : n, -0.5, r, n);
                                return r;
                            }
                            Assert.True(Float(false).AsSpan().SequenceEqual(Float(true)), $"float {m}x{n}x{k} ta={ta} tb={tb} threads={threads}");
                            Assert.True(Double(false).AsSpan().SequenceEqual(Double(true)), $"double {m}x{n}x{k} ta={ta} tb={tb} threads={threads}");
                        }
        }
        finally
        {
            Gemm.s_streamB = true;
            Threading.MaxThreads = saved;
        }
    }

    /// <summary>
    /// Threaded products that run one band of C per thread (row bands when m ≥ n, column bands otherwise, the last
    /// column band holding the narrow panel) give the bits of the shared path, with alpha, beta, a leading dimension
    /// past n and the bias + ReLU epilogue, in float and double. The shapes' bands pack at most 48 x 300 floats of A
    /// (56 KB), below half of any L2, so they split on every CPU.
    /// </summary>
    [Fact]
    public void Bands_GiveTheBitsOfTheSharedPath()
    {
        int saved = Threading.MaxThreads;
        var rng = new Random(12);
        int[][] shapes = [[96, 80, 260], [40, 500, 300], [99, 97, 256]];
        try
        {
            foreach (int[] s in shapes)
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                        foreach (int threads in new[] { 2, 3 })
                        {
                            int m = s[0], n = s[1], k = s[2], ldc = n + 5;
                            Threading.MaxThreads = threads;
                            var a = Random<float>(rng, m * k);
                            var b = Random<float>(rng, k * n);
                            var c = Random<float>(rng, m * ldc);
                            var bias = Random<float>(rng, n);
                            var ad = Array.ConvertAll(a, x => (double)x);
                            var bd = Array.ConvertAll(b, x => (double)x);
                            var cd = Array.ConvertAll(c, x => (double)x);
                            float[] Float(bool bands, bool epilogue)
                            {
                                Gemm.s_bands = bands;
                                var r = (float[])c.Clone();
                                if (epilogue) Gemm.SgemmBiasAct(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, bias, Epilogue.Relu, r, ldc);
                                else Gemm.Sgemm(ta, tb, m, n, k, 1.25f, a, ta ? m : k, b, tb ? k : n, -0.5f, r, ldc);
                                return r;
                            }
                            double[] Double(bool bands)
                            {
                                Gemm.s_bands = bands;
                                var r = (double[])cd.Clone();
                                Gemm.Dgemm(ta, tb, m, n, k, 1.25, ad, ta ? m : k, bd, tb ? k : n, -0.5, r, ldc);
                                return r;
                            }
                            string what = $"{m}x{n}x{k} ta={ta} tb={tb} threads={threads}";
                            Assert.True(Float(false, false).AsSpan().SequenceEqual(Float(true, false)), "float " + what);
                            Assert.True(Float(false, true).AsSpan().SequenceEqual(Float(true, true)), "float bias+relu " + what);
                            Assert.True(Double(false).AsSpan().SequenceEqual(Double(true)), "double " + what);
                        }
        }
        finally
        {
            Gemm.s_bands = true;
            Threading.MaxThreads = saved;
        }
    }

    /// <summary>
    /// A tall product whose per-thread band of A (512 x 4096 floats, 8 MiB) is too large to stream runs as 4 row bands
    /// on 2 threads (on a CPU with an L2 of 2 MiB or more, as 2): still the shared path's bits.
    /// </summary>
    [Fact]
    public void MoreBandsThanThreads_GiveTheBitsOfTheSharedPath()
    {
        int saved = Threading.MaxThreads;
        const int m = 1024, n = 530, k = 4096;
        var rng = new Random(13);
        var a = Random<float>(rng, m * k);
        var b = Random<float>(rng, k * n);
        try
        {
            Threading.MaxThreads = 2;
            float[] Run(bool bands)
            {
                Gemm.s_bands = bands;
                var c = new float[m * n];
                Gemm.Sgemm(false, false, m, n, k, 1f, a, k, b, n, 0f, c, n);
                return c;
            }
            Assert.True(Run(false).AsSpan().SequenceEqual(Run(true)));
        }
        finally
        {
            Gemm.s_bands = true;
            Threading.MaxThreads = saved;
        }
    }

    [Fact]
    public void Results_AreBitIdentical_ForAnyThreadCount()
    {
        int saved = Threading.MaxThreads;
        try
        {
            var rng = new Random(42);
            int[][] shapes = [[301, 257, 350], [1, 1500, 700], [1500, 1, 700], [64, 900, 33]];
            foreach (int[] s in shapes)
                foreach (bool ta in new[] { false, true })
                    foreach (bool tb in new[] { false, true })
                    {
                        int m = s[0], n = s[1], k = s[2];
                        var a = Random<float>(rng, m * k);
                        var b = Random<float>(rng, k * n);
                        var c = Random<float>(rng, m * n);
                        float[]? first = null;
                        foreach (int threads in new[] { 1, 2, 3 })
                        {
                            Threading.MaxThreads = threads;
                            var r = (float[])c.Clone();
                            Gemm.Sgemm(ta, tb, m, n, k, 1.5f, a, ta ? m : k, b, tb ? k : n, 0.5f, r, n);
                            if (first is null) first = r;
                            else Assert.True(first.AsSpan().SequenceEqual(r), $"threads={threads} differs for {m}x{n}x{k} tA={ta} tB={tb}");
                        }
                    }
        }
        finally
        {
            Threading.MaxThreads = saved;
        }
    }
}

/// <summary>
/// The narrow (Vector256 / Vector128) micro-kernel that machines without AVX-512 run: forced here, it must give
/// exactly the 512-bit kernel's results (same fused-multiply-add chain per element), in float and double, for
/// every layout and edge. Forcing is global, but any concurrent test gets identical numbers either way.
/// </summary>
public class GemmNarrowKernelTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (int bits in new[] { 256, 128 })
            foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 33, 5), (17, 49, 63), (49, 50, 700), (96, 144, 64), (8, 16, 3), (9, 17, 2) })
                yield return [bits, m, n, k];
    }

    private static T[] Random<T>(int seed, int length) where T : IFloatingPointIeee754<T>
    {
        var rng = new Random(seed);
        var v = new T[length];
        for (int i = 0; i < length; i++) v[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static T[] Product<T>(int bits, bool transA, bool transB, int m, int n, int k, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = Random<T>(1, m * k);
        var b = Random<T>(2, k * n);
        var c = Random<T>(3, m * n);
        int saved = Gemm.ForceVectorBits;
        Gemm.ForceVectorBits = bits;
        try
        {
            Gemm.Multiply(transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, beta, c, n);
        }
        finally
        {
            Gemm.ForceVectorBits = saved;
        }
        return c;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void NarrowKernelMatchesTheWideOneBitForBit(int bits, int m, int n, int k)
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated) return;   // nothing to compare against
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                Assert.Equal(Product(0, transA, transB, m, n, k, 0f), Product(bits, transA, transB, m, n, k, 0f));
                Assert.Equal(Product(0, transA, transB, m, n, k, 0.5f), Product(bits, transA, transB, m, n, k, 0.5f));
                Assert.Equal(Product(0, transA, transB, m, n, k, 1.0), Product(bits, transA, transB, m, n, k, 1.0));
            }
    }
}
