using Nabla.Autograd;
using Nabla.NN;

namespace Nabla.Tests.Docs;

// The examples of docs/custom-layers.md, verbatim: keep the two in step.
public sealed class Connection : Function
{
    private Tensor _x = null!, _theta = null!;

    // Q1: the output passed on: x·Θᵀ
    protected override Tensor Forward(Tensor[] inputs)
    {
        (_x, _theta) = (inputs[0], inputs[1]);
        return Tensor.MatMul(_x, _theta.T);
    }

    // Q2: ∇Θ J = residualᵀ·x (the text's outer product ∇i ⊗ x_i, summed over the batch)
    // Q3: ∇x J = residual·Θ (the text's φ(A, b) = Aᵀb for a connection layer)
    protected override Tensor?[] Backward(Tensor residual) =>
        [Tensor.MatMul(residual, _theta), Tensor.MatMul(residual.T, _x)];
}

public sealed class ConnectionLayer : Module
{
    public ConnectionLayer(int inFeatures, int outFeatures, Generator? generator = null)
    {
        double bound = 1 / Math.Sqrt(inFeatures);
        Theta = RegisterParameter("weight", new Parameter(Tensor.Uniform([outFeatures, inFeatures], -bound, bound, generator: generator)))!;
    }

    public Parameter Theta { get; }

    public override Tensor Forward(Tensor input) => new Connection().Apply(input, Theta);
}

public sealed class SinCos : MultiOutputFunction
{
    private Tensor _x = null!;

    // Q1: the outputs passed on
    protected override Tensor[] Forward(Tensor[] inputs)
    {
        _x = inputs[0];
        return [_x.Sin(), _x.Cos()];
    }

    // Q3: ∇x J = ∇sin J · cos x − ∇cos J · sin x (both outputs' residuals)
    protected override Tensor?[] Backward(Tensor[] residuals) =>
        [residuals[0] * _x.Cos() - residuals[1] * _x.Sin()];
}

public sealed class Cube : Function
{
    protected override Tensor Forward(Tensor[] inputs) { SaveForBackward(inputs[0]); return inputs[0].Pow(3); }
    protected override Tensor?[] Backward(Tensor residual) { var x = SavedTensors[0]; return [residual * 3.0 * x * x]; }
}

public class CustomLayerDocTests
{
    [Fact]
    public void SecondOrderGradientThroughAFunctionWithSavedTensors()
    {
        var x = Tensor.FromArray([-1.0, 0.5, 2.0]).RequireGrad();
        var g = Nabla.Autograd.Autograd.Grad([new Cube().Apply(x).Sum()], [x], createGraph: true)[0]!;   // 3x², a graph tensor
        var h = Nabla.Autograd.Autograd.Grad([g.Sum()], [x])[0]!;                                            // 6x
        Assert.Equal([3.0, 0.75, 12.0], g.ToDoubleArray());
        Assert.Equal([-6.0, 3.0, 12.0], h.ToDoubleArray());
        // a Function that keeps its tensors in fields refuses, naming itself
        var a = Tensor.Randn([2, 3], DType.Float64).RequireGrad();
        var t = Tensor.Randn([4, 3], DType.Float64).RequireGrad();
        var ga = Nabla.Autograd.Autograd.Grad([new Connection().Apply(a, t).Square().Sum()], [a], createGraph: true)[0]!;
        var e = Assert.Throws<NotSupportedException>(() => Nabla.Autograd.Autograd.Grad([ga.Sum()], [t]));
        Assert.StartsWith("Double backward is not supported for Connection", e.Message);
    }

    [Fact]
    public void TheMultiOutputExamplePassesGradCheck()
    {
        var x = Tensor.Randn([5], DType.Float64, new Generator(9)).RequireGrad();
        GradCheckResult r = GradCheck.Check(() => new SinCos().Apply(x), [x]);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal(2 * 5 * 5, r.Checked);

        // only cos x used: sin x's residual is zero, so ∇x = −sin x
        var outputs = new SinCos().Apply(x);
        outputs[1].Sum().Backward();
        var expected = x.ToDoubleArray().Select(v => -Math.Sin(v)).ToArray();
        var actual = x.Grad!.ToDoubleArray();
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i], actual[i], 14);
    }

    [Fact]
    public void TheDocsExamplePassesGradCheck()
    {
        var g = new Generator(8);
        var x = Tensor.Randn([4, 3], DType.Float64, g).RequireGrad();
        var theta = Tensor.Randn([2, 3], DType.Float64, g).RequireGrad();
        GradCheckResult r = GradCheck.Check(() => new Connection().Apply(x, theta), [x, theta]);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal(2 * 4 * (12 + 6), r.Checked);
    }

    [Fact]
    public void TheCustomLayerMatchesLinearWithoutBiasAndTrains()
    {
        var layer = new ConnectionLayer(3, 2, new Generator(1));
        var linear = new Linear(3, 2, bias: false);
        linear.LoadStateDict(layer.StateDict());
        var x = Tensor.Randn([5, 3], generator: new Generator(2));
        Assert.Equal(linear.Forward(x).ToArray(), layer.Forward(x).ToArray());
        layer.Forward(x).Square().Sum().Backward();
        linear.Forward(x).Square().Sum().Backward();
        var a = layer.Theta.Grad!.ToArray();
        var b = linear.Weight.Grad!.ToArray();
        for (int i = 0; i < a.Length; i++) Assert.Equal(b[i], a[i], 4);
    }

    [Fact]
    public void AWrongGradientShapeNamesTheFunction()
    {
        var x = Tensor.Randn([2, 3]).RequireGrad();
        var y = new BadShape().Apply(x);
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("BadShape", e.Message);
        Assert.Contains("[3]", e.Message);
    }

    private sealed class BadShape : Function
    {
        protected override Tensor Forward(Tensor[] inputs) => inputs[0] * 2.0;

        protected override Tensor?[] Backward(Tensor residual) => [Tensor.Zeros(3)];
    }
}
