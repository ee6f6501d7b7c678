using Nabla.NN;
using Nabla.Tests.Norm;

namespace Nabla.Tests.Ops;

/// <summary>Forward results of every normalisation layer against the plain-loop references of <see cref="NormReference"/>.</summary>
public class NormForwardTests
{
    private static Tensor Randn(DType dtype, params int[] shape) => Tensor.Randn(shape, dtype, new Generator(7));

    private static double[] Values(int count, ulong seed, double lo = -1.5, double hi = 1.5) =>
        Tensor.Uniform([count], lo, hi, DType.Float64, new Generator(seed)).ToDoubleArray();

    // float32 results vs float64 references: a few roundings of 6e-8 each
    private static (double R, double A) Tol(DType d) => d == DType.Float32 ? (2e-5, 2e-5) : (1e-12, 1e-12);

    [Theory]
    [InlineData(DType.Float32, 5, 3, 1)]        // BatchNorm1d on (N, C): the permuted path
    [InlineData(DType.Float64, 7, 4, 3)]        // (N, C, L) with a short L
    [InlineData(DType.Float32, 3, 5, 37)]       // odd L: vector body + tail
    [InlineData(DType.Float32, 2, 3, 5000)]     // L past one chunk of the two-level variance
    [InlineData(DType.Float64, 1, 2, 33)]       // batch size 1
    public void BatchNormTrainMatchesReference(DType dtype, int n, int c, int l)
    {
        var x = Randn(dtype, n, c, l) * 2.0 + 3.0;
        var w = Values(c, 1);
        var b = Values(c, 2);
        var y = Tensor.BatchNorm(x, null, null, Tensor.FromArray(w, c).To(dtype), Tensor.FromArray(b, c).To(dtype), training: true);
        var (rt, at) = Tol(dtype);
        NormReference.AssertClose(NormReference.BatchNormTrain(x.ToDoubleArray(), n, c, l, 1e-5, w, b), y.ToDoubleArray(), rt, at, "BatchNorm train");
    }

    [Theory]
    [InlineData(DType.Float32, 4, 3, 1)]
    [InlineData(DType.Float64, 2, 3, 20)]
    public void BatchNormEvalUsesRunningStatistics(DType dtype, int n, int c, int l)
    {
        var x = Randn(dtype, n, c, l);
        var rm = Values(c, 3);
        var rv = Values(c, 4, 0.5, 2);
        var w = Values(c, 5);
        var y = Tensor.BatchNorm(x, Tensor.FromArray(rm, c), Tensor.FromArray(rv, c), Tensor.FromArray(w, c).To(dtype), null, training: false, eps: 1e-3);
        var (rt, at) = Tol(dtype);
        NormReference.AssertClose(NormReference.BatchNormEval(x.ToDoubleArray(), n, c, l, 1e-3, w, null, rm, rv), y.ToDoubleArray(), rt, at, "BatchNorm eval");
    }

    [Theory]
    [InlineData(DType.Float32, 3, 6, 5, 2)]
    [InlineData(DType.Float64, 2, 6, 1, 3)]
    [InlineData(DType.Float32, 2, 4, 49, 4)]    // G = C: instance norm's case
    [InlineData(DType.Float32, 2, 4, 3000, 1)]  // a group larger than one chunk
    public void GroupNormMatchesReference(DType dtype, int n, int c, int l, int groups)
    {
        var x = Randn(dtype, n, c, l) - 4.0;
        var w = Values(c, 6);
        var b = Values(c, 7);
        var y = Tensor.GroupNorm(x, groups, Tensor.FromArray(w, c).To(dtype), Tensor.FromArray(b, c).To(dtype));
        var (rt, at) = Tol(dtype);
        NormReference.AssertClose(NormReference.GroupNorm(x.ToDoubleArray(), n, c, l, groups, 1e-5, w, b), y.ToDoubleArray(), rt, at, "GroupNorm");
    }

