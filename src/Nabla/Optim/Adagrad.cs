using System.Numerics.Tensors;
using Nabla.NN;

namespace Nabla.Optim;

/// <summary>
/// Adagrad, PyTorch's update rule (<c>torch.optim.Adagrad</c>). At step t with g ← ±∇θJ + wθ:
/// λₜ = λ / (1 + (t−1)·lr_decay); s ← s + g²; θ ← θ − λₜ·g / (√s + ε).
/// Options: <c>lr</c> (1e-2), <c>lr_decay</c>, <c>weight_decay</c>, <c>initial_accumulator_value</c>, <c>eps</c> (1e-10), <c>maximize</c>.
/// State (created with the optimizer, as PyTorch): <c>step</c> = 0, <c>sum</c> = initial_accumulator_value.
/// </summary>
public sealed class Adagrad : Optimizer
{
    /// <summary>Creates the optimizer over one group of parameters (<see cref="NN.Parameter"/>s or leaf tensors).</summary>
    public Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize) { }

    /// <summary>Creates the optimizer over parameter groups; the arguments are the defaults for options a group lacks.</summary>
    public Adagrad(IEnumerable<ParamGroup> groups, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : base(groups, new Dictionary<string, double>
        {
            ["lr"] = lr, ["lr_decay"] = lrDecay, ["eps"] = eps, ["weight_decay"] = weightDecay,
            ["initial_accumulator_value"] = initialAccumulatorValue, ["maximize"] = maximize ? 1 : 0,
        }, "Adagrad") { }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup group)
    {
        foreach (var k in (string[])["lr", "lr_decay", "eps", "weight_decay", "initial_accumulator_value"]) CheckRange(group, k);
        CheckFlag(group, "maximize");
    }

    /// <inheritdoc/>
    protected override IEnumerable<string> StateKeys(ParamGroup group) => ["step", "sum"];

    /// <inheritdoc/>
    protected override bool AllowsEmptyState => false;

    /// <inheritdoc/>
    protected override void InitState(ParamGroup group, int index, Tensor parameter)
    {
        MutableState(index)["step"] = Tensor.Scalar(0, DType.Float64);
        GetOrCreateState(index, "sum", parameter, group["initial_accumulator_value"]);
    }

    /// <inheritdoc/>
    protected override void Update<T>(ParamGroup group, int index, Tensor parameter, Span<T> theta, ReadOnlySpan<T> grad)
    {
        double step = IncrementStep(index);
        var g = Scratch<T>(theta.Length, 0);
        var a = Scratch<T>(theta.Length, 1);
        OptimMath.EffectiveGrad(grad, theta, group["weight_decay"], group["maximize"] != 0, g);
        double clr = group["lr"] / (1 + (step - 1) * group["lr_decay"]);
        // s ← s + g²;  θ ← θ − λₜ·g/(√s + ε)
        var s = GetOrCreateState(index, "sum", parameter).Span<T>();
        TensorPrimitives.MultiplyAdd(g, g, s, s);
        TensorPrimitives.Sqrt(s, a);
        TensorPrimitives.Add(a, T.CreateTruncating(group["eps"]), a);
        TensorPrimitives.Divide(g, a, a);
        TensorPrimitives.MultiplyAdd(a, T.CreateTruncating(-clr), theta, theta);
    }
}
