using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>Cat, Stack and Split.</summary>
public class JoinTests
{
    [Fact]
    public void CatStackSplit()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new double[,] { { 5 }, { 6 } });
        Assert.Equal([1.0, 2, 5, 3, 4, 6], Values(Tensor.Cat([a, b], 1)));
        Assert.Equal([1.0, 2, 5, 3, 4, 6], Values(Tensor.Cat([a, b], -1)));
        Assert.Equal([1.0, 2, 3, 4, 1, 3, 2, 4], Values(Tensor.Cat([a, a.T], 0)));
        Assert.Equal([2, 2, 2], Tensor.Stack([a, a.T], 0).Shape.ToArray());
        var s1 = Tensor.Stack([a, a * 10], 1);
        Assert.Equal([2, 2, 2], s1.Shape.ToArray());
        Assert.Equal([1.0, 2, 10, 20, 3, 4, 30, 40], Values(s1));
        var s2 = Tensor.Stack([a, a * 10], -1);
        Assert.Equal([1.0, 10, 2, 20, 3, 30, 4, 40], Values(s2));
        var x = Tensor.Arange(10, DType.Float64).Reshape(2, 5);
        var parts = x.Split(2, 1);
        Assert.Equal(3, parts.Length);
        Assert.Equal([0.0, 1, 5, 6], Values(parts[0]));
        Assert.Equal([4.0, 9], Values(parts[2]));
        Assert.Same(x._storage, parts[1]._storage);
        var sized = x.Split([1, 4], -1);
        Assert.Equal([0.0, 5], Values(sized[0]));
        Assert.Equal([1.0, 2, 3, 4, 6, 7, 8, 9], Values(sized[1]));
        Assert.Throws<ArgumentException>(() => x.Split([2, 2], 1));
        Assert.Throws<ArgumentException>(() => Tensor.Cat([a, Tensor.Zeros([3, 1], DType.Float64)], 1));
        Assert.Throws<ArgumentException>(() => Tensor.Stack([a, b]));
    }
}
