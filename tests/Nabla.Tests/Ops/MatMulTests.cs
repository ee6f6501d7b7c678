using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>Matrix products against the triple loop.</summary>
public class MatMulTests
{
    // C[b] = A[b]·B[b] by the triple loop, for row-major batches
    private static double[] MatMulRef(double[] a, double[] b, int batch, int m, int k, int n, bool broadcastA = false, bool broadcastB = false)
    {
        var c = new double[batch * m * n];
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += a[(broadcastA ? 0 : p) * m * k + i * k + q] * b[(broadcastB ? 0 : p) * k * n + q * n + j];
                    c[p * m * n + i * n + j] = s;
                }
        return c;
    }

    [Fact]
    public void MatMulHandComputed()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new double[,] { { 5, 6 }, { 7, 8 } });
        Assert.Equal([19.0, 22.0, 43.0, 50.0], Values(Tensor.MatMul(a, b)));
        Assert.Equal([26.0, 30.0, 38.0, 44.0], Values(Tensor.MatMul(a.T, b)));
        Assert.Equal(11.0, Tensor.MatMul(Tensor.FromArray([1.0, 2.0]), Tensor.FromArray([3.0, 4.0])).Item());
        Assert.Equal([], Tensor.MatMul(Tensor.FromArray([1.0, 2.0]), Tensor.FromArray([3.0, 4.0])).Shape.ToArray());
        Assert.Equal([4.0, 6.0], Values(Tensor.MatMul(Tensor.FromArray([1.0, 1.0]), a)));
        Assert.Equal([5.0, 11.0], Values(a.MatMul(Tensor.FromArray([1.0, 2.0]))));
    }

    [Theory]
    [InlineData(3, 4, 5)]
    [InlineData(1, 1, 1)]
    [InlineData(17, 33, 9)]
    [InlineData(65, 70, 40)]
    public void MatMulMatchesTripleLoop(int m, int k, int n)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            double rel = dtype == DType.Float64 ? 1e-12 : 1e-5, abs = dtype == DType.Float64 ? 1e-12 : 1e-5;
            var a = Randn(1, m, k).To(dtype);
            var b = Randn(2, k, n).To(dtype);
            var expected = MatMulRef(Values(a), Values(b), 1, m, k, n);
            Close(expected, Values(Tensor.MatMul(a, b)), rel, abs);
            // the same product through transposed views (GEMM transpose flags) and a strided slice (a copy)
            Close(expected, Values(Tensor.MatMul(a.T.Contiguous().T, b.T.Contiguous().T)), rel, abs);
            var wide = Tensor.Cat([a, Tensor.Zeros([m, k], dtype)], 1).Reshape(m, 2, k).Select(1, 0);
            Close(expected, Values(Tensor.MatMul(wide, b)), rel, abs);
            // batched with a broadcast batch dim: [2, 1, m, k] · [3, k, n] → [2, 3, m, n]
            var ab = Randn(3, 2, 1, m, k).To(dtype);
            var bb = Randn(4, 3, k, n).To(dtype);
            var y = Tensor.MatMul(ab, bb);
            Assert.Equal([2, 3, m, n], y.Shape.ToArray());
            var yd = Values(y);
            var ad = Values(ab);
            var bd = Values(bb);
            for (int i = 0; i < 2; i++)
            {
                var expectedI = MatMulRef(ad[(i * m * k)..((i + 1) * m * k)], bd, 3, m, k, n, broadcastA: true);
                Close(expectedI, yd[(i * 3 * m * n)..((i + 1) * 3 * m * n)], rel, abs);
            }
        }
    }

    [Fact]
    public void MatMulOneDimensionalOperandsAndBatches()
    {
        var v = Randn(1, 4);
        var bat = Randn(2, 3, 4, 5);
        var y = Tensor.MatMul(v, bat); // [4] · [3, 4, 5] → [3, 5]
        Assert.Equal([3, 5], y.Shape.ToArray());
        Close(MatMulRef(Values(v), Values(bat), 3, 1, 4, 5, broadcastA: true), Values(y));
        var w = Randn(3, 5);
        var z = Tensor.MatMul(bat, w); // [3, 4, 5] · [5] → [3, 4]
        Assert.Equal([3, 4], z.Shape.ToArray());
        Close(MatMulRef(Values(bat), Values(w), 3, 4, 5, 1, broadcastB: true), Values(z));
    }
}
