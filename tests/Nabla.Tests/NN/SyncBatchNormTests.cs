using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>
/// SyncBatchNorm in one process (no process group) is BatchNorm: outputs, input and parameter gradients, running
/// statistics and eval mode match BatchNorm2d's (whose values are checked against PyTorch's elsewhere). Across ranks it is
/// checked under mpirun (Distributed/DataParallelTests).
/// </summary>
public class SyncBatchNormTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(null)]
    public void WithoutAGroupItIsBatchNorm(double? momentum)
    {
        var g = new Generator(3);
        var sync = new SyncBatchNorm(3, momentum: momentum, dtype: DType.Float64);
        var plain = new BatchNorm2d(3, momentum: momentum, dtype: DType.Float64);
        using (Tensor.NoGrad())
        {
            sync.Weight!.CopyFrom(Tensor.Rand([3], DType.Float64, g) + 0.5);
            sync.Bias!.CopyFrom(Tensor.Randn([3], DType.Float64, g));
            plain.Weight!.CopyFrom(sync.Weight);
            plain.Bias!.CopyFrom(sync.Bias);
        }
        for (int step = 0; step < 3; step++)
        {
            var x = Tensor.Randn([4, 3, 2, 5], DType.Float64, g) * 3.0 + 2.0;
            var xs = x.Detach().RequireGrad();
            var xp = x.Detach().RequireGrad();
            var w = Tensor.Randn([4, 3, 2, 5], DType.Float64, g);
            var ys = sync.Forward(xs);
            var yp = plain.Forward(xp);
            Close(yp, ys);
            (ys * w).Sum().Backward();
            (yp * w).Sum().Backward();
            Close(xp.Grad!, xs.Grad!);
            Close(plain.Weight!.Grad!, sync.Weight!.Grad!);
            Close(plain.Bias!.Grad!, sync.Bias!.Grad!);
            Close(plain.RunningMean!, sync.RunningMean!);
            Close(plain.RunningVar!, sync.RunningVar!);
            sync.ZeroGrad();
            plain.ZeroGrad();
        }
        Assert.Equal(3.0, sync.NumBatchesTracked!.Item());
        sync.Eval();
        plain.Eval();
        var probe = Tensor.Randn([2, 3, 2, 2], DType.Float64, g);
        Close(plain.Forward(probe), sync.Forward(probe));
        Assert.Equal(plain.StateDict().Keys, sync.StateDict().Keys);
    }

    [Fact]
    public void BadInputIsNamed()
    {
        var bn = new SyncBatchNorm(3);
        Assert.Contains("expected 3 channels", Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Zeros([2, 4]))).Message);
        Assert.Contains("more than 1 value per channel", Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Zeros([1, 3]))).Message);
    }

    private static void Close(Tensor expected, Tensor actual)
    {
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-12 * Math.Max(1, Math.Abs(e[i])), $"element {i}: {e[i]} vs {a[i]}");
    }
}
