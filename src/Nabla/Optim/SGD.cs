using System.Numerics.Tensors;
using Nabla.NN;

namespace Nabla.Optim;

/// <summary>
/// Stochastic gradient descent, PyTorch's update rule. With the defaults it is the text's θ ← θ − λ∇θJ exactly.
/// With weight decay w, momentum μ, dampening τ: g ← ∇θJ + wθ; b ← μb + (1−τ)g (b = g at the first step);
/// g ← g + μb if nesterov else b; θ ← θ − λg.
/// </summary>
public sealed class SGD : Optimizer
{
    private readonly Tensor?[] _momentumBuffers;
    private double _lr;

    /// <summary>Creates the optimizer.</summary>
    public SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, "SGD")
    {
        LearningRate = lr;
        Momentum = NonNegative("SGD", "momentum", momentum);
        Dampening = NonNegative("SGD", "dampening", dampening);
        WeightDecay = NonNegative("SGD", "weight_decay", weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("SGD: nesterov momentum requires a momentum > 0 and zero dampening.");
        Nesterov = nesterov;
        _momentumBuffers = new Tensor?[Params.Count];
    }

    /// <inheritdoc/>
    public override double LearningRate { get => _lr; set => _lr = NonNegative("SGD", "lr", value); }

    /// <summary>Momentum factor μ.</summary>
    public double Momentum { get; }

    /// <summary>Dampening τ for momentum.</summary>
    public double Dampening { get; }

    /// <summary>L2 penalty w.</summary>
    public double WeightDecay { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <summary>The momentum buffer of parameter i (null before its first step or without momentum).</summary>
    public Tensor? MomentumBuffer(int i) => _momentumBuffers[i];

    /// <inheritdoc/>
    public override void Step()
    {
        for (int i = 0; i < Params.Count; i++)
        {
            var p = Params[i];
            if (p.Grad is null) continue;
            if (p.DType == DType.Float32) Update<float>(i, p, p.Grad.Contiguous());
            else Update<double>(i, p, p.Grad.Contiguous());
        }
    }

    private void Update<T>(int i, Parameter p, Tensor grad) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        var theta = p.Span<T>();
        ReadOnlySpan<T> g = grad.Span<T>();
        T lr = T.CreateTruncating(_lr);
        if (WeightDecay == 0 && Momentum == 0)
        {
            // θ ← θ − λ∇θJ
            TensorPrimitives.MultiplyAdd(g, -lr, theta, theta);
            return;
        }
        var d = g.ToArray().AsSpan();
        if (WeightDecay != 0) TensorPrimitives.MultiplyAdd(theta, T.CreateTruncating(WeightDecay), d, d);
        if (Momentum != 0)
        {
            T mu = T.CreateTruncating(Momentum);
            if (_momentumBuffers[i] is not { } buf)
            {
                buf = Tensor.Zeros(p.Shape.ToArray(), p.DType);
                d.CopyTo(buf.Span<T>());
                _momentumBuffers[i] = buf;
            }
            else
            {
                var b = buf.Span<T>();
                TensorPrimitives.Multiply(b, mu, b);
                TensorPrimitives.MultiplyAdd(d, T.One - T.CreateTruncating(Dampening), b, b);
            }
            if (Nesterov) TensorPrimitives.MultiplyAdd(buf.Span<T>(), mu, d, d);
            else buf.Span<T>().CopyTo(d);
        }
        TensorPrimitives.MultiplyAdd(d, -lr, theta, theta);
    }
}
