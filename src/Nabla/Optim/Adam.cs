using System.Numerics;
using System.Numerics.Tensors;
using Nabla.NN;

namespace Nabla.Optim;

/// <summary>
/// Adam, PyTorch's update rule (<c>torch.optim.Adam</c>, 1.13 single-tensor path). At step t with g ← ±∇θJ + wθ:
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; (amsgrad: v̂ ← max(v̂, v), used in place of v);
/// θ ← θ − (λ/(1−β₁ᵗ))·m / (√v / √(1−β₂ᵗ) + ε).
/// Options: <c>lr</c> (1e-3), <c>betas</c> ((0.9, 0.999)), <c>eps</c> (1e-8), <c>weight_decay</c> (0),
/// <c>amsgrad</c>, <c>maximize</c>. State: <c>step</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>max_exp_avg_sq</c> (amsgrad).
/// </summary>
public sealed class Adam : Optimizer
{
    /// <summary>Creates the optimizer over one group of parameters (<see cref="NN.Parameter"/>s or leaf tensors); <paramref name="betas"/> defaults to (0.9, 0.999).</summary>
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, betas, eps, weightDecay, amsgrad, maximize) { }

    /// <summary>Creates the optimizer over parameter groups; the arguments are the defaults for options a group lacks.</summary>
    public Adam(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : base(groups, AdamCore.Defaults(lr, betas ?? (0.9, 0.999), eps, weightDecay, amsgrad, maximize), "Adam") { }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup group) => AdamCore.Validate(this, group);

    /// <inheritdoc/>
    protected override IEnumerable<string> StateKeys(ParamGroup group) => AdamCore.StateKeys(group);

    /// <inheritdoc/>
    protected override void Update<T>(ParamGroup group, int index, Tensor parameter, Span<T> theta, ReadOnlySpan<T> grad) =>
        AdamCore.Step(this, group, index, parameter, theta, grad, decoupled: false);
}

/// <summary>
/// AdamW, PyTorch's update rule (<c>torch.optim.AdamW</c>): Adam with decoupled weight decay,
/// θ ← θ(1 − λw) first, then Adam's step on g ← ±∇θJ (no L2 term). Options as <see cref="Adam"/>, with
/// <c>weight_decay</c> defaulting to 1e-2. State: <c>step</c>, <c>exp_avg</c>, <c>exp_avg_sq</c>, <c>max_exp_avg_sq</c> (amsgrad).
/// </summary>
public sealed class AdamW : Optimizer
{
    /// <summary>Creates the optimizer over one group of parameters (<see cref="NN.Parameter"/>s or leaf tensors); <paramref name="betas"/> defaults to (0.9, 0.999).</summary>
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, betas, eps, weightDecay, amsgrad, maximize) { }

    /// <summary>Creates the optimizer over parameter groups; the arguments are the defaults for options a group lacks.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, AdamCore.Defaults(lr, betas ?? (0.9, 0.999), eps, weightDecay, amsgrad, maximize), "AdamW") { }

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup group) => AdamCore.Validate(this, group);

    /// <inheritdoc/>
    protected override IEnumerable<string> StateKeys(ParamGroup group) => AdamCore.StateKeys(group);

    /// <inheritdoc/>
    protected override void Update<T>(ParamGroup group, int index, Tensor parameter, Span<T> theta, ReadOnlySpan<T> grad) =>
        AdamCore.Step(this, group, index, parameter, theta, grad, decoupled: true);   // θ ← θ(1 − λw) first, decoupled from the gradient
}

/// <summary>The moment updates Adam and AdamW share.</summary>
internal static class AdamCore
{
    public static Dictionary<string, double> Defaults(double lr, (double Beta1, double Beta2) betas, double eps, double weightDecay, bool amsgrad, bool maximize) => new()
    {
        ["lr"] = lr, ["betas.0"] = betas.Beta1, ["betas.1"] = betas.Beta2, ["eps"] = eps, ["weight_decay"] = weightDecay,
        ["amsgrad"] = amsgrad ? 1 : 0, ["maximize"] = maximize ? 1 : 0,
    };

