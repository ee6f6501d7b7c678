using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>Reductions against hand-computed values and loops over each dim.</summary>
public class ReductionsTests
{
    [Fact]
    public void ReductionsHandComputed()
    {
        var x = Tensor.FromArray(new double[,] { { 1, 5, 3 }, { 4, 2, 6 } });
        Assert.Equal(21.0, x.Sum().Item());
        Assert.Equal([5.0, 7.0, 9.0], Values(x.Sum(0)));
        Assert.Equal([9.0, 12.0], Values(x.Sum(-1)));
        Assert.Equal([2, 1], x.Sum(1, keepDim: true).Shape.ToArray());
        Assert.Equal(3.5, x.Mean().Item());
        Assert.Equal([2.5, 3.5, 4.5], Values(x.Mean(0)));
        Assert.Equal(3.5, x.Var().Item(), 14); // Σ(x − 3.5)² = 17.5, over n − 1 = 5
        Assert.Equal(17.5 / 6, x.Var(correction: 0).Item(), 14);
        Assert.Equal([4.5, 4.5, 4.5], Values(x.Var([0])));
        var max = x.Max(1);
        Assert.Equal([5.0, 6.0], Values(max.Values));
        Assert.Equal([1.0, 2.0], Values(max.Indices));
        Assert.Equal([1.0, 0.0, 1.0], Values(x.ArgMax(0)));
        Assert.Equal([0.0, 1.0, 0.0], Values(x.ArgMin(0)));
        Assert.Equal([1.0, 2.0], Values(x.Min(1).Values));
        Assert.Equal(6.0, x.Max().Item());
        Assert.Equal(1.0, x.Min().Item());
        Assert.Equal([], x.Max().Shape.ToArray());
        // ties give the first occurrence; NaN wins, as PyTorch
        Assert.Equal(1.0, Tensor.FromArray([1.0, 7.0, 7.0]).ArgMax(0).Item());
        var withNaN = Tensor.FromArray([1.0, double.NaN, 3.0]).Max(0);
        Assert.True(double.IsNaN(withNaN.Values.Item()));
        Assert.Equal(1.0, withNaN.Indices.Item());
        Assert.Equal(4.0, Tensor.Scalar(4).Sum().Item());
        Assert.Equal(0.0, Tensor.Zeros(0).Sum().Item());
    }

    [Fact]
    public void ReductionsOverEachDimMatchLoops()
    {
        var bases = new[] { Randn(7, 2, 3, 4), Randn(8, 4, 2, 3).Permute(1, 2, 0), Randn(9, 2, 6, 4).Slice(1, 1, 6, 2) };
        foreach (var x in bases)
        {
            var shape = x.Shape.ToArray();
            var xd = Values(x);
            for (int d = -3; d < 3; d++)
            {
                int dim = d < 0 ? d + 3 : d;
                var outShape = shape.Where((_, i) => i != dim).ToArray();
                int n = shape[dim], count = Numel(outShape);
                double[] sum = new double[count], mean = new double[count], var = new double[count], max = new double[count], min = new double[count], argmax = new double[count];
                for (int o = 0; o < count; o++)
                {
                    var oi = Unravel(o, outShape).ToList();
                    oi.Insert(dim, 0);
                    var idx = oi.ToArray();
                    var vals = new double[n];
                    for (int k = 0; k < n; k++)
                    {
                        idx[dim] = k;
                        vals[k] = xd[Ravel(idx, shape)];
                    }
                    sum[o] = vals.Sum();
                    mean[o] = sum[o] / n;
                    var (m, s) = (mean[o], 0.0);
                    foreach (var v in vals) s += (v - m) * (v - m);
                    var[o] = s / (n - 1);
                    max[o] = vals.Max();
                    min[o] = vals.Min();
                    argmax[o] = Array.IndexOf(vals, max[o]);
                }
                foreach (bool keep in new[] { false, true })
                {
                    var expectedShape = keep ? shape.Select((v, i) => i == dim ? 1 : v).ToArray() : outShape;
                    Assert.Equal(expectedShape, x.Sum(d, keep).Shape.ToArray());
                    Close(sum, Values(x.Sum(d, keep)));
                    Close(mean, Values(x.Mean(d, keep)));
                    Close(var, Values(x.Var([d], keepDim: keep)));
                    var mx = x.Max(d, keep);
                    Assert.Equal(expectedShape, mx.Values.Shape.ToArray());
                    Assert.Equal(max, Values(mx.Values));
                    Assert.Equal(argmax, Values(mx.Indices));
                    Assert.Equal(min, Values(x.Min(d, keep).Values));
                    Assert.Equal(argmax, Values(x.ArgMax(d, keep)));
                }
            }
            // several dims at once, and all dims
            var s02 = Values(x.Sum([0, 2]));
            for (int j = 0; j < shape[1]; j++)
            {
                double e = 0;
                for (int i = 0; i < shape[0]; i++) for (int k = 0; k < shape[2]; k++) e += xd[Ravel([i, j, k], shape)];
                Assert.Equal(e, s02[j], 12);
            }
            Assert.Equal(xd.Sum(), x.Sum().Item(), 12);
            Assert.Equal([1, 1, 1], x.Sum(null, keepDim: true).Shape.ToArray());
            Assert.Equal(xd.Max(), x.Max().Item());
        }
    }
}
