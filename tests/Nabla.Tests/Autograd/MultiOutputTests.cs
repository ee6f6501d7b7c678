using Nabla.Autograd;

namespace Nabla.Tests.Autograd;

/// <summary>
/// Graph nodes with several outputs: the engine gathers a residual per output (zero for one nothing used), runs the
/// node's backward once with all of them, after every consumer of every output, and frees it afterwards.
/// </summary>
public class MultiOutputTests
{
    // (sin x, cos x, x²) as one node; counts its backward calls and keeps the residuals it received
    private sealed class Trig : MultiOutputFunction
    {
        private Tensor _x = null!;

        public int Calls { get; private set; }

        public Tensor[] Seen { get; private set; } = [];

        protected override Tensor[] Forward(Tensor[] inputs)
        {
            _x = inputs[0];
            return [_x.Sin(), _x.Cos(), _x * _x];
        }

        protected override Tensor?[] Backward(Tensor[] residuals)
        {
            Calls++;
            Seen = residuals.Select(r => r.Clone()).ToArray();
            return [residuals[0] * _x.Cos() - residuals[1] * _x.Sin() + residuals[2] * 2.0 * _x];
        }
    }

    private static readonly double[] s_x = [0.3, -1.2, 2.0, 0.7];

    private static Tensor Leaf() => Tensor.FromArray(s_x).RequireGrad();

    private static void Expect(Func<double, double> derivative, Tensor grad)
    {
        var g = grad.ToDoubleArray();
        for (int i = 0; i < s_x.Length; i++) Assert.Equal(derivative(s_x[i]), g[i], 12);
    }

    [Fact]
    public void OnlyOneOutputUsedTheOthersReceiveZeros()
    {
        var x = Leaf();
        var f = new Trig();
        var outs = f.Apply(x);
        Assert.Same(outs[0].GradFn, outs[2].GradFn);
        Assert.Equal(3, outs[1].GradFn!.OutputCount);
        outs[1].Sum().Backward();
        Expect(v => -Math.Sin(v), x.Grad!);
        Assert.Equal(1, f.Calls);
        Assert.Equal(new double[4], f.Seen[0].ToDoubleArray());
        Assert.Equal([1.0, 1, 1, 1], f.Seen[1].ToDoubleArray());
        Assert.Equal(new double[4], f.Seen[2].ToDoubleArray());
    }

    [Fact]
    public void AllOutputsUsedRunTheBackwardOnce()
    {
        var x = Leaf();
        var f = new Trig();
        var outs = f.Apply(x);
        (outs[0] * 2.0 + outs[1] * 3.0 + outs[2]).Sum().Backward();
        Expect(v => 2 * Math.Cos(v) - 3 * Math.Sin(v) + 2 * v, x.Grad!);
        Assert.Equal(1, f.Calls);
    }

    [Fact]
    public void AnOutputUsedTwiceReceivesTheSumOfItsResiduals()
    {
        // J = Σ sin²x + sin x + cos x: sin x feeds the product twice and the sum once
        var x = Leaf();
        var f = new Trig();
        var outs = f.Apply(x);
        (outs[0] * outs[0] + outs[0] + outs[1]).Sum().Backward();
        Expect(v => (2 * Math.Sin(v) + 1) * Math.Cos(v) - Math.Sin(v), x.Grad!);
        Assert.Equal(1, f.Calls);
    }

    [Fact]
    public void AnOutputViewedThenUsedAndOneBehindALongChain()
    {
        // cos x reaches the loss through views and a chain of ops; sin x directly: the node still runs last, once
        var x = Leaf();
        var f = new Trig();
        var outs = f.Apply(x);
        var c = outs[1].Reshape(2, 2).Transpose(0, 1).Narrow(0, 0, 2).Flatten();
        for (int i = 0; i < 8; i++) c = c * 1.5 - 0.25;
        (outs[0].Sum() + c.Sum()).Backward();
        Expect(v => Math.Cos(v) - Math.Pow(1.5, 8) * Math.Sin(v), x.Grad!);
        Assert.Equal(1, f.Calls);
    }

