using Nabla.NN;

namespace Nabla.Losses;

/// <summary>
/// A loss module, as PyTorch's <c>_Loss</c>: it holds a <see cref="Reduction"/>, and its Forward takes the input and
/// the target (some losses take three or four tensors and have their own Forward). A user-written loss derives from
/// it and finishes with <see cref="Reduce"/>. Class weights are buffers under PyTorch's keys (<c>weight</c>,
/// <c>pos_weight</c>), so they appear in the state dict.
/// </summary>
/// <example>
/// <code>
/// sealed class LogCoshLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
/// {
///     public override Tensor Forward(Tensor input, Tensor target) => Reduce(((input - target).Exp() + (target - input).Exp()).Log() - Math.Log(2));
/// }
/// </code>
/// </example>
public abstract class Loss(Reduction reduction) : Module
{
    /// <summary>How per-element losses are combined.</summary>
    public Reduction Reduction { get; } = reduction;

    /// <summary>Computes the loss of <paramref name="input"/> against <paramref name="target"/>. Shape: documented by each loss.</summary>
    public virtual Tensor Forward(Tensor input, Tensor target) =>
        throw new NotSupportedException($"{GetType().Name}: this loss does not take (input, target); call its own Forward overload.");

    /// <summary>A loss needs a target: call <see cref="Forward(Tensor, Tensor)"/> (or the loss's own overload).</summary>
    public sealed override Tensor Forward(Tensor input) =>
        throw new NotSupportedException($"{GetType().Name}: a loss takes (input, target); call Forward(input, target).");

    /// <summary>
    /// Applies <see cref="Reduction"/> to per-element losses: their mean, their sum, or them unchanged (BatchMean is
    /// refused here; only KLDivLoss has it). Shape: (*) → scalar, or (*) with <see cref="Reduction.None"/>.
    /// </summary>
    protected Tensor Reduce(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return Tensor.ReduceLoss(GetType().Name, loss, Reduction);
    }

    /// <summary>Fails, naming the loss, when <see cref="Reduction"/> is BatchMean and the loss does not support it.</summary>
    private protected void RejectBatchMean() => Tensor.RejectBatchMean(GetType().Name, Reduction);
}
