using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

/// <summary>The column sums (sums over leading dims, full reductions) on each of their paths against a plain double loop.</summary>
public class ReduceTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(301056, 1)]   // a full reduction: one SIMD sum
    [InlineData(1000, 3)]     // short rows: the plain loop
    [InlineData(77, 15)]
    [InlineData(50, 16)]      // rows of at least 16: one SIMD add per row
    [InlineData(9, 40)]
    public void SumColumnsMatchesAPlainLoop(int outer, int inner)
    {
        var rng = new Random(outer * 31 + inner);
        var x = new float[outer * inner];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var d = new float[inner];
        Reduce.SumColumns<float>(x, outer, inner, d);
        for (int j = 0; j < inner; j++)
        {
            double s = 0, abs = 0;
            for (int r = 0; r < outer; r++)
            {
                s += x[r * inner + j];
                abs += Math.Abs(x[r * inner + j]);
            }
            Assert.True(Math.Abs(d[j] - s) <= 1e-6 * abs + 1e-6, $"column {j}: {d[j]} vs {s}");
        }
    }
}

/// <summary>The fused row softmax and log-softmax against plain double loops, on one and on many parts.</summary>
public class SoftmaxKernelTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 7)]
    [InlineData(256, 1024)]
    [InlineData(4096, 33)]
    public void FusedRowsMatchThePlainLoops(int rows, int n)
    {
        var rng = new Random(rows + n);
        var x = new double[rows * n];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextDouble() * 20 - 10;
        foreach (bool log in new[] { false, true })
        {
            var expected = new double[x.Length];
            Softmax.ForwardReference(x, rows, n, expected, log);
            var xf = x.Select(v => (float)v).ToArray();
            var yf = new float[x.Length];
            Softmax.Forward<float>(xf, rows, n, yf, log);
            var yd = new double[x.Length];
            Softmax.Forward<double>(x, rows, n, yd, log);
            for (int i = 0; i < x.Length; i++)
            {
                Assert.True(Math.Abs(yd[i] - expected[i]) <= 1e-12 * (1 + Math.Abs(expected[i])), $"float64 {(log ? "log-" : "")}softmax {i}: {yd[i]} vs {expected[i]}");
                Assert.True(Math.Abs(yf[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"float32 {(log ? "log-" : "")}softmax {i}: {yf[i]} vs {expected[i]}");
            }
        }
    }
}
