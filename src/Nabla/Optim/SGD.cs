using System.Numerics;
using System.Numerics.Tensors;
using Nabla.NN;

namespace Nabla.Optim;

/// <summary>
/// Stochastic gradient descent, PyTorch's update rule (<c>torch.optim.SGD</c>). With the defaults it is the text's
/// θ ← θ − λ∇θJ exactly. With weight decay w, momentum μ, dampening τ:
/// g ← ±∇θJ + wθ (− when maximize); b ← μb + (1−τ)g (b = g at the first step); g ← g + μb if nesterov else b; θ ← θ − λg.
/// Options: <c>lr</c>, <c>momentum</c>, <c>dampening</c>, <c>weight_decay</c>, <c>nesterov</c>, <c>maximize</c>.
/// State: <c>momentum_buffer</c> (only when momentum ≠ 0).
/// </summary>
public sealed class SGD : Optimizer
{
    /// <summary>Creates the optimizer over one group of parameters (<see cref="NN.Parameter"/>s or leaf tensors).</summary>
    public SGD(IEnumerable<Tensor> parameters, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this([new ParamGroup(parameters)], lr, momentum, dampening, weightDecay, nesterov, maximize) { }

    /// <summary>Creates the optimizer over parameter groups; the arguments are the defaults for options a group lacks.</summary>
    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, new Dictionary<string, double>
        {
            ["lr"] = lr, ["momentum"] = momentum, ["dampening"] = dampening, ["weight_decay"] = weightDecay,
            ["nesterov"] = nesterov ? 1 : 0, ["maximize"] = maximize ? 1 : 0,
        }, "SGD") { }

    /// <summary>The momentum buffer of parameter i (null before its first step or without momentum).</summary>
    public Tensor? MomentumBuffer(int i) => State(i).GetValueOrDefault("momentum_buffer");

    /// <inheritdoc/>
    protected override void ValidateGroup(ParamGroup group)
    {
        CheckRange(group, "lr");
        CheckRange(group, "momentum");
        CheckRange(group, "dampening");
        CheckRange(group, "weight_decay");
        CheckFlag(group, "nesterov");
        CheckFlag(group, "maximize");
        if (group["nesterov"] == 1 && (group["momentum"] <= 0 || group["dampening"] != 0))
            throw new ArgumentException("SGD: nesterov momentum requires a momentum > 0 and zero dampening.");
    }

    /// <inheritdoc/>
    protected override IEnumerable<string> StateKeys(ParamGroup group) => group["momentum"] != 0 ? ["momentum_buffer"] : [];

    /// <inheritdoc/>
    protected override void Update<T>(ParamGroup group, int index, Tensor parameter, Span<T> theta, ReadOnlySpan<T> grad)
    {
        var o = Options(group);
        Span<T> buf = default;
        bool first = false;
        if (o.Momentum != 0)
        {
            var state = MutableState(index);
            // b = d at the first step (PyTorch: torch.clone(d_p))
            first = !state.TryGetValue("momentum_buffer", out var b);
            if (b is null) state["momentum_buffer"] = b = Tensor.ZerosLike(parameter);
            buf = b.Span<T>();
        }
        FusedUpdate.SgdStep(o, grad, theta, buf, first);
    }

    internal static FusedUpdate.Sgd Options(ParamGroup group) =>
        new(group["lr"], group["momentum"], group["dampening"], group["weight_decay"], group["nesterov"] != 0, group["maximize"] != 0);
}

/// <summary>Span helpers the optimizers share.</summary>
internal static class OptimMath
{
    /// <summary>d = (maximize ? −g : g) + wd·θ.</summary>
    public static void EffectiveGrad<T>(ReadOnlySpan<T> grad, ReadOnlySpan<T> theta, double wd, bool maximize, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (maximize) TensorPrimitives.Negate(grad, d);
        else grad.CopyTo(d);
        if (wd != 0) TensorPrimitives.MultiplyAdd(theta, T.CreateTruncating(wd), d, d);
    }
}
