using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Activation functions: the text's ReLU and the ones users reach for next.
public partial class Tensor
{
    // dx = g·(x > 0)   (the gradient at 0 is 0, as PyTorch)
    /// <summary>max(0, x) element-wise.</summary>
    public Tensor Relu()
    {
        var y = UnaryOp<ReluOperator<float>, ReluOperator<double>>();
        return GradMode.IsEnabled ? RecordRelu(y) : Engine.Unrecorded(y, "ReluBackward");
    }

    // the closure in its own method, so a no-grad Relu allocates only its output
    private Tensor RecordRelu(Tensor y) =>
        Engine.Record(y, "ReluBackward", [this], g => [GradMode.IsEnabled ? g * y.Gt(0) : ReluBackward(g, y)]);

    // masks g by y > 0 in one pass (y > 0 exactly where x > 0)
    private static Tensor ReluBackward(Tensor g, Tensor y)
    {
        var gc = g.Contiguous();
        var dx = Uninitialized(g.DType, g._shape.ToArray());
        if (g.DType == DType.Float32) ReluKernels.Mask(gc.Span<float>(), y.Span<float>(), dx.Span<float>());
        else ReluKernels.Mask(gc.Span<double>(), y.Span<double>(), dx.Span<double>());
        return dx;
    }

    // dx = g·(x > 0 ? 1 : slope)
    /// <summary>x for x &gt; 0, slope·x otherwise.</summary>
    public Tensor LeakyRelu(double negativeSlope = 0.01)
    {
        var x = this;
        Tensor y;
        using (NoGrad())
        {
            var pos = Gt(0).To(DType);
            y = x.Detach() * (pos + (1.0 - pos) * negativeSlope);
        }
        return Engine.Record(y, "LeakyReluBackward", [this], g => { var pos = x.Detach().Gt(0).To(g.DType); return [g * (pos + (1.0 - pos) * negativeSlope)]; });
    }

    // y = x·Φ(x); dx = g·(Φ(x) + x·φ(x))
    /// <summary>Gaussian error linear unit x·Φ(x) (exact, with erf); approximate "tanh" uses PyTorch's tanh form.</summary>
    public Tensor Gelu(string approximate = "none")
    {
        var x = this;
        if (approximate == "tanh")
        {
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), composed from differentiable primitives
            const double c = 0.7978845608028654;
            return 0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).Tanh());
        }
        if (approximate != "none") throw new ArgumentException($"Gelu: approximate must be \"none\" or \"tanh\", got \"{approximate}\".");
        Tensor y, cdf;
        using (NoGrad())
        {
            cdf = 0.5 * (1.0 + (x.Detach() * (1 / Math.Sqrt(2))).UnaryOp<ErfOperator<float>, ErfOperator<double>>());
            y = x.Detach() * cdf;
        }
        return Engine.Record(y, "GeluBackward", [this], g =>
        {
            // under createGraph the saved Φ(x) is recomputed as graph ops, so it can be differentiated
            var phi = GradMode.IsEnabled ? 0.5 * (1.0 + (x * (1 / Math.Sqrt(2))).Erf()) : cdf;
            var pdf = (x * x * -0.5).Exp() * (1 / Math.Sqrt(2 * Math.PI));
            return [g * (phi + x * pdf)];
        });
    }

    /// <summary>The error function element-wise.</summary>
    public Tensor Erf()
    {
        var x = this;
        var y = UnaryOp<ErfOperator<float>, ErfOperator<double>>();
        // d erf(x)/dx = 2/√π · e^(−x²)
        return Engine.Record(y, "ErfBackward", [this], g => [g * (x * x * -1.0).Exp() * (2 / Math.Sqrt(Math.PI))]);
    }

    // y = x·σ(x); dx = g·σ(x)·(1 + x·(1 − σ(x)))
    /// <summary>Sigmoid linear unit x·σ(x) (also called swish).</summary>
    public Tensor Silu()
    {
        var x = this;
        Tensor y, s;
        using (NoGrad())
        {
            s = x.Detach().Sigmoid();
            y = x.Detach() * s;
        }
        return Engine.Record(y, "SiluBackward", [this], g =>
        {
            var sg = GradMode.IsEnabled ? x.Sigmoid() : s;
            return [g * sg * (1.0 + x * (1.0 - sg))];
        });
    }

    // y = e^(x − max) / Σ e^(x − max); dx = y·(g − Σ g·y)
    /// <summary>Softmax along <paramref name="dim"/>. Shape: unchanged.</summary>
    public Tensor Softmax(int dim)
    {
        int d = ShapeUtil.Dim("Softmax", dim, Rank);
        if (d == Rank - 1 && Numel > 0) return SoftmaxRows(log: false);
        Tensor y;
        using (NoGrad())
        {
            var x = Detach();
            var e = (x - x.Max(d, keepDim: true).Values).Exp();
            y = e / e.Sum([d], keepDim: true);
        }
        return Engine.Record(y, "SoftmaxBackward", [this], g => [y * (g - (g * y).Sum([d], keepDim: true))]);
    }

    // y = x − max − log Σ e^(x − max); dx = g − softmax(x)·Σ g
    /// <summary>Log of the softmax along <paramref name="dim"/>, computed stably. Shape: unchanged.</summary>
    public Tensor LogSoftmax(int dim)
    {
        int d = ShapeUtil.Dim("LogSoftmax", dim, Rank);
        if (d == Rank - 1 && Numel > 0) return SoftmaxRows(log: true);
        Tensor y;
        using (NoGrad())
        {
            var x = Detach();
            var shifted = x - x.Max(d, keepDim: true).Values;
            y = shifted - shifted.Exp().Sum([d], keepDim: true).Log();
        }
        return Engine.Record(y, "LogSoftmaxBackward", [this], g => [g - y.Exp() * g.Sum([d], keepDim: true)]);
    }

    // over the last dim: one fused kernel pass per row (Kernels/Simd/Softmax.cs), forward and backward
    private Tensor SoftmaxRows(bool log)
    {
        int n = _shape[^1], rows = Numel / n;
        var x = Detach().Contiguous();
        var y = Uninitialized(DType, _shape.ToArray());
        string op = log ? "LogSoftmax" : "Softmax";
        DTypeDispatch.Run(op, DType, new SoftmaxForward(x, rows, n, y, log));
        return Engine.Record(y, op + "Backward", [this], g =>
        {
            // under createGraph the same formulas as graph ops (through the output y), so they can be differentiated
            if (GradMode.IsEnabled) return [log ? g - y.Exp() * g.Sum([-1], keepDim: true) : y * (g - (g * y).Sum([-1], keepDim: true))];
            var gc = g.Contiguous();
            var dx = Uninitialized(g.DType, _shape.ToArray());
            DTypeDispatch.Run(op, dx.DType, new SoftmaxBackward(y, gc, rows, n, dx, log));
            return [dx];
        });
    }

    private readonly struct SoftmaxForward(Tensor x, int rows, int n, Tensor y, bool log) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Kernels.Softmax.Forward(Mem<T>(x), rows, n, Mem<T>(y), log);
    }

    private readonly struct SoftmaxBackward(Tensor y, Tensor g, int rows, int n, Tensor dx, bool log) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Kernels.Softmax.Backward(Mem<T>(y), Mem<T>(g), rows, n, Mem<T>(dx), log);
    }
}
