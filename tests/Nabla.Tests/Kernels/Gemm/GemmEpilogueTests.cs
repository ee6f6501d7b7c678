using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The fused epilogue C = act(op(A)·op(B) + bias): bit for bit what "fill C with the bias, Sgemm with beta = 1, then
/// ReLU" gives, and close to the plain-loop reference in double, on odd sizes, every layout, padded C, both paths.
/// </summary>
public class GemmEpilogueTests
{
    public static IEnumerable<object[]> Shapes() =>
        new[] { (1, 1, 1), (1, 37, 19), (23, 1, 17), (7, 33, 5), (17, 49, 63), (49, 50, 700), (96, 144, 64), (9, 131, 1), (5, 3, 0) }
            .Select(s => new object[] { s.Item1, s.Item2, s.Item3 });

    private static float[] Random(Random rng, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static float[] Fused(bool ta, bool tb, int m, int n, int k, float[] a, float[] b, float[] bias, Epilogue act, int ldc)
    {
        var c = new float[Math.Max(1, m * ldc)];
        Array.Fill(c, float.NaN);
        Gemm.SgemmBiasAct(ta, tb, m, n, k, a, Math.Max(1, ta ? m : k), b, Math.Max(1, tb ? k : n), bias, act, c, ldc);
        return c;
    }

    private static float[] Composite(bool ta, bool tb, int m, int n, int k, float[] a, float[] b, float[] bias, Epilogue act, int ldc)
    {
        var c = new float[Math.Max(1, m * ldc)];
        Array.Fill(c, float.NaN);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[i * ldc + j] = bias.Length == 0 ? 0f : bias[j];
        Gemm.Sgemm(ta, tb, m, n, k, 1f, a, Math.Max(1, ta ? m : k), b, Math.Max(1, tb ? k : n), 1f, c, ldc);
        if (act == Epilogue.Relu)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) c[i * ldc + j] = c[i * ldc + j] > 0 || float.IsNaN(c[i * ldc + j]) ? c[i * ldc + j] : 0f;
        return c;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesFillThenGemmThenRelu_BitForBit_AndTheReference(int m, int n, int k)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        var a = Random(rng, m * k);
        var b = Random(rng, k * n);
        var bias = Random(rng, n);
        int ldc = n + 3;
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (var act in new[] { Epilogue.None, Epilogue.Relu })
                    foreach (var bi in new[] { bias, Array.Empty<float>() })
                    {
                        var got = Fused(ta, tb, m, n, k, a, b, bi, act, ldc);
                        Assert.Equal(Composite(ta, tb, m, n, k, a, b, bi, act, ldc), got);
                        var want = new double[Math.Max(1, m * ldc)];
                        Gemm.ReferenceBiasAct(ta, tb, m, n, k, Array.ConvertAll(a, x => (double)x), Math.Max(1, ta ? m : k),
                            Array.ConvertAll(b, x => (double)x), Math.Max(1, tb ? k : n), Array.ConvertAll(bi, x => (double)x), act, want, ldc);
                        int negatives = 0;
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < ldc; j++)
                            {
                                float g = got[i * ldc + j];
                                if (j >= n) { Assert.True(float.IsNaN(g), "padding between rows must stay untouched"); continue; }
                                Assert.True(Math.Abs(g - want[i * ldc + j]) <= 1e-5 * (k + 2), $"C[{i},{j}]={g}, expected {want[i * ldc + j]}");
                                if (act == Epilogue.Relu) Assert.True(g >= 0f);
                                if (want[i * ldc + j] < -1e-3) negatives++;
                            }
                        if (act == Epilogue.None && bi.Length > 0 && k > 0 && m * n > 8) Assert.True(negatives > 0, "the test data must exercise ReLU");
                    }
    }

    [Fact]
    public void Relu_KeepsNaN_AndMakesNegativeZeroPositive()
    {
        // 9 x 50 (packed path, edge tiles) and 1 x 50 (GEMV path): row 0 of A is NaN, bias -0 with zero products
        foreach (int m in new[] { 9, 1 })
        {
            int n = 50, k = 3;
            var a = new float[m * k];
            a[0] = float.NaN;
            var b = new float[k * n];
            var bias = new float[n];
            Array.Fill(bias, -0f);
            var c = new float[m * n];
            Gemm.SgemmBiasAct(false, false, m, n, k, a, k, b, n, bias, Epilogue.Relu, c, n);
            for (int j = 0; j < n; j++) Assert.True(float.IsNaN(c[j]));
            for (int i = m == 1 ? m : 1; i < m; i++)
                for (int j = 0; j < n; j++) Assert.True(c[i * n + j] == 0f && !float.IsNegative(c[i * n + j]));
        }
    }

    [Fact]
    public void BitIdentical_ForAnyThreadCount_AndAcrossSplits()
    {
        int saved = Threading.MaxThreads;
        long savedMax = Gemm.s_maxPackedElements;
        try
        {
            var rng = new Random(5);
            int m = 301, n = 257, k = 350;
            var a = Random(rng, m * k);
            var b = Random(rng, k * n);
            var bias = Random(rng, n);
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Threading.MaxThreads = threads;
                var r = Fused(false, true, m, n, k, a, b, bias, Epilogue.Relu, n);
                if (first is null) first = r;
                else Assert.Equal(first, r);
            }
            Gemm.s_maxPackedElements = 40000;   // several column and row splits: the bias follows its columns
            Assert.Equal(first, Fused(false, true, m, n, k, a, b, bias, Epilogue.Relu, n));
        }
        finally
        {
            Threading.MaxThreads = saved;
            Gemm.s_maxPackedElements = savedMax;
        }
    }

    [Fact]
    public void WrongBiasLength_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.SgemmBiasAct(false, false, 2, 3, 4, new float[8], 4, new float[12], 3, new float[2], Epilogue.None, new float[6], 3));
        Assert.Contains("bias has 2 elements, expected n=3", ex.Message);
    }
}
