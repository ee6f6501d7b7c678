using Nabla.Autograd;
using Nabla.Tests.Ops;

namespace Nabla.Tests.Autograd;

/// <summary>The backward engine's contract: accumulation, the sum over successors, graph lifetime, and error messages.</summary>
public class AutogradTests
{
    private static Tensor Leaf(params double[] values) => Tensor.FromArray(values).RequireGrad();

    private static double[] Data(Tensor t) => t.ToDoubleArray();

    [Fact]
    public void BackwardAccumulatesIntoGradAcrossCalls()
    {
        var x = Leaf(1, 2, 3);
        (x * x).Sum().Backward();
        Assert.Equal([2.0, 4.0, 6.0], Data(x.Grad!));
        // a second, fresh graph adds to .Grad (+=) rather than overwriting it
        (x * 3.0).Sum().Backward();
        Assert.Equal([5.0, 7.0, 9.0], Data(x.Grad!));
        x.Grad = null;
        (x * 3.0).Sum().Backward();
        Assert.Equal([3.0, 3.0, 3.0], Data(x.Grad!));
    }

    [Fact]
    public void RetainGraphAllowsASecondBackwardThatAccumulates()
    {
        var x = Leaf(1, 2);
        var y = (x * x * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.Equal([6.0, 24.0], Data(x.Grad!)); // 2 × 3x²
    }

    [Fact]
    public void DiamondGraphSumsOverSuccessors()
    {
        // x → a = 2x, b = x²; y = a·b = 2x³  ⇒ dy/dx = 6x² (a residual reaches x along both paths)
        var x = Leaf(1, -2, 0.5);
        var a = x * 2.0;
        var b = x * x;
        (a * b).Sum().Backward();
        Assert.Equal([6.0, 24.0, 1.5], Data(x.Grad!));

        // Σ(x*x + exp(x) + sum(x)) over n = 2 elements: 2x + eˣ + n (sum(x) is broadcast into both)
        var z = Leaf(0.0, 1.0);
        (z * z + z.Exp() + z.Sum()).Sum().Backward();
        var zg = Data(z.Grad!);
        Assert.Equal(0 + 1 + 2.0, zg[0], 14);
        Assert.Equal(2 + Math.E + 2, zg[1], 14);

        // an intermediate used twice: h = x + 1, y = h·h ⇒ dy/dx = 2(x + 1)
        var w = Leaf(3.0);
        var h = w + 1.0;
        (h * h).Backward();
        Assert.Equal(8.0, w.Grad!.Item());
    }

    [Fact]
    public void NoGradRecordsNothing()
    {
        var x = Leaf(1, 2);
        Tensor y;
        using (Tensor.NoGrad())
        {
            Assert.False(GradMode.IsEnabled);
            y = (x * x).Exp().Sum();
            using (Tensor.NoGrad()) Assert.False(GradMode.IsEnabled);
            Assert.False(GradMode.IsEnabled);
        }
        Assert.True(GradMode.IsEnabled);
        Assert.Null(y.GradFn);
        Assert.False(y.RequiresGrad);
        Assert.True(y.IsLeaf);
        Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Null(x.Grad);
    }

    [Fact]
    public void OpsOnTensorsWithoutRequiresGradRecordNothing()
    {
        var c = Tensor.FromArray([1.0, 2.0]);
        var y = c * c;
        Assert.Null(y.GradFn);
        var x = Leaf(1.0, 2.0);
        Assert.Equal("MulBackward", (x * c).GradFn!.Name);
        (x * c).Sum().Backward();
        Assert.Null(c.Grad);
        Assert.Equal([1.0, 2.0], Data(x.Grad!));
    }

    [Fact]
    public void DetachCutsTheGraphButSharesData()
    {
        var x = Leaf(1, 2);
        var d = (x * 3.0).Detach();
        Assert.True(d.IsLeaf);
        Assert.False(d.RequiresGrad);
        Assert.Equal([3.0, 6.0], Data(d));
        // only the attached path contributes: d(x·x + detach(3x))/dx = 2x
        (x * x + d).Sum().Backward();
        Assert.Equal([2.0, 4.0], Data(x.Grad!));
        Assert.Same(x._storage, x.Detach()._storage);
    }

    [Fact]
    public void BackwardTwiceWithoutRetainGraphThrows()
    {
        var x = Leaf(1, 2);
        var y = (x.Exp() * x).Sum();
        y.Backward();
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("retainGraph", ex.Message);
        // a graph that shares freed nodes with the first one cannot be walked either
        var x2 = Leaf(1.0);
        var h = x2.Exp();
        (h * 2.0).Backward();
        var ex2 = Assert.Throws<InvalidOperationException>(() => (h * 3.0).Backward());
        Assert.Contains("retainGraph", ex2.Message);
    }

    [Fact]
    public void BackwardOnNonScalarNeedsAGradient()
    {
        var x = Leaf(1, 2, 3);
        var y = x * x;
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("[3]", ex.Message);
        Assert.Throws<ArgumentException>(() => y.Backward(Tensor.FromArray([1.0, 1.0])));
        Assert.Throws<ArgumentException>(() => y.Backward(Tensor.FromArray([1f, 1f, 1f])));
        // with an upstream gradient: ∇x = g·2x
        y.Backward(Tensor.FromArray([1.0, 0.5, -1.0]));
        Assert.Equal([2.0, 2.0, -6.0], Data(x.Grad!));
    }

    [Fact]
    public void BackwardWithUpstreamGradientThroughMatMul()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } }).RequireGrad();
        var b = Tensor.FromArray(new double[,] { { 5, 6 }, { 7, 8 } }).RequireGrad();
        var g = Tensor.FromArray(new double[,] { { 1, 0 }, { 0, 2 } });
        Tensor.MatMul(a, b).Backward(g);
        // dA = g·Bᵀ = [[5, 7], [12, 16]], dB = Aᵀ·g = [[1, 6], [2, 8]]
        Assert.Equal([5.0, 7.0, 12.0, 16.0], Data(a.Grad!));
        Assert.Equal([1.0, 6.0, 2.0, 8.0], Data(b.Grad!));
    }

    [Fact]
    public void RetainGradKeepsANonLeafGradient()
    {
        var x = Leaf(1, 2);
        var h = (x * 3.0).RetainGrad();
        var other = x * 2.0;
        (h * h + other).Sum().Backward();
        Assert.Equal([6.0, 12.0], Data(h.Grad!)); // 2h
        Assert.Null(other.Grad);
        Assert.Equal([20.0, 38.0], Data(x.Grad!)); // 3·2h + 2
    }

    [Fact]
    public void LeafFlagsAndRequiresGradRules()
    {
        var x = Leaf(1.0);
        var y = x * 2.0;
        Assert.True(x.IsLeaf);
        Assert.False(y.IsLeaf);
        Assert.True(y.RequiresGrad);
        var ex = Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
        Assert.Contains("MulBackward", ex.Message);
        Assert.Contains("Detach", ex.Message);
    }

    [Fact]
    public void CustomFunctionRecordsOneNodeAndComputesGradients()
    {
        var x = Leaf(1, -2, 0.5);
        var y = new OpCatalog.Cube().Apply(x);
        Assert.Equal([1.0, -8.0, 0.125], Data(y));
        Assert.Equal("Cube", y.GradFn!.Name);
        Assert.Equal("tensor([ 1.0000, -8.0000,  0.1250], dtype=float64, grad_fn=<Cube>)", y.ToString());
        y.Sum().Backward();
        Assert.Equal([3.0, 12.0, 0.75], Data(x.Grad!));

        var cube = new OpCatalog.Cube();
        cube.Apply(x);
        var ex = Assert.Throws<InvalidOperationException>(() => cube.Apply(x));
        Assert.Contains("Cube", ex.Message);

        // a two-input Function: y = a·sin b, da = sin b, db = a·cos b
        var a = Leaf(2.0);
        var b = Leaf(0.5);
        new OpCatalog.MulSin().Apply(a, b).Backward();
        Assert.Equal(Math.Sin(0.5), a.Grad!.Item(), 15);
        Assert.Equal(2 * Math.Cos(0.5), b.Grad!.Item(), 15);
    }

    private sealed class WrongShapeGradient : Function
    {
        protected override Tensor Forward(Tensor[] inputs) => inputs[0] * 2.0;

        protected override Tensor?[] Backward(Tensor residual) => [residual.Sum()];
    }

    [Fact]
    public void CustomFunctionWithAWrongGradientShapeIsReported()
    {
        var x = Leaf(1, 2);
        var y = new WrongShapeGradient().Apply(x).Sum();
        var ex = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("WrongShapeGradient", ex.Message);
        Assert.Contains("[2]", ex.Message);
    }

    [Fact]
    public void GradCheckDetectsAWrongBackward()
    {
        var result = GradCheck.Check(x => new WrongSlope().Apply(x[0]), Tensor.FromArray([0.3, -0.7]));
        Assert.False(result.Passed);
        Assert.StartsWith("FAILED", result.ToString());
        Assert.Throws<ArgumentException>(() => GradCheck.Check(x => x[0] * 2.0, Tensor.FromArray([1f])));
    }

    private sealed class WrongSlope : Function
    {
        protected override Tensor Forward(Tensor[] inputs) => inputs[0] * 3.0;

        protected override Tensor?[] Backward(Tensor residual) => [residual * 2.0];
    }

    // ---- shape errors name the op and both shapes ----

    [Fact]
    public void AddShapeMismatchNamesOpAndShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3) + Tensor.Zeros(4));
        Assert.Contains("Add", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4]", ex.Message);
        var mul = Assert.Throws<ArgumentException>(() => Tensor.Zeros(3, 2) * Tensor.Zeros(2, 3));
        Assert.Contains("Mul", mul.Message);
        var dtype = Assert.Throws<ArgumentException>(() => Tensor.Zeros(2) + Tensor.Zeros([2], DType.Float64));
        Assert.Contains("float32", dtype.Message);
        Assert.Contains("float64", dtype.Message);
    }

    [Fact]
    public void MatMulShapeMismatchNamesOpAndShapes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)));
        Assert.Contains("MatMul", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
        var batch = Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(2, 3, 4), Tensor.Zeros(3, 4, 5)));
        Assert.Contains("MatMul", batch.Message);
        var vec = Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Zeros(3), Tensor.Zeros(4)));
        Assert.Contains("[3]", vec.Message);
        Assert.Contains("[4]", vec.Message);
        Assert.Throws<ArgumentException>(() => Tensor.MatMul(Tensor.Scalar(1), Tensor.Zeros(3)));
    }

    [Fact]
    public void LinearShapeMismatchIsReported()
    {
        var ex = Assert.Throws<ArgumentException>(() => Tensor.Linear(Tensor.Zeros(2, 3), Tensor.Zeros(4, 5)));
        Assert.Contains("Linear", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Contains("5", ex.Message);
        var bias = Assert.Throws<ArgumentException>(() => Tensor.Linear(Tensor.Zeros(2, 5), Tensor.Zeros(4, 5), Tensor.Zeros(3)));
        Assert.Contains("bias", bias.Message);
        Assert.Contains("[3]", bias.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Linear(Tensor.Zeros(2, 5), Tensor.Zeros(5)));
    }

    [Fact]
    public void ReshapeToAnInvalidSizeIsReported()
    {
        var x = Tensor.Zeros(2, 3);
        var ex = Assert.Throws<ArgumentException>(() => x.Reshape(4, 2));
        Assert.Contains("Reshape", ex.Message);
        Assert.Contains("[4, 2]", ex.Message);
        Assert.Contains("[2, 3]", ex.Message);
        Assert.Throws<ArgumentException>(() => x.Reshape(-1, 4));
        Assert.Throws<ArgumentException>(() => x.Reshape(-1, -1));
        Assert.Throws<ArgumentException>(() => x.Reshape(-2, -3));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Sum(2));
        Assert.Throws<ArgumentException>(() => x.Expand(3, 3));
        Assert.Throws<ArgumentException>(() => x.Permute(0, 0));
    }
}
