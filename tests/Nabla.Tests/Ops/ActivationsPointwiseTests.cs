using Nabla.NN;
using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>The activations after ReLU, log1p/expm1, the step functions and Norm against closed-form values and PyTorch's edge-case gradients.</summary>
public class ActivationsPointwiseTests
{
    private static readonly double[] Xs = [-25.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 25.0];

    private static double[] Map(Func<double, double> f) => Xs.Select(f).ToArray();

    private static double[] Grad(Func<Tensor, Tensor> op, double[] x)
    {
        var t = Tensor.FromArray(x);
        t.RequiresGrad = true;
        op(t).Sum().Backward();
        return Values(t.Grad!);
    }

    [Fact]
    public void EluSeluCeluMatchTheirFormulas()
    {
        var x = Tensor.FromArray(Xs);
        Close(Map(v => v > 0 ? v : Math.Exp(v) - 1), Values(x.Elu()));
        Close(Map(v => v > 0 ? v : 0.5 * (Math.Exp(v) - 1)), Values(x.Elu(0.5)));
        const double a = 1.6732632423543772, s = 1.0507009873554805;
        Close(Map(v => s * (Math.Max(0, v) + Math.Min(0, a * (Math.Exp(v) - 1)))), Values(x.Selu()));
        Close(Map(v => Math.Max(0, v) + Math.Min(0, 2 * (Math.Exp(v / 2) - 1))), Values(x.Celu(2)));
        // PyTorch's gradient at 0 takes the negative branch: α·e⁰ = α (ELU), 1 (CELU)
        Close([1.0, 0.5], Grad(t => t.Elu(0.5), [1.0, 0.0]));
        Close([1.0], Grad(t => t.Celu(3), [0.0]));
        Assert.Equal(-1.0, Tensor.FromArray([double.NegativeInfinity]).Elu().Item());
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Celu(0));
    }

    [Fact]
    public void SoftplusIsLinearAboveTheThreshold()
    {
        var x = Tensor.FromArray(Xs);
        Close(Map(v => v > 20 ? v : Math.Log(1 + Math.Exp(v))), Values(x.Softplus()));
        Assert.Equal(Math.Log(2), Tensor.FromArray([0.0]).Softplus().Item(), 15);
        // β = 2, threshold 1: 0.5·ln(1 + e^(2x)) up to x = 0.5, then x
        Close([0.5 * Math.Log(1 + Math.Exp(0.8)), 0.5 * Math.Log(1 + Math.Exp(1.0)), 0.6], Values(Tensor.FromArray([0.4, 0.5, 0.6]).Softplus(2, 1)));
        Close([1 / (1 + Math.Exp(-0.8)), 1.0], Grad(t => t.Softplus(2, 1), [0.4, 0.6]));
        Assert.Equal(1000.0, Tensor.FromArray([1000.0]).Softplus().Item());
    }

    [Fact]
    public void MishMatchesItsFormula()
    {
        Close(Map(v => v * Math.Tanh(Math.Log(1 + Math.Exp(v)))), Values(Tensor.FromArray(Xs).Mish()));
        // d/dx at 0: tanh(ln 2) = 0.6
        Close([0.6], Grad(t => t.Mish(), [0.0]), rel: 1e-15);
        Assert.Equal(800.0, Tensor.FromArray([800.0]).Mish().Item());
    }

    [Fact]
    public void HardFunctionsAndTheirGradientsAtTheBreakpoints()
    {
        var x = Tensor.FromArray(Xs);
        Close(Map(v => Math.Clamp(v, -1, 1)), Values(x.Hardtanh()));
        Close(Map(v => Math.Clamp(v, -0.5, 2)), Values(x.Hardtanh(-0.5, 2)));
        Close(Map(v => v * Math.Clamp(v + 3, 0, 6) / 6), Values(x.Hardswish()));
        Close(Map(v => Math.Clamp(v + 3, 0, 6) / 6), Values(x.Hardsigmoid()));
        Close(Map(v => v / (1 + Math.Abs(v))), Values(x.Softsign()));
        // PyTorch's branches: hardtanh 0 at the bounds; hardswish x/3 + 1/2 on [−3, 3]; hardsigmoid 1/6 strictly inside
        Close([0, 1, 0, 0], Grad(t => t.Hardtanh(), [-1, 0.5, 1, 2]));
        Close([0, -0.5, 0.5, 1.5, 1], Grad(t => t.Hardswish(), [-4, -3, 0, 3, 4]));
        Close([0, 1 / 6.0, 0], Grad(t => t.Hardsigmoid(), [-3, 0, 3]));
        Close([1, 0.25, 1 / 9.0], Grad(t => t.Softsign(), [0, -1, 2]));
        Assert.Throws<ArgumentException>(() => x.Hardtanh(1, -1));
    }

    [Fact]
    public void Log1pAndExpm1AreAccurateForSmallArguments()
    {
        double[] x = [1e-10, -1e-10, 1e-5, 0.5, -0.5, 10];
        // series x − x²/2 + x³/3 and x + x²/2 + x³/6 where they converge fast, libm's log/exp of exact-enough values elsewhere
        Close([1e-10 - 5e-21, -1e-10 - 5e-21, 1e-5 - 5e-11 + 1e-15 / 3, Math.Log(1.5), Math.Log(0.5), Math.Log(11)], Values(Tensor.FromArray(x).Log1p()), rel: 1e-15);
        Close([1e-10 + 5e-21, -1e-10 + 5e-21, 1e-5 + 5e-11 + 1e-15 / 6, Math.Exp(0.5) - 1, Math.Exp(-0.5) - 1, Math.Exp(10) - 1], Values(Tensor.FromArray(x).Expm1()), rel: 1e-15);
        Assert.Equal(double.NegativeInfinity, Tensor.FromArray([-1.0]).Log1p().Item());
        Assert.Equal(-1.0, Tensor.FromArray([double.NegativeInfinity]).Expm1().Item());
        Assert.Equal(1e-10f, Tensor.FromArray([1e-10f]).Log1p().Item(), 1e-24);
        Close([1 / 1.5, 0.5], Grad(t => t.Log1p(), [0.5, 1.0]));
        Close([Math.Exp(0.5), 1.0], Grad(t => t.Expm1(), [0.5, 0.0]));
    }

    [Fact]
    public void StepFunctionsRoundHalfToEvenAndHaveZeroGradients()
    {
        var x = Tensor.FromArray([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 2.7, -2.7]);
        Assert.Equal([0, 2, 2, -0.0, -2, -2, 0, 3, -3], Values(x.Round()));
        Assert.Equal([0, 1, 2, -1, -2, -3, 0, 2, -3], Values(x.Floor()));
        Assert.Equal([1, 2, 3, -0.0, -1, -2, 1, 3, -2], Values(x.Ceil()));
        Assert.Equal([1, 1, 1, -1, -1, -1, 1, 1, -1], Values(x.Sign()));
        // decimals: x·10^d rounded half to even (0.125·100 = 12.5 → 12), and negative d rounds to tens, hundreds
        Close([1.23, -1.24, 0.12], Values(Tensor.FromArray([1.234, -1.2351, 0.125]).Round(2)), rel: 0, abs: 1e-15);
        Assert.Equal([1200.0, 1200.0, 1400.0], Values(Tensor.FromArray([1249.0, 1250.0, 1350.0]).Round(-2)));
        foreach (var op in new Func<Tensor, Tensor>[] { t => t.Round(), t => t.Floor(), t => t.Ceil(), t => t.Sign(), t => t.Round(1) })
            Assert.Equal([0.0, 0.0], Grad(op, [0.3, -1.7]));
    }

    [Fact]
    public void NormMatchesSumsOfPowersAndPyTorchsSubgradients()
    {
        var x = Tensor.FromArray([3.0, -4.0, 0.0, 1.0, -2.0, 2.0], [2, 3]);
        Assert.Equal(Math.Sqrt(34), x.Norm().Item(), 15);
        Assert.Equal(Math.Sqrt(34), x.Norm("fro").Item(), 15);
        Assert.Equal([7.0, 5.0], Values(x.Norm(1, 1)));
        Assert.Equal([4.0, 2.0], Values(x.Norm(double.PositiveInfinity, -1)));
        Assert.Equal([2, 1], x.Norm(2, [1], keepDim: true).Shape.ToArray());
        Close([Math.Cbrt(27 + 64), Math.Cbrt(1 + 8 + 8)], Values(x.Norm(3, 1)));
        Close([Math.Pow(Math.Sqrt(3) + 2 + 0, 2), Math.Pow(1 + 2 * Math.Sqrt(2), 2)], Values(x.Norm(0.5, 1)));
        // the gradient at a zero norm, and at a zero element, is 0; the ∞-norm's ties share the residual
        foreach (double p in new[] { 0.5, 1, 2, 3, double.PositiveInfinity })
            Assert.Equal([0.0, 0.0], Grad(t => t.Norm(p), [0.0, 0.0]));
        Close([0.6, -0.8, 0], Grad(t => t.Norm(), [3, -4, 0]));
        Close([1, -1, 0], Grad(t => t.Norm(1), [3, -4, 0]));
        Close([0.5, 0, -0.5], Grad(t => t.Norm(double.PositiveInfinity), [2, 1, -2]));
        Close([0, 0, 1], Grad(t => t.Norm(0.5), [0, 0, 2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Norm(double.NaN));
        Assert.Throws<ArgumentException>(() => x.Norm("nuc"));
    }

    [Fact]
    public void NormZeroCountsNonZerosAndMinusInfinityIsTheSmallestMagnitude()
    {
        // values and gradients as torch.linalg.vector_norm (PyTorch 1.13) gives them
        var x = Tensor.FromArray([3.0, -4.0, 0.0, 1.0, -2.0, 2.0], [2, 3]);
        Assert.Equal([2.0, 3.0], Values(x.Norm(0, 1)));
        Assert.Equal(5.0, x.Norm(0).Item());
        Assert.Equal(0.0, Tensor.Zeros(0).Norm(0).Item());
        Assert.Equal([0.0, 1.0], Values(x.Norm(double.NegativeInfinity, -1)));
        Assert.Equal(0.0, x.Norm(double.NegativeInfinity).Item());
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(0).Norm(double.NegativeInfinity));
        Assert.Equal([0.0, 0.0, 0.0], Grad(t => t.Norm(0), [3, 0, -1]));
        Close([0, 0.5, -0.5], Grad(t => t.Norm(double.NegativeInfinity), [2, 1, -1]));
        Assert.Equal([0.0, 0.0], Grad(t => t.Norm(double.NegativeInfinity), [3, 0]));
        // a negative p: (1/3 + 1/4)^−1 = 12/7, dx = |x|^(p−1)·y^(1−p)·sgn(x)
        Assert.Equal(12.0 / 7, Tensor.FromArray([3.0, 4.0]).Norm(-1).Item(), 14);
        Close([144.0 / 49 / 9, 144.0 / 49 / 16], Grad(t => t.Norm(-1), [3, 4]));
        Assert.Equal([0.0, 0.0], Grad(t => t.Norm(-1), [3, 0]));
    }

    [Fact]
    public void MaximumAndMinimumSplitTiesAndBroadcast()
    {
        var a = Tensor.FromArray([1.0, 2.0, 3.0], [3, 1]);
        var b = Tensor.FromArray([2.0, 0.5]);
        a.RequiresGrad = b.RequiresGrad = true;
        var y = Tensor.Maximum(a, b);
        Assert.Equal([2, 1, 2, 2, 3, 3], Values(y));
        y.Sum().Backward();
        // a = 2 ties b = 2: half each
        Assert.Equal([1, 1.5, 2], Values(a.Grad!));
        Assert.Equal([1.5, 0], Values(b.Grad!));
        Assert.Equal([1, 0.5, 2, 0.5, 2, 0.5], Values(Tensor.Minimum(a, b)));
    }

    [Fact]
    public void PreluUsesOneSlopePerChannel()
    {
        var x = Tensor.FromArray([-1.0, 2.0, -3.0, 4.0, -5.0, 6.0, 0.0, -8.0], [2, 2, 2]);
        var w = Tensor.FromArray([0.1, 0.5]);
        w.RequiresGrad = x.RequiresGrad = true;
        var y = x.Prelu(w);
        Close([-0.1, 2, -1.5, 4, -0.5, 6, 0, -4], Values(y));
        y.Sum().Backward();
        Close([0.1, 1, 0.5, 1, 0.1, 1, 0.5, 0.5], Values(x.Grad!));   // x = 0 takes the slope, as PyTorch
        Close([-1 - 5 + 0, -3 - 8], Values(w.Grad!));
        Assert.Throws<ArgumentException>(() => x.Prelu(Tensor.FromArray([0.1, 0.2, 0.3])));
        var m = new PReLU(2, dtype: DType.Float64);
        Assert.Equal(["weight"], m.StateDict().Keys);
        Assert.Equal([0.25, 0.25], Values(m.Weight));
        Assert.Equal("PReLU(num_parameters=2)", m.ToString());
    }

    [Fact]
    public void GluGatesTheFirstHalfWithTheSecond()
    {
        var x = Tensor.FromArray([1.0, 2.0, 0.0, -1.0, 3.0, 4.0, 2.0, 1.0], [2, 4]);
        double S(double v) => 1 / (1 + Math.Exp(-v));
        Close([1 * S(0), 2 * S(-1), 3 * S(2), 4 * S(1)], Values(x.Glu()));
        Close([1 * S(3), 2 * S(4), 0 * S(2), -1 * S(1)], Values(x.Glu(0)));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 3).Glu());
    }

    [Fact]
    public void ModulesForwardAndPrintAsPyTorch()
    {
        var x = Tensor.FromArray(Xs);
        Assert.Equal(Values(x.Elu(0.5)), Values(new ELU(0.5).Forward(x)));
        Assert.Equal(Values(x.Selu()), Values(new SELU().Forward(x)));
        Assert.Equal(Values(x.Softplus(2, 5)), Values(new Softplus(2, 5).Forward(x)));
        Assert.Equal(Values(x.Hardtanh(-2, 2)), Values(new Hardtanh(-2, 2).Forward(x)));
        Assert.Equal(Values(x.Mish()), Values(new Mish().Forward(x)));
        Assert.Equal("ELU(alpha=1.0)", new ELU().ToString());
        Assert.Equal("CELU(alpha=0.5)", new CELU(0.5).ToString());
        Assert.Equal("Softplus(beta=1.0, threshold=20.0)", new Softplus().ToString());
        Assert.Equal("Hardtanh(min_val=-1.0, max_val=1.0)", new Hardtanh().ToString());
        Assert.Equal("GLU(dim=-1)", new GLU().ToString());
        Assert.Equal("Hardswish()", new Hardswish().ToString());
    }
}