    [Fact]
    public void InstanceNormIsPerSampleChannel()
    {
        var x = Randn(DType.Float64, 3, 2, 4, 5);
        var y = new InstanceNorm2d(2).Forward(x);
        NormReference.AssertClose(NormReference.GroupNorm(x.ToDoubleArray(), 3, 2, 20, 2, 1e-5, null, null), y.ToDoubleArray(), 1e-12, 1e-12, "InstanceNorm2d");
        // unbatched (C, L) input gives the same as a batch of one
        var x1 = Randn(DType.Float32, 2, 7);
        var y1 = new InstanceNorm1d(2).Forward(x1);
        Assert.Equal([2, 7], y1.Shape.ToArray());
        NormReference.AssertClose(NormReference.GroupNorm(x1.ToDoubleArray(), 1, 2, 7, 2, 1e-5, null, null), y1.ToDoubleArray(), 2e-5, 2e-5, "InstanceNorm1d unbatched");
    }

    [Theory]
    [InlineData(DType.Float32, 5, 7, false)]
    [InlineData(DType.Float32, 3, 768, false)]
    [InlineData(DType.Float64, 4, 1, false)]    // feature size 1: y = bias
    [InlineData(DType.Float32, 2, 9000, false)] // rows longer than one chunk
    [InlineData(DType.Float32, 6, 33, true)]
    [InlineData(DType.Float64, 3, 1, true)]
    public void RowNormsMatchReference(DType dtype, int rows, int d, bool rms)
    {
        var x = Randn(dtype, rows, d) + (rms ? 0.0 : 10.0);
        var w = Values(d, 8);
        var b = rms ? null : Values(d, 9);
        var wt = Tensor.FromArray(w, d).To(dtype);
        var y = rms ? Tensor.RmsNorm(x, [d], wt, eps: 1e-6) : Tensor.LayerNorm(x, [d], wt, Tensor.FromArray(b!, d).To(dtype));
        var (rt, at) = Tol(dtype);
        NormReference.AssertClose(NormReference.RowNorm(x.ToDoubleArray(), d, rms ? 1e-6 : 1e-5, w, b, rms), y.ToDoubleArray(), rt, at, rms ? "RMSNorm" : "LayerNorm");
    }

    [Fact]
    public void LayerNormOverTwoTrailingDims()
    {
        var x = Randn(DType.Float64, 2, 3, 4, 5);
        var y = new LayerNorm([4, 5], elementwiseAffine: false).Forward(x);
        NormReference.AssertClose(NormReference.RowNorm(x.ToDoubleArray(), 20, 1e-5, null, null, false), y.ToDoubleArray(), 1e-12, 1e-12, "LayerNorm [4, 5]");
    }

    [Fact]
    public void RmsNormDefaultEpsIsMachineEpsilon()
    {
        var x = Tensor.FromArray(new double[] { 3e-9, -4e-9 }, 1, 2);
        // mean(x²) = 1.25e-17, comparable to ε = 2^-52 ≈ 2.2e-16 for float64
        var y = new RMSNorm(2, dtype: DType.Float64).Forward(x);
        double r = 1 / Math.Sqrt(1.25e-17 + Math.Pow(2, -52));
        NormReference.AssertClose([3e-9 * r, -4e-9 * r], y.ToDoubleArray(), 1e-12, 0, "RMSNorm default eps");
    }

    [Fact]
    public void Float32StatisticsStayAccurateForALargeMean()
    {
        // mean 1e4, std 1 over 200k values: a float32 sum-of-squares variance would lose everything here
        var x = Tensor.Randn([2, 100_000], DType.Float64, new Generator(3)) + 1e4;
        var y32 = Tensor.LayerNorm(x.To(DType.Float32), [100_000]);
        var ref64 = NormReference.RowNorm(x.To(DType.Float32).ToDoubleArray(), 100_000, 1e-5, null, null, false);
        NormReference.AssertClose(ref64, y32.ToDoubleArray(), 0, 2e-3, "LayerNorm float32, mean 1e4");
    }

    [Fact]
    public void EmptyBatchesGiveEmptyResults()
    {
        var x = Tensor.Zeros([0, 4], DType.Float32).RequireGrad();
        var y = new LayerNorm(4).Forward(x) + new RMSNorm(4).Forward(x);
        y.Sum().Backward();
        Assert.Equal([0, 4], x.Grad!.Shape.ToArray());
        var bn = new BatchNorm2d(3);
        bn.Eval();
        Assert.Equal([0, 3, 2, 2], bn.Forward(Tensor.Zeros(0, 3, 2, 2)).Shape.ToArray());
        Assert.Equal([0, 4, 5], Tensor.GroupNorm(Tensor.Zeros(0, 4, 5), 2).Shape.ToArray());
    }
}
