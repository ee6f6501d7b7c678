using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>Views share storage and read the right elements.</summary>
public class ViewsTests
{
    [Fact]
    public void ViewsShareStorageAndReadTheRightElements()
    {
        var x = Tensor.Arange(12, DType.Float64).Reshape(3, 4);
        var t = x.T;
        Assert.Same(x._storage, t._storage);
        Assert.False(t.IsContiguous);
        Assert.Equal([4, 3], t.Shape.ToArray());
        Assert.Equal([0.0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], Values(t.Contiguous()));
        Assert.True(t.Contiguous().IsContiguous);
        Assert.Equal(9.0, t[1, 2]);
        // a write into the base shows through every view
        x.Buffer<double>()[6] = 100;
        Assert.Equal(100.0, t[2, 1]);
        Assert.Equal(100.0, x.Slice(1, 0, 4, 2)[1, 1]);
        x.Buffer<double>()[6] = 6;

        Assert.Equal([1.0, 3, 5, 7, 9, 11], Values(x.Slice(1, 1, 4, 2)));
        Assert.Equal([4.0, 5, 6, 7, 8, 9, 10, 11], Values(x.Slice(0, -2, 100)));
        Assert.Equal([1.0, 2, 5, 6, 9, 10], Values(x.Narrow(1, 1, 2)));
        Assert.Equal([2.0, 6, 10], Values(x.Select(1, -2)));
        Assert.Same(x._storage, x.Select(0, 1)._storage);
        Assert.Equal([1, 3, 1, 4], x.Unsqueeze(0).Unsqueeze(-2).Shape.ToArray());
        Assert.Equal([3, 4], x.Unsqueeze(0).Unsqueeze(-2).Squeeze().Shape.ToArray());
        Assert.Equal([3, 1, 4], x.Unsqueeze(1).Squeeze(0).Shape.ToArray());
        var p = Tensor.Arange(24, DType.Float64).Reshape(2, 3, 4).Permute(2, 0, 1);
        Assert.Equal([4, 2, 3], p.Shape.ToArray());
        Assert.Equal(1 * 12 + 2 * 4 + 3.0, p[3, 1, 2]);
        Assert.Equal(p[3, 1, 2], p.Contiguous()[3, 1, 2]);
        Assert.Equal([2, 12], Tensor.Zeros(2, 3, 4).Flatten(1).Shape.ToArray());
        Assert.Equal([6, 4], Tensor.Zeros(2, 3, 4).Flatten(0, 1).Shape.ToArray());
        Assert.Equal([1], Tensor.Scalar(1).Flatten().Shape.ToArray());

        // reshape: a view when contiguous, a copy otherwise; View refuses non-contiguous
        Assert.Same(x._storage, x.Reshape(2, -1)._storage);
        Assert.Equal([0.0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], Values(t.Reshape(-1)));
        Assert.NotSame(x._storage, t.Reshape(-1)._storage);
        Assert.Throws<InvalidOperationException>(() => t.View(12));

        // expand: stride 0, no copy
        var e = Tensor.FromArray([1.0, 2.0, 3.0], 3, 1).Expand(2, 3, 4);
        Assert.Equal([0, 1, 0], e.Strides.ToArray());
        Assert.Equal([2, 3, 4], e.Shape.ToArray());
        Assert.Equal(3.0, e[1, 2, 3]);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (double)(i / 4 % 3 + 1)).ToArray(), Values(e));
        Assert.Equal([3, 4], Tensor.Zeros(3, 1).Expand(-1, 4).Shape.ToArray());

        // To converts and copies
        var f = x.To(DType.Float32);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal(Values(x), Values(f));
        Assert.Same(x, x.To(DType.Float64));
        var c = x.Clone();
        Assert.NotSame(x._storage, c._storage);
        Assert.Equal(Values(x), Values(c));
    }
}
