using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>Broadcasting arithmetic against loops over the broadcast index.</summary>
public class ArithmeticTests
{
    public static TheoryData<string> BinaryOps => new() { "add", "sub", "mul", "div", "maximum", "minimum", "pow" };

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void BroadcastBinaryMatchesLoop(string op)
    {
        Func<double, double, double> f = op switch
        {
            "add" => (x, y) => x + y,
            "sub" => (x, y) => x - y,
            "mul" => (x, y) => x * y,
            "div" => (x, y) => x / y,
            "maximum" => Math.Max,
            "minimum" => Math.Min,
            _ => Math.Pow,
        };
        Func<Tensor, Tensor, Tensor> t = op switch
        {
            "add" => (x, y) => x + y,
            "sub" => (x, y) => x - y,
            "mul" => (x, y) => x * y,
            "div" => (x, y) => x / y,
            "maximum" => Tensor.Maximum,
            "minimum" => Tensor.Minimum,
            _ => Tensor.Pow,
        };
        // [3,1,4] with [2,4], and a transposed (non-contiguous) left operand against a row
        var cases = new (Tensor A, Tensor B)[]
        {
            (Randn(1, 3, 1, 4).Abs() + 0.5, Randn(2, 2, 4)),
            (Randn(3, 5, 3).T.Abs() + 0.5, Randn(4, 5)),
            (Randn(5, 2, 3).Abs() + 0.5, Randn(6)),
        };
        foreach (var (a, b) in cases)
        {
            var y = t(a, b);
            var outShape = y.Shape.ToArray();
            var ad = Values(a);
            var bd = Values(b);
            var expected = new double[Numel(outShape)];
            for (int i = 0; i < expected.Length; i++)
            {
                var idx = Unravel(i, outShape);
                expected[i] = f(At(ad, a.Shape.ToArray(), idx), At(bd, b.Shape.ToArray(), idx));
            }
            Close(expected, Values(y), rel: 1e-14);
        }
    }

    [Fact]
    public void BroadcastShapesAndScalarOperators()
    {
        Assert.Equal([3, 2, 4], (Tensor.Zeros(3, 1, 4) + Tensor.Zeros(2, 4)).Shape.ToArray());
        Assert.Equal([2, 3], (Tensor.Zeros(2, 3) * Tensor.Scalar(1)).Shape.ToArray());
        Assert.Equal([], (Tensor.Scalar(2) + Tensor.Scalar(3)).Shape.ToArray());
        var x = Tensor.FromArray([1.0, 2.0, 4.0]);
        Assert.Equal([3.0, 4.0, 6.0], Values(x + 2));
        Assert.Equal([1.0, 0.0, -2.0], Values(2 - x));
        Assert.Equal([-1.0, 0.0, 2.0], Values(x - 2));
        Assert.Equal([3.0, 6.0, 12.0], Values(3 * x));
        Assert.Equal([2.0, 1.0, 0.5], Values(2 / x));
        Assert.Equal([0.5, 1.0, 2.0], Values(x / 2));
        Assert.Equal([-1.0, -2.0, -4.0], Values(-x));
        Assert.Equal([1.0, 4.0, 16.0], Values(x.Pow(2)));
        Assert.Equal([1.0, 4.0, 16.0], Values(x.Square()));
        Assert.Equal([0.0, 1.0, 1.0], Values(x.Gt(1.5)));
        Assert.Equal([1.0, 1.0, 0.0], Values(x.Le(2)));
        Assert.Equal([0.0, 1.0, 0.0], Values(x.Eq(2)));
        Assert.Equal(5.0, (Tensor.Scalar(2, DType.Float64) + 3).Item());
    }

    [Fact]
    public void MaximumPropagatesNaNAndFloat32Works()
    {
        var a = Tensor.FromArray([1f, float.NaN, 3f]);
        var b = Tensor.FromArray([2f, 0f, float.NaN]);
        var m = Values(Tensor.Maximum(a, b));
        Assert.Equal(2.0, m[0]);
        Assert.True(double.IsNaN(m[1]) && double.IsNaN(m[2]));
        Assert.Equal(DType.Float32, (a + b).DType);
    }
}
