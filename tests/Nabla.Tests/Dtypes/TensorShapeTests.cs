using Nabla.IO;

namespace Nabla.Tests.Dtypes;

/// <summary>Tensor.Shape as a value (torch.Size) and 0-d tensors made by FromArray(data, []).</summary>
public class TensorShapeTests
{
    [Fact]
    public void ShapeIsAValueUsableInLambdasAndLinq()
    {
        var x = Tensor.Zeros(2, 3, 4);
        var shape = x.Shape;
        Func<int> last = () => shape[^1];   // a span could not be captured
        Assert.Equal(4, last());
        Assert.Equal(24, x.Shape.Aggregate(1, (a, b) => a * b));
        Assert.Equal(24, x.Shape.Numel());
        Assert.Equal([3, 4], x.Shape[1..].ToArray());
        Assert.Equal(3, x.Shape.Count);
        Assert.Equal(3, x.Shape.Length);
        Assert.Equal(new[] { 2, 3, 4 }, x.Shape.Select(d => d));
        Assert.True(x.Shape == Tensor.Ones(2, 3, 4).Shape);
        Assert.True(x.Shape != Tensor.Ones(2, 4, 3).Shape);
        Assert.Equal(x.Shape.GetHashCode(), new TensorShape([2, 3, 4]).GetHashCode());
        Assert.Equal("[2, 3, 4]", x.Shape.ToString());
        ReadOnlySpan<int> span = x.Shape;   // existing span-taking code keeps working
        Assert.Equal(3, span[1]);
        Assert.Empty(Tensor.Scalar(1).Shape);
        Assert.Equal(0, default(TensorShape).Length);
        // the shape is a snapshot of an immutable tensor: modifying a copy leaves the tensor alone
        var copy = x.Shape.ToArray();
        copy[0] = 9;
        Assert.Equal(2, x.Shape[0]);
    }

    [Fact]
    public void FromArrayWithAnEmptyShapeMakesA0dTensor()
    {
        var s = Tensor.FromArray([2.5f], []);
        Assert.Equal(0, s.Rank);
        Assert.Empty(s.Shape);
        Assert.Equal(1, s.Numel);
        Assert.Equal(2.5, s.Item());
        Assert.Equal("tensor(2.5000)", s.ToString());
        Assert.Equal(0, Tensor.FromArray([7.0], []).Rank);
        Assert.Equal(0, Tensor.FromArray([7L], []).Rank);
        // without a shape FromArray stays 1-D, as torch.tensor([x])
        Assert.Equal([1], Tensor.FromArray([2.5f]).Shape.ToArray());
        var e = Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f], []));
        Assert.Contains("FromArray: shape [] needs 1 elements but the array has 2", e.Message);
        // scalar semantics in ops: a 0-d tensor broadcasts and reduces like PyTorch's
        var v = Tensor.FromArray([1f, 2f, 3f]);
        Assert.Equal([2.5, 5, 7.5], (v * s).ToDoubleArray());
        Assert.Equal(0, (s * s).Rank);
        Assert.Equal(0, v.Sum().Rank);
    }

    [Fact]
    public void ZeroDimTensorsRoundTripThroughSafetensors()
    {
        var bytes = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["s"] = Tensor.FromArray([4.0], []) });
        var back = SafeTensors.Deserialize(bytes).Tensors["s"];
        Assert.Equal(0, back.Rank);
        Assert.Equal(4.0, back.Item());
    }
}
