using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// The element-wise activations after ReLU (torch.nn.functional's names and defaults). Each is one scalar formula
// pair in Kernels/Simd/Pointwise.cs: the forward, and the backward from x, y and the residual g.
public partial class Tensor
{
    private const double SeluAlpha = 1.6732632423543772848170429916717, SeluScale = 1.0507009873554804934193349852946;

    /// <summary>Runs the element-wise <paramref name="op"/> and records its backward (saves x and y).</summary>
    internal Tensor Pointwise<TOp>(string name, TOp op) where TOp : struct, IPointwise
    {
        var x = Detach().Contiguous();
        var y = PointwiseForwardOf(name, op, x);
        return Engine.Record(y, name + "Backward", [this], g => [PointwiseBackwardOf(name, op, x, y, g.Contiguous())], firstOrderOnly: true);
    }

    // The same with the backward also written as graph ops (x and y attached, g the residual), used under createGraph
    // so the gradient can be differentiated again; masks are constants (comparisons of the values).
    private Tensor Pointwise<TOp>(string name, TOp op, Func<Tensor, Tensor, Tensor, Tensor> graphBackward) where TOp : struct, IPointwise
    {
        var input = this;
        var x = Detach().Contiguous();
        var y = PointwiseForwardOf(name, op, x);
        return Engine.Record(y, name + "Backward", [this], g => [GradMode.IsEnabled
            ? graphBackward(input, y, g)
            : PointwiseBackwardOf(name, op, x, y, g.Contiguous())]);
    }

    // ELU, SELU, CELU: g·scale where x > 0, else g·scale·α·s·e^(s·x) (the exponent taken of 0 on the other branch)
    private static Tensor EluGraph(Tensor x, Tensor g, double alpha, double scale, double inputScale)
    {
        var pos = x.Detach().Gt(0);
        return Where(pos, g * scale, g * (scale * alpha * inputScale) * (Where(pos, 0.0, x) * inputScale).Exp());
    }

    // the kernels alone, outside the graph: x, y and g contiguous and of one shape
    private static Tensor PointwiseForwardOf<TOp>(string name, TOp op, Tensor x) where TOp : struct, IPointwise
    {
        var y = Uninitialized(x.DType, x._shape.ToArray());
        DTypeDispatch.Run(name, x.DType, new PointwiseForward<TOp>(op, x, y));
        return y;
    }

    private static Tensor PointwiseBackwardOf<TOp>(string name, TOp op, Tensor x, Tensor y, Tensor g) where TOp : struct, IPointwise
    {
        var dx = Uninitialized(g.DType, g._shape.ToArray());
        DTypeDispatch.Run(name, g.DType, new PointwiseBackward<TOp>(op, x, y, g, dx));
        return dx;
    }

    /// <summary>x for x &gt; 0, α·(eˣ − 1) otherwise (torch.nn.functional.elu). Shape: unchanged.</summary>
    public Tensor Elu(double alpha = 1.0) => Pointwise("Elu", new EluOp(alpha, 1, 1), (x, _, g) => EluGraph(x, g, alpha, 1, 1));

    /// <summary>scale·elu(x, α) with PyTorch's constants α ≈ 1.6733, scale ≈ 1.0507 (self-normalising). Shape: unchanged.</summary>
    public Tensor Selu() => Pointwise("Selu", new EluOp(SeluAlpha, SeluScale, 1), (x, _, g) => EluGraph(x, g, SeluAlpha, SeluScale, 1));

    /// <summary>max(0, x) + min(0, α·(e^(x/α) − 1)) (torch.nn.functional.celu); α must not be 0. Shape: unchanged.</summary>
    public Tensor Celu(double alpha = 1.0)
    {
        if (alpha == 0) throw new ArgumentOutOfRangeException(nameof(alpha), "Celu: alpha must not be 0 (the formula divides by it).");
        return Pointwise("Celu", new EluOp(alpha, 1, 1 / alpha), (x, _, g) => EluGraph(x, g, alpha, 1, 1 / alpha));
    }

    /// <summary>
    /// log(1 + e^(βx))/β, and x itself where βx &gt; <paramref name="threshold"/> (torch.nn.functional.softplus).
    /// Shape: unchanged.
    /// </summary>
    public Tensor Softplus(double beta = 1.0, double threshold = 20.0)
    {
        if (beta == 0 || double.IsNaN(beta)) throw new ArgumentOutOfRangeException(nameof(beta), $"Softplus: beta must be non-zero, got {beta}.");
        return Pointwise("Softplus", new SoftplusOp(beta, threshold), (x, _, g) =>
        {
            var linear = (x.Detach() * beta).Gt(threshold);
            return Where(linear, g, g * (Where(linear, 0.0, x) * beta).Sigmoid());
        });
    }

    /// <summary>x·tanh(softplus(x)) (torch.nn.functional.mish). Shape: unchanged.</summary>
    public Tensor Mish() => Pointwise("Mish", new MishOp(), (x, _, g) =>
        {
            var t = x.Softplus().Tanh();
            return g * (t + x * x.Sigmoid() * (1.0 - t * t));
        });

    /// <summary>
    /// Clamps to [<paramref name="minVal"/>, <paramref name="maxVal"/>] (torch.nn.functional.hardtanh); unlike
    /// <see cref="Clamp"/>, the gradient is 0 at the bounds themselves, as PyTorch's. Shape: unchanged.
    /// </summary>
    public Tensor Hardtanh(double minVal = -1.0, double maxVal = 1.0)
    {
        if (!(minVal <= maxVal)) throw new ArgumentException($"Hardtanh: min_val ({minVal}) must not be greater than max_val ({maxVal}).");
        return Pointwise("Hardtanh", new HardtanhOp(minVal, maxVal), (x, _, g) => g * x.Detach().Gt(minVal) * x.Detach().Lt(maxVal));
    }

