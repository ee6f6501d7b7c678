using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>Gather and IndexSelect.</summary>
public class IndexingTests
{
    [Fact]
    public void GatherAndIndexSelect()
    {
        var x = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var g1 = x.Gather(1, Tensor.FromArray([2.0, 2, 0, 1, 0, 0], 2, 3));
        Assert.Equal([3.0, 3, 1, 5, 4, 4], Values(g1));
        var g0 = x.Gather(0, Tensor.FromArray([1.0, 0, 1], 1, 3));
        Assert.Equal([4.0, 2, 6], Values(g0));
        Assert.Equal([3.0, 6], Values(x.Gather(1, Tensor.FromArray([-1.0, -1], 2, 1))));
        Assert.Equal([1.0, 2, 4, 5], Values(x.T.Gather(0, Tensor.FromArray([0.0, 0, 1, 1], 2, 2)).T.Contiguous()));
        Assert.Equal([4.0, 5, 6, 1, 2, 3, 4, 5, 6], Values(x.IndexSelect(0, Tensor.FromArray([1.0, 0, 1]))));
        Assert.Equal([3.0, 1, 6, 4], Values(x.IndexSelect(1, Tensor.FromArray([2.0, 0]))));
        Assert.Equal([2, 0], x.IndexSelect(1, Tensor.Zeros([0], DType.Float64)).Shape.ToArray());
        Assert.Throws<IndexOutOfRangeException>(() => x.Gather(1, Tensor.FromArray([3.0, 0], 2, 1)));
        Assert.Throws<ArgumentException>(() => x.Gather(1, Tensor.FromArray([0.5, 0], 2, 1)));
        Assert.Throws<IndexOutOfRangeException>(() => x.IndexSelect(0, Tensor.FromArray([2.0])));
    }
}