    [Fact]
    public void StackedMultiOutputNodesAndRetainGrad()
    {
        // the second node's input is an output of the first; J = Σ sin(sin x) + cos(x)²
        var x = Leaf();
        var outs = new Trig().Apply(x);
        outs[1].RetainGrad();
        var inner = new Trig().Apply(outs[0]);
        (inner[0] + outs[1] * outs[1]).Sum().Backward();
        Expect(v => Math.Cos(Math.Sin(v)) * Math.Cos(v) - 2 * Math.Cos(v) * Math.Sin(v), x.Grad!);
        Expect(v => 2 * Math.Cos(v), outs[1].Grad!);
    }

    [Fact]
    public void GradCheckChecksEveryOutputsJacobian()
    {
        var x = Tensor.FromArray(s_x);
        var r = GradCheck.Check(() => new Trig().Apply(x), [x]);
        Assert.True(r.Passed, r.ToString());
        Assert.Equal(3 * 4 * 4, r.Checked);

        // a backward wrong only for the second output fails, and the result names that output
        var bad = GradCheck.Check(() => new WrongSecondOutput().Apply(x), [x]);
        Assert.False(bad.Passed);
        Assert.Equal(1, bad.Output);
        Assert.Contains("output 1 element", bad.ToString());
    }

    private sealed class WrongSecondOutput : MultiOutputFunction
    {
        private Tensor _x = null!;

        protected override Tensor[] Forward(Tensor[] inputs)
        {
            _x = inputs[0];
            return [_x * 2.0, _x * 3.0];
        }

        protected override Tensor?[] Backward(Tensor[] residuals) => [residuals[0] * 2.0 + residuals[1] * 3.5];
    }

    [Fact]
    public void ASecondBackwardWithoutRetainGraphNamesTheOp()
    {
        var x = Leaf();
        var outs = new Trig().Apply(x);
        outs[0].Sum().Backward();
        // the node was freed by the first backward, though that one used another output
        var e = Assert.Throws<InvalidOperationException>(() => outs[2].Sum().Backward());
        Assert.Contains("Trig", e.Message);
        Assert.Contains("retainGraph", e.Message);

        // with retainGraph both run and the gradients add up
        var z = Leaf();
        var kept = new Trig().Apply(z);
        kept[0].Sum().Backward(retainGraph: true);
        kept[2].Sum().Backward();
        Expect(v => Math.Cos(v) + 2 * v, z.Grad!);
    }

    [Fact]
    public void ARecurrentLayersOutputsShareOneNodeThatIsFreedAfterBackward()
    {
        var g = new Generator(3);
        var x = Tensor.Randn([4, 2, 3], DType.Float64, g);
        var wIh = Tensor.Randn([8, 3], DType.Float64, g).RequireGrad();
        var wHh = Tensor.Randn([8, 2], DType.Float64, g).RequireGrad();
        var h0 = Tensor.Zeros([2, 2], DType.Float64);
        var (y, hn, cn) = Tensor.RecurrentLayer(RecurrentMode.Lstm, x, wIh, wHh, null, null, h0, h0);
        Assert.Equal([4, 2, 2], y.Shape.ToArray());
        Assert.Equal([2, 2], hn.Shape.ToArray());
        Assert.Same(y.GradFn, cn!.GradFn);
        Assert.Equal("LstmLayerBackward", hn.GradFn!.Name);
        // h_n is the last step's output
        Assert.Equal(y.Select(0, 3).ToDoubleArray(), hn.ToDoubleArray());
        hn.Sum().Backward();
        Assert.NotNull(wIh.Grad);
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("LstmLayerBackward", e.Message);
        Assert.Contains("retainGraph", e.Message);
    }

    [Fact]
    public void FunctionErrorsNameTheFunction()
    {
        var x = Leaf();
        Assert.Contains("NoOutputs", Assert.Throws<InvalidOperationException>(() => new NoOutputs().Apply(x)).Message);
        var f = new Trig();
        f.Apply(x);
        var again = Assert.Throws<InvalidOperationException>(() => f.Apply(x));
        Assert.Contains("Trig", again.Message);
        Assert.Contains("applied once", again.Message);
    }

    private sealed class NoOutputs : MultiOutputFunction
    {
        protected override Tensor[] Forward(Tensor[] inputs) => [];

        protected override Tensor?[] Backward(Tensor[] residuals) => [null];
    }
}