    public static void Validate(Optimizer o, ParamGroup group)
    {
        o.CheckRange(group, "lr");
        o.CheckRange(group, "betas.0", below: 1);
        o.CheckRange(group, "betas.1", below: 1);
        o.CheckRange(group, "eps");
        o.CheckRange(group, "weight_decay");
        o.CheckFlag(group, "amsgrad");
        o.CheckFlag(group, "maximize");
    }

    public static IEnumerable<string> StateKeys(ParamGroup group) =>
        group["amsgrad"] != 0 ? ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["step", "exp_avg", "exp_avg_sq"];

    /// <summary>One Adam (or AdamW, <paramref name="decoupled"/>) step on θ from the gradient, in one fused pass.</summary>
    public static void Step<T>(Optimizer o, ParamGroup group, int index, Tensor p, Span<T> theta, ReadOnlySpan<T> grad, bool decoupled)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double step = o.IncrementStep(index);
        var m = o.GetOrCreateState(index, "exp_avg", p).Span<T>();
        var v = o.GetOrCreateState(index, "exp_avg_sq", p).Span<T>();
        var vmax = group["amsgrad"] != 0 ? o.GetOrCreateState(index, "max_exp_avg_sq", p).Span<T>() : default;
        FusedUpdate.AdamStep(Options(group, step, decoupled), grad, theta, m, v, vmax);
    }

    /// <summary>The group's options at step <paramref name="step"/> (its bias corrections).</summary>
    public static FusedUpdate.Adam Options(ParamGroup group, double step, bool decoupled)
    {
        double beta1 = group["betas.0"], beta2 = group["betas.1"], lr = group["lr"];
        return new(beta1, beta2, group["eps"], group["weight_decay"], decoupled, lr, group["maximize"] != 0,
            Math.Sqrt(1 - Math.Pow(beta2, step)), lr / (1 - Math.Pow(beta1, step)));
    }

    /// <summary>
    /// The reference the fused step is tested against: the multi-pass update (TensorPrimitives, one pass per formula)
    /// on θ with the effective gradient d (tmp: scratch of θ's length).
    /// </summary>
    internal static void ReferenceUpdate<T>(Optimizer o, ParamGroup group, int index, Tensor p, Span<T> theta, ReadOnlySpan<T> d, Span<T> tmp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double step = o.IncrementStep(index);
        double beta1 = group["betas.0"], beta2 = group["betas.1"], lr = group["lr"], eps = group["eps"];
        var m = o.GetOrCreateState(index, "exp_avg", p).Span<T>();
        var v = o.GetOrCreateState(index, "exp_avg_sq", p).Span<T>();
        // m ← β₁m + (1−β₁)g
        TensorPrimitives.Multiply(m, T.CreateTruncating(beta1), m);
        TensorPrimitives.MultiplyAdd(d, T.CreateTruncating(1 - beta1), m, m);
        // v ← β₂v + (1−β₂)g²
        TensorPrimitives.Multiply(v, T.CreateTruncating(beta2), v);
        TensorPrimitives.Multiply(d, d, tmp);
        TensorPrimitives.MultiplyAdd(tmp, T.CreateTruncating(1 - beta2), v, v);
        double bias1 = 1 - Math.Pow(beta1, step), bias2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
        double stepSize = lr / bias1;
        Span<T> second = v;
        if (group["amsgrad"] != 0)
        {
            var vmax = o.GetOrCreateState(index, "max_exp_avg_sq", p).Span<T>();
            TensorPrimitives.Max(vmax, v, vmax);
            second = vmax;
        }
        // denom = √v / √(1−β₂ᵗ) + ε;  θ ← θ − (λ/(1−β₁ᵗ))·m/denom
        TensorPrimitives.Sqrt(second, tmp);
        TensorPrimitives.Divide(tmp, T.CreateTruncating(bias2Sqrt), tmp);
        TensorPrimitives.Add(tmp, T.CreateTruncating(eps), tmp);
        TensorPrimitives.Divide(m, tmp, tmp);
        TensorPrimitives.MultiplyAdd(tmp, T.CreateTruncating(-stepSize), theta, theta);
    }
}
