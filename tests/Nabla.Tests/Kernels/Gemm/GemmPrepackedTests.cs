using System.Numerics;
using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

/// <summary>The pre-packed product (packed A, B scattered row by row into panels) against the plain reference GEMM, on odd sizes and several k blocks.</summary>
public class GemmPrepackedTests
{
    private static T[] Random<T>(Random rng, int length) where T : IFloatingPointIeee754<T>
    {
        var v = new T[length];
        for (int i = 0; i < length; i++) v[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
        return v;
    }

    private static void Check<T>(int m, int n, int k, bool transA, bool withBeta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        var a = Random<T>(rng, m * k);
        var b = Random<T>(rng, k * n);
        var c0 = Random<T>(rng, m * n);
        T beta = withBeta ? T.One : T.Zero;
        var expected = (T[])c0.Clone();
        Gemm.ReferenceGemm(transA, false, m, n, k, T.One, a, transA ? m : k, b, n, beta, expected, n);

        var pa = new T[Gemm.PackedASize(m, k)];
        Gemm.PackA<T>(transA, m, k, a, transA ? m : k, pa);
        var lb = Gemm.PackedB.Create<T>(k, n);
        var pb = new T[lb.Size];
        Array.Fill(pb, T.CreateChecked(12345)); // every slot must be written (padding zeroed)
        for (int p = 0; p < k; p++) lb.ScatterRow<T>(p, b.AsSpan(p * n, n), pb);
        var c = (T[])c0.Clone();
        Gemm.PrepackedProduct<T>(m, pa, lb, pb, c, n, beta);
        for (int i = 0; i < c.Length; i++)
            Assert.True(T.Abs(c[i] - expected[i]) <= T.CreateChecked(1e-4) * (T.One + T.Abs(expected[i])),
                $"m={m} n={n} k={k} transA={transA} beta={beta}: element {i}: {c[i]} vs {expected[i]}");
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(6, 100, 25)]
    [InlineData(8, 48, 320)]
    [InlineData(17, 49, 321)]
    [InlineData(33, 130, 700)]
    [InlineData(9, 15, 7)]
    public void MatchesTheReference(int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
            foreach (bool beta in new[] { false, true })
            {
                Check<float>(m, n, k, transA, beta);
                Check<double>(m, n, k, transA, beta);
            }
    }

    [Fact]
    public void RejectsTooSmallBuffers()
    {
        var lb = Gemm.PackedB.Create<float>(4, 5);
        Assert.Throws<ArgumentException>(() => Gemm.PrepackedProduct<float>(3, new float[Gemm.PackedASize(3, 4)], lb, new float[lb.Size], new float[10], 5, 0f));
    }
}
