using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests;

/// <summary>ToString prints like PyTorch.</summary>
public class TensorFormatTests
{
    [Fact]
    public void ToStringPrintsLikePyTorch()
    {
        Assert.Equal("tensor([1., 2., 3.])", Tensor.FromArray([1f, 2f, 3f]).ToString());
        Assert.Equal("tensor([[ 0.1000, -1.2000],\n        [ 3.0000,  4.0000]])", Tensor.FromArray(new float[,] { { 0.1f, -1.2f }, { 3f, 4f } }).ToString());
        Assert.Equal("tensor(3.)", Tensor.Scalar(3).ToString());
        Assert.Equal("tensor(0.5000)", Tensor.Scalar(0.5).ToString());
        Assert.Equal("tensor([0., 0.])", Tensor.Zeros(2).ToString());
        Assert.Equal("tensor([-1.,  2.])", Tensor.FromArray([-1f, 2f]).ToString());
        Assert.Equal("tensor([  1., 100.])", Tensor.FromArray([1f, 100f]).ToString());
        Assert.Equal("tensor([1.0000e-05, 1.0000e+00])", Tensor.FromArray([1e-5f, 1f]).ToString());
        Assert.Equal("tensor([1.0000e+00, 1.0000e+04])", Tensor.FromArray([1f, 1e4f]).ToString());
        Assert.Equal("tensor([1., nan, inf])", Tensor.FromArray([1f, float.NaN, float.PositiveInfinity]).ToString());
        Assert.Equal("tensor([0.0000, 0.5000])", Tensor.FromArray([0f, 0.5f]).ToString());
        Assert.Equal("tensor([])", Tensor.Zeros(0).ToString());
        Assert.Equal("tensor([], size=(2, 0))", Tensor.Zeros(2, 0).ToString());
        Assert.Equal("tensor([[[1., 2.],\n         [3., 4.]],\n\n        [[5., 6.],\n         [7., 8.]]])",
            Tensor.Arange(1, 9).Reshape(2, 2, 2).ToString());
        Assert.Equal("tensor([1., 2.], dtype=float64)", Tensor.FromArray([1.0, 2.0]).ToString());
        var leaf = Tensor.FromArray([1f, 2f]).RequireGrad();
        Assert.Equal("tensor([1., 2.], requires_grad=True)", leaf.ToString());
        Assert.Equal("tensor([2., 4.], grad_fn=<MulBackward>)", (leaf * 2).ToString());
        // rows wrap at 80 columns: (80 − 7) / (width 3 + 2) = 14 entries per line
        Assert.Equal("tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        14., 15., 16., 17., 18., 19.])",
            Tensor.Arange(20).ToString());
        // more than 1000 elements: three at each edge (values chosen so the range stays below PyTorch's 1000× sci threshold)
        Assert.Equal("tensor([1000., 1001., 1002.,  ..., 2998., 2999., 3000.])", Tensor.Arange(1000, 3001).ToString());
        Assert.Equal("tensor([[1001., 1002., 1003.,  ..., 1038., 1039., 1040.],\n"
            + "        [1041., 1042., 1043.,  ..., 1078., 1079., 1080.],\n"
            + "        [1081., 1082., 1083.,  ..., 1118., 1119., 1120.],\n"
            + "        ...,\n"
            + "        [2081., 2082., 2083.,  ..., 2118., 2119., 2120.],\n"
            + "        [2121., 2122., 2123.,  ..., 2158., 2159., 2160.],\n"
            + "        [2161., 2162., 2163.,  ..., 2198., 2199., 2200.]])",
            Tensor.Arange(1001, 2201).Reshape(30, 40).ToString());
    }
}
