using System.Numerics.Tensors;
using Nabla.NN;

namespace Nabla.Optim;

/// <summary>
/// RMSprop, PyTorch's update rule (<c>torch.optim.RMSprop</c>). With g ← ±∇θJ + wθ:
/// v ← αv + (1−α)g²; centered: ḡ ← αḡ + (1−α)g, a = √(v − ḡ²) + ε, else a = √v + ε;
/// momentum μ &gt; 0: b ← μb + g/a, θ ← θ − λb; else θ ← θ − λg/a.
/// Options: <c>lr</c> (1e-2), <c>alpha</c> (0.99), <c>eps</c> (1e-8), <c>weight_decay</c>, <c>momentum</c>, <c>centered</c>, <c>maximize</c>.
/// State: <c>step</c>, <c>square_avg</c>, <c>momentum_buffer</c> (momentum &gt; 0), <c>grad_avg</c> (centered).
/// </summary>
public sealed class RMSprop : Optimizer
{
    /// <summary>Creates the optimizer over one group of parameters (<see cref="NN.Parameter"/>s or leaf tensors).</summary>
    public RMSprop(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, alpha, eps, weightDecay, momentum, centered, maximize) { }

    /// <summary>Creates the optimizer over parameter groups; the arguments are the defaults for options a group lacks.</summary>
    public RMSprop(IEnumerable<ParamGroup> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(groups, new Dictionary<string, double>
        {
            ["lr"] = lr, ["alpha"] = alpha, ["eps"] = eps, ["weight_decay"] = weightDecay, ["momentum"] = momentum,
            ["centered"] = centered ? 1 : 0, ["maximize"] = maximize ? 1 : 0,
        }, "RMSprop") { }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup group)
    {
        foreach (var k in (string[])["lr", "alpha", "eps", "weight_decay", "momentum"]) CheckRange(group, k);
        CheckFlag(group, "centered");
        CheckFlag(group, "maximize");
    }

    /// <inheritdoc/>
    protected override IEnumerable<string> StateKeys(ParamGroup group)
    {
        yield return "step";
        yield return "square_avg";
        if (group["momentum"] > 0) yield return "momentum_buffer";
        if (group["centered"] != 0) yield return "grad_avg";
    }

    /// <inheritdoc/>
    protected override void Update<T>(ParamGroup group, int index, Tensor parameter, Span<T> theta, ReadOnlySpan<T> grad)
    {
        double lr = group["lr"], alpha = group["alpha"], eps = group["eps"], mu = group["momentum"];
        var g = Scratch<T>(theta.Length, 0);
        var a = Scratch<T>(theta.Length, 1);
        OptimMath.EffectiveGrad(grad, theta, group["weight_decay"], group["maximize"] != 0, g);
        IncrementStep(index);
        T alphaT = T.CreateTruncating(alpha), oneMinus = T.CreateTruncating(1 - alpha);
        // v ← αv + (1−α)g²
        var v = GetOrCreateState(index, "square_avg", parameter).Span<T>();
        TensorPrimitives.Multiply(v, alphaT, v);
        TensorPrimitives.Multiply(g, g, a);
        TensorPrimitives.MultiplyAdd(a, oneMinus, v, v);
        if (group["centered"] != 0)
        {
            // ḡ ← αḡ + (1−α)g;  a = √(v − ḡ²)
            var gAvg = GetOrCreateState(index, "grad_avg", parameter).Span<T>();
            TensorPrimitives.Multiply(gAvg, alphaT, gAvg);
            TensorPrimitives.MultiplyAdd(g, oneMinus, gAvg, gAvg);
            TensorPrimitives.Multiply(gAvg, gAvg, a);
            TensorPrimitives.Subtract(v, a, a);
            TensorPrimitives.Sqrt(a, a);
        }
        else TensorPrimitives.Sqrt(v, a);
        TensorPrimitives.Add(a, T.CreateTruncating(eps), a);
        TensorPrimitives.Divide(g, a, a);
        if (mu > 0)
        {
            // b ← μb + g/a;  θ ← θ − λb
            var b = GetOrCreateState(index, "momentum_buffer", parameter).Span<T>();
            TensorPrimitives.MultiplyAdd(b, T.CreateTruncating(mu), a, b);
            TensorPrimitives.MultiplyAdd(b, T.CreateTruncating(-lr), theta, theta);
        }
        else TensorPrimitives.MultiplyAdd(a, T.CreateTruncating(-lr), theta, theta);
    }
}