    /// <summary>x·relu6(x + 3)/6 (torch.nn.functional.hardswish). Shape: unchanged.</summary>
    public Tensor Hardswish() => Pointwise("Hardswish", new HardswishOp(), (x, _, g) => Where(x.Detach().Lt(-3), 0.0, Where(x.Detach().Le(3), g * (x / 3.0 + 0.5), g)));

    /// <summary>relu6(x + 3)/6 (torch.nn.functional.hardsigmoid). Shape: unchanged.</summary>
    public Tensor Hardsigmoid() => Pointwise("Hardsigmoid", new HardsigmoidOp(), (x, _, g) => g * x.Detach().Gt(-3) * x.Detach().Lt(3) / 6.0);

    /// <summary>x/(1 + |x|) (torch.nn.functional.softsign). Shape: unchanged.</summary>
    public Tensor Softsign() => Pointwise("Softsign", new SoftsignOp(), (x, _, g) =>
        {
            var d = 1.0 + x.Abs();
            return g / (d * d);
        });

    /// <summary>log(1 + x), accurate for small x (torch.log1p). Shape: unchanged.</summary>
    public Tensor Log1p() => Pointwise("Log1p", new Log1pOp(), (x, _, g) => g / (1.0 + x));

    /// <summary>eˣ − 1, accurate for small x (torch.expm1). Shape: unchanged.</summary>
    public Tensor Expm1() => Pointwise("Expm1", new Expm1Op(), (_, y, g) => g * (y + 1.0));

    // a·σ(b) with (a, b) the two halves of dim: composed, so the backward is Narrow's, Sigmoid's and Mul's
    /// <summary>Gated linear unit a·σ(b), a and b the first and second half of <paramref name="dim"/> (torch.nn.functional.glu). Shape: dim halved.</summary>
    public Tensor Glu(int dim = -1)
    {
        int d = ShapeUtil.Dim("Glu", dim, Rank);
        if (_shape[d] % 2 != 0) throw new ArgumentException($"Glu: halving dimension must be even, but dimension {d} of shape {ShapeUtil.Format(_shape)} is size {_shape[d]}.");
        int half = _shape[d] / 2;
        return Narrow(d, 0, half) * Narrow(d, half, half).Sigmoid();
    }

    // y = x > 0 ? x : w[c]·x;  dx = g·(x > 0 ? 1 : w[c]);  dw[c] = Σ_{x ≤ 0} g·x
    /// <summary>
    /// x for x &gt; 0, w·x otherwise, with a learned slope per channel (dim 1) or one shared slope
    /// (torch.nn.functional.prelu). Shape: input (N, C, *) or any shape for a single slope, weight (C) or (1) → unchanged.
    /// </summary>
    public Tensor Prelu(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        CheckSameDType("Prelu", this, weight);
        int channels = weight.Numel;
        if (weight.Rank > 1) throw new ArgumentException($"Prelu: expected a 1-D weight, got {ShapeUtil.Format(weight._shape)}.");
        if (channels != 1 && (Rank < 2 || _shape[1] != channels))
            throw new ArgumentException($"Prelu: mismatch of parameter numbers and input channel size: the weight has {channels} but the input of shape {ShapeUtil.Format(_shape)} has {(Rank < 2 ? "no channel dim" : $"{_shape[1]} channels (dim 1)")}.");
        int inner = 1;
        for (int i = 2; i < Rank; i++) inner *= _shape[i];
        var x = Detach().Contiguous();
        var w = weight.Detach().Contiguous();
        var y = Uninitialized(DType, _shape.ToArray());
        DTypeDispatch.Run("Prelu", DType, new PreluForward(x, w, channels, inner, y));
        var input = this;
        return Engine.Record(y, "PreluBackward", [this, weight], g =>
        {
            var dx = input.RequiresGrad ? Uninitialized(g.DType, input._shape.ToArray()) : null;
            var dw = Uninitialized(g.DType, weight._shape.ToArray());
            DTypeDispatch.Run("Prelu", g.DType, new PreluBackward(x, w, g.Contiguous(), channels, inner, dx, dw));
            return [dx, weight.RequiresGrad ? dw : null];
        }, firstOrderOnly: true);
    }

    private readonly struct PointwiseForward<TOp>(TOp op, Tensor x, Tensor y) : IFloatOp where TOp : struct, IPointwise
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Kernels.Pointwise.Forward<T, TOp>(op, x.Span<T>(), y.Span<T>());
    }

    private readonly struct PointwiseBackward<TOp>(TOp op, Tensor x, Tensor y, Tensor g, Tensor dx) : IFloatOp where TOp : struct, IPointwise
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Kernels.Pointwise.Backward<T, TOp>(op, x.Span<T>(), y.Span<T>(), g.Span<T>(), dx.Span<T>());
    }

    private readonly struct PreluForward(Tensor x, Tensor w, int channels, int inner, Tensor y) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => PreluKernels.Forward(x.Span<T>(), w.Span<T>(), channels, inner, y.Span<T>());
    }

    private readonly struct PreluBackward(Tensor x, Tensor w, Tensor g, int channels, int inner, Tensor? dx, Tensor dw) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            PreluKernels.Backward(x.Span<T>(), w.Span<T>(), g.Span<T>(), channels, inner, dx is null ? default : dx.Span<T>(), dw.Span<T>());
    }
}
