using Nabla.NN;
using Nabla.Tests.Norm;

namespace Nabla.Tests.NN;

/// <summary>The modules: running statistics against an independent reference, Train/Eval, state dicts, errors.</summary>
public class NormModuleTests
{
    private static Tensor Batch(int step, params int[] shape) =>
        Tensor.Randn(shape, DType.Float32, new Generator((ulong)(100 + step))) * (1.0 + step) + step;

    private static void AssertRel(double[] expected, Tensor actual, double rtol, string what)
    {
        var a = actual.ToDoubleArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(a[i] - expected[i]) <= rtol * Math.Abs(expected[i]) + 1e-12, $"{what}[{i}]: expected {expected[i]:G17}, got {a[i]:G17}");
    }

    [Theory]
    [InlineData(0.1, new[] { 8, 3 })]            // BatchNorm1d, 2-D
    [InlineData(null, new[] { 4, 3, 10 })]       // BatchNorm1d, 3-D, cumulative average
    [InlineData(0.5, new[] { 2, 3, 5, 6 })]      // BatchNorm2d
    [InlineData(null, new[] { 1, 3, 4, 4 })]     // BatchNorm2d, batch size 1
    public void RunningStatisticsMatchReference(double? momentum, int[] shape)
    {
        int c = shape[1];
        BatchNormBase bn = shape.Length == 4 ? new BatchNorm2d(c, momentum: momentum, dtype: DType.Float64)
                                             : new BatchNorm1d(c, momentum: momentum, dtype: DType.Float64);
        var rm = new double[c];
        var rv = Enumerable.Repeat(1.0, c).ToArray();
        int n = shape[0], l = shape.Skip(2).Aggregate(1, (a, b) => a * b);
        for (int step = 0; step < 5; step++)
        {
            var x = Batch(step, shape).To(DType.Float64);
            bn.Forward(x);
            var (mean, uvar) = NormReference.ChannelStats(x.ToDoubleArray(), n, c, l);
            double f = momentum ?? 1.0 / (step + 1);
            for (int j = 0; j < c; j++)
            {
                rm[j] = (1 - f) * rm[j] + f * mean[j];
                rv[j] = (1 - f) * rv[j] + f * uvar[j];
            }
        }
        AssertRel(rm, bn.RunningMean!, 1e-6, "running_mean");
        AssertRel(rv, bn.RunningVar!, 1e-6, "running_var");
        Assert.Equal(5.0, bn.NumBatchesTracked!.Item());
        Assert.Equal(DType.Int64, bn.NumBatchesTracked.DType);
    }

    [Fact]
    public void Float32RunningStatisticsMatchReference()
    {
        var bn = new BatchNorm2d(4);
        var rm = new double[4];
        var rv = Enumerable.Repeat(1.0, 4).ToArray();
        for (int step = 0; step < 4; step++)
        {
            var x = Batch(step, 3, 4, 7, 9);
            bn.Forward(x);
            var (mean, uvar) = NormReference.ChannelStats(x.ToDoubleArray(), 3, 4, 63);
            for (int j = 0; j < 4; j++)
            {
                rm[j] = 0.9 * rm[j] + 0.1 * mean[j];
                rv[j] = 0.9 * rv[j] + 0.1 * uvar[j];
            }
        }
        AssertRel(rm, bn.RunningMean!, 1e-6, "running_mean");
        AssertRel(rv, bn.RunningVar!, 1e-6, "running_var");
    }

    [Fact]
    public void InstanceNormRunningStatisticsAverageTheInstances()
    {
        var inorm = new InstanceNorm1d(2, momentum: 0.2, trackRunningStats: true, dtype: DType.Float64);
        var rm = new double[2];
        var rv = new double[] { 1, 1 };
        for (int step = 0; step < 3; step++)
        {
            var x = Batch(step, 3, 2, 6).To(DType.Float64);
            inorm.Forward(x);
            var xs = x.ToDoubleArray();
            for (int j = 0; j < 2; j++)
            {
                double bm = 0, bv = 0;
                for (int i = 0; i < 3; i++)
                {
                    var (m, v) = NormReference.ChannelStats(xs.Skip((i * 2 + j) * 6).Take(6).ToArray(), 1, 1, 6);
                    bm += m[0] / 3;
                    bv += v[0] / 3;
                }
                rm[j] = 0.8 * rm[j] + 0.2 * bm;
                rv[j] = 0.8 * rv[j] + 0.2 * bv;
            }
        }
        AssertRel(rm, inorm.RunningMean!, 1e-6, "running_mean");
        AssertRel(rv, inorm.RunningVar!, 1e-6, "running_var");
        Assert.Equal(0.0, inorm.NumBatchesTracked!.Item());   // PyTorch's _InstanceNorm does not advance it
        // eval mode normalises with the running statistics
        inorm.Eval();
        var xe = Batch(9, 2, 2, 6).To(DType.Float64);
        var ye = inorm.Forward(xe);
        var expected = NormReference.BatchNormEval(xe.ToDoubleArray(), 2, 2, 6, 1e-5, null, null, rm, rv);
        AssertRel(expected, ye, 1e-9, "InstanceNorm eval");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InstanceNormNullMomentumIsACumulativeAverage(bool twoD)
    {
        // momentum null: after k training batches the running statistics are the plain mean of the k batches'
        // statistics (per-instance mean and unbiased variance, averaged over the batch), as BatchNorm's
        NormBase inorm = twoD ? new InstanceNorm2d(2, momentum: null, trackRunningStats: true, dtype: DType.Float64)
            : new InstanceNorm1d(2, momentum: null, trackRunningStats: true, dtype: DType.Float64);
        Assert.Null(inorm.Momentum);
        Assert.Contains("momentum=None", inorm.ToString());
        var rm = new double[2];
        var rv = new double[2];
        const int steps = 4;
        for (int step = 0; step < steps; step++)
        {
            var x = Batch(step, 3, 2, 6).To(DType.Float64);
            inorm.Forward(twoD ? x.Reshape(3, 2, 2, 3) : x);
            var xs = x.ToDoubleArray();
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 3; i++)
                {
                    var (m, v) = NormReference.ChannelStats(xs.Skip((i * 2 + j) * 6).Take(6).ToArray(), 1, 1, 6);
                    rm[j] += m[0] / 3 / steps;
                    rv[j] += v[0] / 3 / steps;
                }
        }
        AssertRel(rm, inorm.RunningMean!, 1e-9, "running_mean");
        AssertRel(rv, inorm.RunningVar!, 1e-9, "running_var");
        Assert.Equal(steps, inorm.NumBatchesTracked!.Item());
        // eval does not count, and a rejected batch leaves the count untouched
        inorm.Eval();
        inorm.Forward(Batch(9, 3, 2, 6).To(DType.Float64).Reshape(twoD ? [3, 2, 2, 3] : [3, 2, 6]));
        inorm.Train();
        Assert.ThrowsAny<ArgumentException>(() => inorm.Forward(Tensor.Zeros([3, 5, 6], DType.Float64)));
        Assert.Equal(steps, inorm.NumBatchesTracked!.Item());
    }

    [Fact]
    public void EvalUsesRunningStatsAndTrainUsesBatchStats()
    {
        var bn = new BatchNorm1d(3, dtype: DType.Float64);
        var x = Batch(1, 6, 3).To(DType.Float64);
        bn.Forward(x);
        var snapshot = bn.RunningMean!.ToDoubleArray();
        bn.Eval();
        var y = bn.Forward(x);
        Assert.Equal(snapshot, bn.RunningMean!.ToDoubleArray());   // eval does not update
        Assert.Equal(1.0, bn.NumBatchesTracked!.Item());
        var expected = NormReference.BatchNormEval(x.ToDoubleArray(), 6, 3, 1, 1e-5, null, null, snapshot, bn.RunningVar!.ToDoubleArray());
        AssertRel(expected, y, 1e-12, "eval output");
        // without running statistics, eval mode normalises with the batch's, as PyTorch
        var plain = new BatchNorm1d(3, trackRunningStats: false, dtype: DType.Float64);
        plain.Eval();
        AssertRel(NormReference.BatchNormTrain(x.ToDoubleArray(), 6, 3, 1, 1e-5, null, null), plain.Forward(x), 1e-12, "untracked eval");
        Assert.Empty(plain.NamedBuffers());
    }

    [Fact]
    public void TrainAndEvalReachEverySubModule()
    {
        var inner = new Sequential(new BatchNorm1d(4), new LayerNorm(4));
        var model = new Sequential(new Linear(4, 4), inner, new GroupNorm(2, 4), new InstanceNorm1d(4));
        model.Eval();
        Assert.All(Flatten(model), m => Assert.False(m.Training));
        model.Train();
        Assert.All(Flatten(model), m => Assert.True(m.Training));

        static IEnumerable<Module> Flatten(Module m) => new[] { m }.Concat(m.NamedChildren().SelectMany(kv => Flatten(kv.Value)));
    }

    [Fact]
    public void StateDictKeysFollowPyTorch()
    {
        var model = new Sequential(new BatchNorm2d(3), new LayerNorm(5), new GroupNorm(1, 3), new InstanceNorm2d(3, affine: true, trackRunningStats: true),
            new RMSNorm(5), new BatchNorm1d(2, affine: false), new LayerNorm(5, bias: false));
        Assert.Equal(
        [
            "0.weight", "0.bias", "0.running_mean", "0.running_var", "0.num_batches_tracked",
            "1.weight", "1.bias", "2.weight", "2.bias",
            "3.weight", "3.bias", "3.running_mean", "3.running_var", "3.num_batches_tracked",
            "4.weight", "5.running_mean", "5.running_var", "5.num_batches_tracked", "6.weight",
        ], model.StateDict().Keys.ToArray());
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias", "3.weight", "3.bias", "4.weight", "6.weight"],
            model.NamedParameters().Select(kv => kv.Key).ToArray());
        // a state dict round-trips, running statistics included
        var a = new BatchNorm2d(3);
        a.Forward(Batch(0, 2, 3, 4, 4));
        var b = new BatchNorm2d(3);
        b.LoadStateDict(a.StateDict());
        Assert.Equal(a.RunningVar!.ToDoubleArray(), b.RunningVar!.ToDoubleArray());
        Assert.Equal(1.0, b.NumBatchesTracked!.Item());
        Assert.Equal("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", a.ToString());
        Assert.Equal("LayerNorm((5,), eps=1e-05, elementwise_affine=True)", new LayerNorm(5).ToString());
        Assert.Equal("GroupNorm(2, 4, eps=1e-05, affine=True)", new GroupNorm(2, 4).ToString());
    }

    [Fact]
    public void ResetRunningStatsRestoresTheInitialState()
    {
        var bn = new BatchNorm1d(2);
        bn.Forward(Batch(3, 4, 2));
        bn.ResetRunningStats();
        Assert.Equal([0.0, 0.0], bn.RunningMean!.ToDoubleArray());
        Assert.Equal([1.0, 1.0], bn.RunningVar!.ToDoubleArray());
        Assert.Equal(0.0, bn.NumBatchesTracked!.Item());
    }
}
