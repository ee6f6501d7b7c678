using Nabla.NN;

namespace Nabla.Tests.Ops;

/// <summary>Bad input gives a clear error naming the layer and the shapes, and leaves the layer's state untouched.</summary>
public class NormErrorTests
{
    private static void Throws(Action a, params string[] parts)
    {
        var e = Assert.ThrowsAny<ArgumentException>(a);
        foreach (var p in parts) Assert.Contains(p, e.Message);
    }

    [Fact]
    public void BatchNormInTrainingNeedsMoreThanOneValuePerChannel()
    {
        var bn = new BatchNorm1d(3);
        Throws(() => bn.Forward(Tensor.Zeros(1, 3)), "BatchNorm1d", "more than 1 value per channel", "[1, 3]");
        Assert.Equal(0.0, bn.NumBatchesTracked!.Item());    // the rejected batch was not counted
        var bn2 = new BatchNorm2d(2);
        Throws(() => bn2.Forward(Tensor.Zeros(1, 2, 1, 1)), "BatchNorm2d", "[1, 2, 1, 1]");
        Throws(() => Tensor.BatchNorm(Tensor.Zeros(1, 4), null, null, training: true), "BatchNorm", "[1, 4]");
        // eval mode with running statistics is fine with one value per channel
        bn.Eval();
        Assert.Equal([1, 3], bn.Forward(Tensor.Zeros(1, 3)).Shape.ToArray());
    }

    [Fact]
    public void GroupNormGroupsMustDivideChannels()
    {
        Throws(() => new GroupNorm(3, 10), "GroupNorm", "num_channels (10)", "num_groups (3)");
        Throws(() => Tensor.GroupNorm(Tensor.Zeros(2, 10, 4), 3), "GroupNorm", "10", "[2, 10, 4]", "num_groups (3)");
        Throws(() => new GroupNorm(2, 4).Forward(Tensor.Zeros(2, 6, 3)), "GroupNorm", "(N, 4, *)", "[2, 6, 3]");
    }

    [Fact]
    public void LayerNormShapeMustMatchTrailingDims()
    {
        Throws(() => new LayerNorm(768).Forward(Tensor.Zeros(2, 5, 7)), "LayerNorm", "[768]", "[2, 5, 7]");
        Throws(() => new LayerNorm([5, 6]).Forward(Tensor.Zeros(5, 7)), "LayerNorm", "[5, 6]", "[5, 7]");
        Throws(() => new RMSNorm(4).Forward(Tensor.Zeros(4, 3)), "RMSNorm", "[4]", "[4, 3]");
        Throws(() => Tensor.LayerNorm(Tensor.Zeros(3, 4), [4], Tensor.Zeros(3)), "LayerNorm", "weight", "[4]", "[3]");
    }

    [Fact]
    public void WrongRankOrChannelCountIsNamed()
    {
        Throws(() => new BatchNorm2d(3).Forward(Tensor.Zeros(2, 3, 4)), "BatchNorm2d", "4D", "[2, 3, 4]");
        Throws(() => new BatchNorm1d(3).Forward(Tensor.Zeros(2, 3, 4, 5)), "BatchNorm1d", "2D", "[2, 3, 4, 5]");
        Throws(() => new BatchNorm1d(3).Forward(Tensor.Zeros(2, 4)), "BatchNorm1d", "3 channels", "[2, 4]");
        Throws(() => new InstanceNorm2d(3).Forward(Tensor.Zeros(2, 3)), "InstanceNorm2d", "[2, 3]");
        Throws(() => new InstanceNorm1d(2).Forward(Tensor.Zeros(2, 2, 1)), "InstanceNorm1d", "more than 1 spatial element", "[2, 2, 1]");
        Throws(() => Tensor.BatchNorm(Tensor.Zeros(4, 3), null, null, training: false), "BatchNorm", "running_mean");
        Throws(() => Tensor.BatchNorm(Tensor.Zeros(4, 3), Tensor.Zeros(2), Tensor.Ones([2], DType.Float32), training: true), "running_mean", "[3]", "[2]");
        Throws(() => new BatchNorm1d(0), "BatchNorm1d", "num_features");
        Throws(() => new BatchNorm1d(3, momentum: 1.5), "BatchNorm1d", "momentum");
    }
}
