using Nabla.Autograd;
using AG = Nabla.Autograd.Autograd;

namespace Nabla.Tests.Autograd;

/// <summary>Autograd.Backward over several roots, Autograd.Grad, and createGraph (second-order gradients), against hand-derived values.</summary>
public class AutogradFunctionsTests
{
    private static Tensor Leaf(params double[] values) => Tensor.FromArray(values).RequireGrad();

    private static void Close(double[] expected, Tensor actual, double tol = 1e-12)
    {
        var a = actual.ToDoubleArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(expected[i] - a[i]) <= tol, $"element {i}: expected {expected[i]}, got {a[i]}");
    }

    [Fact]
    public void GradReturnsTheGradientAndLeavesGradUntouched()
    {
        var x = Leaf(1, -2, 3);
        var y = (x * x * x).Sum();
        var g = AG.Grad([y], [x]);
        Close([3, 12, 27], g[0]!);
        Assert.Null(x.Grad);
        Assert.False(g[0]!.RequiresGrad);
    }

    [Fact]
    public void GradWithRespectToAnIntermediateTensor()
    {
        var x = Leaf(0.5, 1.0);
        var h = x.Exp();
        var y = (h * h).Sum();
        var g = AG.Grad([y], [h, x]);
        Close([2 * Math.Exp(0.5), 2 * Math.Exp(1.0)], g[0]!);
        // dy/dx = 2e^{2x}
        Close([2 * Math.Exp(1.0), 2 * Math.Exp(2.0)], g[1]!, 1e-12);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void GradSumsOverSeveralOutputsWithGradOutputs()
    {
        var x = Leaf(1, 2);
        var a = x * 3.0;                 // da/dx = 3
        var b = (x * x).Sum();           // db/dx = 2x
        var g = AG.Grad([a, b], [x], [Tensor.FromArray([1.0, -1.0]), null]);
        Close([3 + 2, -3 + 4], g[0]!);
    }

    [Fact]
    public void GradUnusedInputThrowsUnlessAllowed()
    {
        var x = Leaf(1, 2);
        var z = Leaf(5);
        var y = (x * 2.0).Sum();
        var e = Assert.Throws<InvalidOperationException>(() => AG.Grad([y], [x, z], retainGraph: true));
        Assert.Contains("input 1", e.Message);
        Assert.Contains("allowUnused", e.Message);
        var g = AG.Grad([y], [x, z], allowUnused: true);
        Close([2, 2], g[0]!);
        Assert.Null(g[1]);
    }

    [Fact]
    public void GradRejectsBadArguments()
    {
        var x = Leaf(1, 2);
        var c = Tensor.FromArray([1.0, 2.0]);
        var y = (x * c).Sum();
        Assert.Contains("does not require grad", Assert.Throws<ArgumentException>(() => AG.Grad([y], [c])).Message);
        var v = x * 2.0;
        Assert.Contains("scalar", Assert.Throws<InvalidOperationException>(() => AG.Grad([v], [x])).Message);
        Assert.Contains("2 gradients", Assert.Throws<ArgumentException>(() => AG.Grad([v], [x], [null, null])).Message);
    }

    [Fact]
    public void BackwardOfSeveralRootsSumsTheirResiduals()
    {
        var x = Leaf(1, 2, 3);
        var y1 = x * 2.0;                // not a scalar: needs a gradient
        var y2 = (y1 * y1).Sum();        // y1 feeds y2 too: dy2/dx = 8x
        AG.Backward([y1, y2], [Tensor.OnesLike(y1), null]);
        Close([2 + 8, 2 + 16, 2 + 24], x.Grad!);
        // the same, roots in the other order
        var w = Leaf(1, 2, 3);
        var z1 = w * 2.0;
        var z2 = (z1 * z1).Sum();
        AG.Backward([z2, z1], [null, Tensor.OnesLike(z1)]);
        Close([10, 18, 26], w.Grad!);
    }

    [Fact]
    public void SecondDerivativeOfXCubedIsSixX()
    {
        var x = Leaf(-1.5, 0.5, 2);
        var dy = AG.Grad([(x * x * x).Sum()], [x], createGraph: true)[0]!;
        Close([6.75, 0.75, 12], dy);
        Assert.True(dy.RequiresGrad);
        var d2y = AG.Grad([dy.Sum()], [x])[0]!;
        Close([-9, 3, 12], d2y);
        // and the third: 6
        var x2 = Leaf(0.7);
        var g1 = AG.Grad([x2.Pow(3)], [x2], createGraph: true)[0]!;
        var g2 = AG.Grad([g1], [x2], createGraph: true)[0]!;
        var g3 = AG.Grad([g2], [x2])[0]!;
        Close([6], g3, 1e-12);
    }

    [Fact]
    public void SecondDerivativesOfUnaryOps()
    {
        var x = Leaf(0.3, 1.2);
        Tensor D2(Func<Tensor, Tensor> f)
        {
            var g = AG.Grad([f(x).Sum()], [x], createGraph: true)[0]!;
            return AG.Grad([g.Sum()], [x])[0]!;
        }
        double[] xs = [0.3, 1.2];
        Close(xs.Select(v => -Math.Sin(v)).ToArray(), D2(t => t.Sin()));
        Close(xs.Select(Math.Exp).ToArray(), D2(t => t.Exp()));
        Close(xs.Select(v => -1 / (v * v)).ToArray(), D2(t => t.Log()), 1e-12);
        Close(xs.Select(v => { double t = Math.Tanh(v); return -2 * t * (1 - t * t); }).ToArray(), D2(t => t.Tanh()));
        Close(xs.Select(v => { double s = 1 / (1 + Math.Exp(-v)); return s * (1 - s) * (1 - 2 * s); }).ToArray(), D2(t => t.Sigmoid()));
        Close(xs.Select(v => -0.25 * Math.Pow(v, -1.5)).ToArray(), D2(t => t.Sqrt()), 1e-12);
        // relu(x)·x = x² for x > 0
        Close([2, 2], D2(t => t.Relu() * t));
        var neg = Leaf(-0.4);
        var gn = AG.Grad([(neg.Relu() * neg).Sum() + neg.Square().Sum()], [neg], createGraph: true)[0]!;
        Close([2], AG.Grad([gn.Sum()], [neg])[0]!);
    }

    [Fact]
    public void HessianVectorProduct()
    {
        // f(x) = x0²·x1 + x1³: H = [[2x1, 2x0], [2x0, 6x1]]
        var x = Leaf(1.5, -0.5);
        var f = x.Select(0, 0) * x.Select(0, 0) * x.Select(0, 1) + x.Select(0, 1).Pow(3);
        var g = AG.Grad([f], [x], createGraph: true)[0]!;
        Close([2 * 1.5 * -0.5, 1.5 * 1.5 + 3 * 0.25], g);
        var v = Tensor.FromArray([1.0, 2.0]);
        var hv = AG.Grad([(g * v).Sum()], [x])[0]!;
        Close([2 * -0.5 * 1 + 2 * 1.5 * 2, 2 * 1.5 * 1 + 6 * -0.5 * 2], hv);
    }

    [Fact]
    public void GradientPenaltyMatchesFiniteDifferences()
    {
        // WGAN-GP: penalty = mean over the batch of (‖∇ₓD(x)‖ − 1)², D a tanh MLP; its gradient in D's weights is second order
        var gen = new Generator(7);
        var x = Tensor.Randn([3, 4], DType.Float64, gen).RequireGrad();
        var w1 = Tensor.Randn([5, 4], DType.Float64, gen);
        var b1 = Tensor.Randn([5], DType.Float64, gen);
        var w2 = Tensor.Randn([1, 5], DType.Float64, gen);
        Tensor Penalty()
        {
            var d = Tensor.Linear(Tensor.Linear(x, w1, b1).Tanh(), w2);
            var gx = AG.Grad([d.Sum()], [x], createGraph: true)[0]!;
            return (gx.Norm(2, 1) - 1.0).Square().Mean();
        }
        var result = GradCheck.Check(() =>
        {
            using var _ = Tensor.EnableGrad();
            return Penalty();
        }, [w1, b1, w2]);
        Assert.True(result.Passed, result.ToString());
        // and through Backward: the weights' Grad is the same gradient
        foreach (var t in new[] { w1, b1, w2 }) t.Grad = null;
        Penalty().Backward();
        var expected = AG.Grad([Penalty()], [w1, b1, w2]);
        Close(expected[0]!.ToDoubleArray(), w1.Grad!, 1e-12);
        Close(expected[2]!.ToDoubleArray(), w2.Grad!, 1e-12);
    }

    [Fact]
    public void BackwardWithCreateGraphLeavesADifferentiableGrad()
    {
        var x = Leaf(2, 3);
        (x * x * x).Sum().Backward(createGraph: true);
        var g = x.Grad!;
        Close([12, 27], g);
        Assert.True(g.RequiresGrad);
        x.Grad = null;
        g.Sum().Backward();
        Close([12, 18], x.Grad!);
    }

    [Fact]
    public void CreateGraphRetainsTheGraphByDefault()
    {
        var x = Leaf(1, 2);
        var y = (x.Exp() * x).Sum();
        AG.Grad([y], [x], createGraph: true);
        var again = AG.Grad([y], [x]);
        Close([2 * Math.E, 3 * Math.Exp(2)], again[0]!, 1e-12);
        // without createGraph or retainGraph the graph is freed
        Assert.Contains("retainGraph", Assert.Throws<InvalidOperationException>(() => AG.Grad([y], [x])).Message);
    }

    [Fact]
    public void CreateGraphThroughAFusedKernelRefusesTheSecondDerivativeNamingTheOp()
    {
        var gen = new Generator(1);
        var x = Tensor.Randn([1, 2, 5, 5], DType.Float64, gen).RequireGrad();
        var w = Tensor.Randn([3, 2, 3, 3], DType.Float64, gen).RequireGrad();
        Tensor Y() => Tensor.Conv2d(x, w).MaxPool2d(2).Square().Sum();
        // first order works under createGraph and equals the plain gradient
        var g = AG.Grad([Y()], [x], createGraph: true)[0]!;
        var plain = AG.Grad([Y()], [x])[0]!;
        Close(plain.ToDoubleArray(), g, 1e-12);
        var e = Assert.Throws<NotSupportedException>(() => AG.Grad([g.Sum()], [w]));
        Assert.StartsWith("Double backward is not supported for MaxPool2d:", e.Message);
    }

    [Fact]
    public void ComposedBackwardsUnderCreateGraphEqualTheFusedKernels()
    {
        // the graph-op formulas used under createGraph against the kernels used otherwise (first order)
        var gen = new Generator(3);
        var x = Tensor.Randn([4, 3], DType.Float64, gen).RequireGrad();
        var w = Tensor.Randn([2, 3], DType.Float64, gen).RequireGrad();
        var b = Tensor.Randn([2], DType.Float64, gen).RequireGrad();
        var target = Tensor.FromArray([1L, 0, -100, 2]);
        Func<Tensor>[] fs =
        [
            () => (Tensor.Linear(x, w, b).Sin() * Tensor.MatMul(x, w.T)).Sum(),
            () => Tensor.CrossEntropy(x, target, Tensor.FromArray([0.5, 2.0, 1.5]), labelSmoothing: 0.2),
            () => (x.Softmax(-1) * x).Sum() + x.LogSoftmax(-1).Square().Sum(),
            () => (x.Relu() * x).Sum() + x.Max(1).Values.Sum() + x.Gather(1, Tensor.FromArray([2L, 0, 0, 1], 4, 1)).Sum(),
            () => x.Norm(2, 1).Sum() + x.Norm(3).Square() + x.Slice(0, 1, 4, 2).Exp().Sum(),
            () => (x.Gelu() + x.Silu()).Sum(),
        ];
        foreach (var f in fs)
        {
            var plain = AG.Grad([f()], [x, w, b], allowUnused: true);
            var graph = AG.Grad([f()], [x, w, b], createGraph: true, allowUnused: true);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(plain[i] is null, graph[i] is null);
                if (plain[i] is { } p) Close(p.ToDoubleArray(), graph[i]!, 1e-12);
            }
        }
    }

    private sealed class SinCosSaved : MultiOutputFunction
    {
        protected override Tensor[] Forward(Tensor[] inputs)
        {
            SaveForBackward(inputs[0]);
            return [inputs[0].Sin(), inputs[0].Cos()];
        }

        protected override Tensor?[] Backward(Tensor[] residuals)
        {
            var x = SavedTensors[0];
            return [residuals[0] * x.Cos() - residuals[1] * x.Sin()];
        }
    }

    [Fact]
    public void MultiOutputFunctionWithSavedTensorsHasSecondDerivatives()
    {
        // f = sin x + 2 cos x: f' = cos x − 2 sin x, f'' = −sin x − 2 cos x
        var x = Leaf(0.3, -1.1);
        var o = new SinCosSaved().Apply(x);
        var g = AG.Grad([o[0].Sum(), (o[1] * 2.0).Sum()], [x], createGraph: true)[0]!;
        Close([Math.Cos(0.3) - 2 * Math.Sin(0.3), Math.Cos(-1.1) - 2 * Math.Sin(-1.1)], g);
        var h = AG.Grad([g.Sum()], [x])[0]!;
        Close([-Math.Sin(0.3) - 2 * Math.Cos(0.3), -Math.Sin(-1.1) - 2 * Math.Cos(-1.1)], h);
    }

    [Fact]
    public void GradThroughTheLstmsSeparateOutputs()
    {
        // (y, h_n, c_n) are three tensors of one node: Grad with respect to the input from a loss on h_n and c_n only
        // equals the .Grad a Backward of the same loss leaves
        var lstm = new Nabla.NN.LSTM(3, 4);
        var x = Tensor.Randn([5, 2, 3], generator: new Generator(2)).RequireGrad();
        Tensor Loss()
        {
            var o = lstm.Forward(x, null);
            return o.HN.Square().Sum() + o.CN.Sum();
        }
        var g = AG.Grad([Loss()], [x, lstm.Parameters().First()]);
        Assert.Null(x.Grad);
        Loss().Backward();
        Close(x.Grad!.ToDoubleArray(), g[0]!, 1e-6);
        Close(lstm.Parameters().First().Grad!.ToDoubleArray(), g[1]!, 1e-6);
    }

    [Fact]
    public void ConvInputGradientUnderCreateGraphIsAConvTransposeEqualToTheKernel()
    {
        var gen = new Generator(11);
        Tensor R(params int[] shape) => Tensor.Randn(shape, DType.Float64, gen).RequireGrad();
        var cases = new (Tensor X, Tensor W, Tensor B, Func<Tensor, Tensor, Tensor, Tensor> F)[]
        {
            (R(2, 2, 7, 6), R(3, 2, 3, 3), R(3), (x, w, b) => Tensor.Conv2d(x, w, b, stride: 2, padding: 1)),
            (R(1, 2, 9, 8), R(4, 2, 3, 2), R(4), (x, w, b) => Tensor.Conv2d(x, w, b, (3, 2), (0, 1), (1, 2))),
            (R(2, 4, 6, 6), R(4, 2, 3, 3), R(4), (x, w, b) => Tensor.Conv2d(x, w, b, padding: 2, dilation: 2, groups: 2)),
            (R(2, 6, 6), R(3, 2, 3, 3), R(3), (x, w, b) => Tensor.Conv2d(x, w, b, (1, 1), "same", (1, 1))),
            (R(1, 2, 6, 6), R(3, 2, 2, 2), R(3), (x, w, b) => Tensor.Conv2d(x, w, b, (1, 1), "same", (1, 1))),   // asymmetric: kernels, refusing
            (R(2, 3, 11), R(2, 3, 3), R(2), (x, w, b) => Tensor.Conv1d(x, w, b, stride: 2, padding: 1)),
        };
        foreach (var (x, w, b, f) in cases)
        {
            var v = Tensor.Randn(f(x, w, b).Shape.ToArray(), DType.Float64, gen);
            var plain = AG.Grad([(f(x, w, b) * v).Sum()], [x, w, b]);
            var graph = AG.Grad([(f(x, w, b) * v).Sum()], [x, w, b], createGraph: true);
            for (int i = 0; i < 3; i++) Close(plain[i]!.ToDoubleArray(), graph[i]!, 1e-10);
            Assert.True(graph[0]!.RequiresGrad);
        }
    }

    [Fact]
    public void GradientPenaltyThroughAConvDiscriminatorMatchesFiniteDifferences()
    {
        // WGAN-GP with a strided conv critic: the penalty differentiates ∇ₓD(x), a ConvTranspose2d of the weights
        var gen = new Generator(5);
        var x = Tensor.Randn([2, 2, 6, 6], DType.Float64, gen).RequireGrad();
        var w1 = Tensor.Randn([3, 2, 3, 3], DType.Float64, gen);
        var b1 = Tensor.Randn([3], DType.Float64, gen);
        var w2 = Tensor.Randn([1, 27], DType.Float64, gen);
        Tensor Penalty()
        {
            var h = Tensor.Conv2d(x, w1, b1, stride: 2, padding: 1).Tanh();
            var d = Tensor.Linear(h.Flatten(1), w2);
            var gx = AG.Grad([d.Sum()], [x], createGraph: true)[0]!;
            return (gx.Flatten(1).Norm(2, 1) - 1.0).Square().Mean();
        }
        var result = GradCheck.Check(() =>
        {
            using var _ = Tensor.EnableGrad();
            return Penalty();
        }, [w1, b1, w2]);
        Assert.True(result.Passed, result.ToString());
        // differentiating the weight's gradient itself is refused, naming the op
        var y = Tensor.Conv2d(x, w1.RequireGrad(), b1, stride: 2, padding: 1).Square().Sum();
        var gw = AG.Grad([y], [w1], createGraph: true)[0]!;
        Assert.StartsWith("Double backward is not supported for Conv2d:", Assert.Throws<NotSupportedException>(() => AG.Grad([gw.Sum()], [x])).Message);
    }
}
