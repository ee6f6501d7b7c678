using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests;

/// <summary>The creation functions, and the seeded random ones' moments.</summary>
public class TensorCreationTests
{
    [Fact]
    public void CreationFunctions()
    {
        var z = Tensor.Zeros(2, 3);
        Assert.Equal(DType.Float32, z.DType);
        Assert.Equal([2, 3], z.Shape.ToArray());
        Assert.All(Values(z), v => Assert.Equal(0.0, v));
        Assert.All(Values(Tensor.Ones([4], DType.Float64)), v => Assert.Equal(1.0, v));
        Assert.Equal(DType.Float64, Tensor.Ones([4], DType.Float64).DType);
        Assert.Equal([2.5, 2.5], Values(Tensor.Full([2], 2.5)));
        Assert.Equal(7.0, Tensor.Scalar(7).Item());
        Assert.Equal(0, Tensor.Scalar(7).Rank);
        Assert.Equal([0.0, 1, 2, 3], Values(Tensor.Arange(4)));
        Assert.Equal([1.0, 1.5, 2.0, 2.5], Values(Tensor.Arange(1, 3, 0.5, DType.Float64)));
        Assert.Equal([5.0, 3.0, 1.0], Values(Tensor.Arange(5, 0, -2)));
        Assert.Empty(Values(Tensor.Arange(3, 3)));
        Assert.Throws<ArgumentException>(() => Tensor.Arange(0, 1, 0));
        var fa = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal(6.0, fa[1, 2]);
        Assert.Equal(4.0, fa[-1, 0]);
        Assert.Equal([3], Tensor.FromArray([1f, 2f, 3f]).Shape.ToArray());
        Assert.Throws<ArgumentException>(() => Tensor.FromArray([1.0, 2, 3], 2, 2));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, -1));
        var src = new[] { 1f, 2f };
        var copy = Tensor.FromArray(src);
        src[0] = 9;
        Assert.Equal(1.0, copy[0]); // FromArray copies
        Assert.Equal([2, 2], Tensor.ZerosLike(Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } })).Shape.ToArray());
        Assert.Equal([3, 2], Tensor.OnesLike(fa.T).Shape.ToArray());
        Assert.All(Values(Tensor.OnesLike(fa.T)), v => Assert.Equal(1.0, v));
    }

    [Fact]
    public void RandomCreationIsSeededAndHasTheRightMoments()
    {
        const int n = 100_000;
        var x = Values(Tensor.Randn([n], DType.Float64, new Generator(42)));
        double mean = x.Average();
        double std = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        // standard errors: mean 1/√n ≈ 0.0032, std 1/√(2n) ≈ 0.0022; 5 of them
        Assert.InRange(mean, -0.016, 0.016);
        Assert.InRange(std, 0.989, 1.011);
        Assert.InRange(x.Count(v => Math.Abs(v) < 1) / (double)n, 0.6827 - 0.008, 0.6827 + 0.008);
        Assert.Equal(x, Values(Tensor.Randn([n], DType.Float64, new Generator(42))));
        Assert.NotEqual(x[..10], Values(Tensor.Randn([10], DType.Float64, new Generator(43))));
        Tensor.ManualSeed(7);
        var a = Values(Tensor.Randn([5]));
        Tensor.ManualSeed(7);
        Assert.Equal(a, Values(Tensor.Randn([5])));

        var u = Values(Tensor.Rand([n], DType.Float64, new Generator(1)));
        Assert.All(u, v => Assert.True(v >= 0 && v < 1));
        Assert.InRange(u.Average(), 0.5 - 0.005, 0.5 + 0.005);
        var un = Values(Tensor.Uniform([1000], -2, 3, DType.Float32, new Generator(2)));
        Assert.All(un, v => Assert.InRange(v, -2.0, 3.0));
        var ri = Values(Tensor.RandInt(-3, 4, [1000], DType.Float32, new Generator(3)));
        Assert.All(ri, v => Assert.True(v == Math.Floor(v) && v >= -3 && v < 4));
        Assert.Equal(7, ri.Distinct().Count());
    }
}
