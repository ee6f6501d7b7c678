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
