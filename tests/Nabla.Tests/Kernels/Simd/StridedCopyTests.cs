using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

/// <summary>Dense copies of permuted, sliced and broadcast views: the tiled transpose path against an element-by-element loop.</summary>
public class StridedCopyTests
{
    [Theory]
    [InlineData(new[] { 1, 0 }, new[] { 40, 37 })]
    [InlineData(new[] { 0, 2, 1 }, new[] { 3, 17, 33 })]
    [InlineData(new[] { 2, 0, 1 }, new[] { 16, 5, 18 })]
    [InlineData(new[] { 3, 1, 2, 0 }, new[] { 20, 2, 3, 19 })]
    [InlineData(new[] { 1, 0 }, new[] { 15, 64 })]     // too narrow to tile: the row walk
    public void PermutedViewsCopyExactly(int[] perm, int[] shape)
    {
        var x = Tensor.Arange(shape.Aggregate(1, (a, b) => a * b)).Reshape(shape);
        var view = x.Permute(perm);
        var dense = view.Contiguous();
        Assert.True(dense.IsContiguous);
        var expected = Expected(view);
        Assert.Equal(expected, dense.ToArray());
    }

    [Fact]
    public void SlicedAndBroadcastTransposesCopyExactly()
    {
        var x = Tensor.Arange(48 * 50).Reshape(48, 50);
        var sliced = x.Narrow(0, 3, 40).Narrow(1, 5, 33).Transpose(0, 1);   // offset, strides of a larger tensor
        Assert.Equal(Expected(sliced), sliced.Contiguous().ToArray());
        var broadcast = Tensor.Arange(20).Reshape(20, 1).Expand(20, 30).Transpose(0, 1);   // a zero stride
        Assert.Equal(Expected(broadcast), broadcast.Contiguous().ToArray());
    }

    // element by element through the view's indexer
    private static float[] Expected(Tensor v)
    {
        var shape = v.Shape.ToArray();
        var result = new float[shape.Aggregate(1, (a, b) => a * b)];
        var idx = new int[shape.Length];
        for (int k = 0; k < result.Length; k++)
        {
            result[k] = (float)v[idx];
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
        return result;
    }
}
