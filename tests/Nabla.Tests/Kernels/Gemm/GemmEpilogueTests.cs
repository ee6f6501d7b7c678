using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

public class GemmEpilogueTests
{
    /// <summary>(m, n, k): 1, primes, tails of the register tile, several k blocks, and a threaded size.</summary>
    public static IEnumerable<object[]> Shapes() =>
    [
        [1, 1, 1], [1, 17, 5], [13, 1, 7], [7, 3, 0], [2, 2, 2], [17, 31, 33], [49, 50, 700], [96, 144, 64], [129, 65, 127],
        [256, 200, 300],
    ];

    private static float[] Random(Random rng, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BiasActMatchesReference(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
                foreach (var act in new[] { Epilogue.None, Epilogue.Relu })
                    foreach (bool withBias in new[] { false, true })
                    {
                        var rng = new Random(m * 7919 + n * 31 + k);
                        int pad = 3, lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad;
                        var a = Random(rng, (transA ? k : m) * lda + 1);
                        var b = Random(rng, (transB ? n : k) * ldb + 1);
                        var bias = withBias ? Random(rng, n) : [];
                        var c = new float[m * ldc];
                        Array.Fill(c, float.NaN);  // C's old values must not matter
                        var expected = new double[m * ldc];
                        Gemm.ReferenceBiasAct(transA, transB, m, n, k, a.Select(x => (double)x).ToArray(), lda,
                            b.Select(x => (double)x).ToArray(), ldb, bias.Select(x => (double)x).ToArray(), act, expected, ldc);
                        Gemm.SgemmBiasAct(transA, transB, m, n, k, a, lda, b, ldb, bias, act, c, ldc);
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++)
                            {
                                double e = expected[i * ldc + j], got = c[i * ldc + j];
                                Assert.True(Math.Abs(got - e) <= 1e-5 * (k + 1),
                                    $"{m}x{n}x{k} tA={transA} tB={transB} {act} bias={withBias} at ({i},{j}): {got} vs {e}");
                                if (act == Epilogue.Relu) Assert.True(got >= 0);
                            }
                    }
    }

    [Fact]
    public void ReluKeepsNaNAndZeroesNegatives()
    {
        // 1x2 by k=1: c = [NaN, -2] + bias: NaN stays NaN (as PyTorch's relu), the negative becomes 0
        var c = new float[2];
        Gemm.SgemmBiasAct(false, false, 1, 2, 1, new float[] { 1 }, 1, new float[] { float.NaN, -3 }, 2, new float[] { 0, 1 },
            Epilogue.Relu, c, 2);
        Assert.True(float.IsNaN(c[0]));
        Assert.Equal(0f, c[1]);
    }

    [Fact]
    public void WrongBiasLengthNamesTheShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.SgemmBiasAct(false, false, 2, 3, 1, new float[2], 1, new float[3], 3,
            new float[2], Epilogue.None, new float[6], 3));
        Assert.Contains("n=3", ex.Message);
    }
}
