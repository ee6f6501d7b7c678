namespace Nabla.Losses;

/// <summary>A loss J(input, target) with a reduction, as PyTorch's loss modules.</summary>
public abstract class Loss(Reduction reduction)
{
    /// <summary>How per-element losses are combined.</summary>
    public Reduction Reduction { get; } = reduction;

    /// <summary>Computes the loss.</summary>
    public abstract Tensor Forward(Tensor input, Tensor target);

    private protected Tensor Reduce(Tensor perElement) => Reduction switch
    {
        Reduction.Mean => perElement.Mean(),
        Reduction.Sum => perElement.Sum(),
        _ => perElement,
    };

    private protected static void CheckSameShape(string op, Tensor input, Tensor target)
    {
        if (!ShapeUtil.SameShape(input.Shape, target.Shape))
            throw new ArgumentException($"{op}: input shape {ShapeUtil.Format(input.Shape)} and target shape {ShapeUtil.Format(target.Shape)} differ.");
    }
}

/// <summary>Mean squared error (x − y)². Shape: input and target alike → scalar, or input's shape with None.</summary>
public sealed class MSELoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target)
    {
        CheckSameShape("MSELoss", input, target);
        var d = input - target;
        return Reduce(d * d);
    }
}

/// <summary>
/// Cross-entropy over logits and class indices, with softmax fused in (numerically stable).
/// Shape: input (N, C), target (N) of class indices → scalar, or (N) with None.
/// </summary>
public sealed class CrossEntropyLoss(Reduction reduction = Reduction.Mean, int ignoreIndex = -100) : Loss(reduction)
{
    /// <summary>Target value that contributes nothing (and is not counted in the mean).</summary>
    public int IgnoreIndex { get; } = ignoreIndex;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.CrossEntropy(input, target, Reduction, IgnoreIndex);
}

/// <summary>
/// Negative log-likelihood of log-probabilities: loss_i = −x_i,t_i. Shape: input (N, C), target (N) → scalar, or (N) with None.
/// </summary>
public sealed class NLLLoss(Reduction reduction = Reduction.Mean, int ignoreIndex = -100) : Loss(reduction)
{
    /// <summary>Target value that contributes nothing (and is not counted in the mean).</summary>
    public int IgnoreIndex { get; } = ignoreIndex;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target)
    {
        if (input.Rank != 2) throw new ArgumentException($"NLLLoss: expected input of shape (N, C), got {ShapeUtil.Format(input.Shape)}.");
        int n = input.Shape[0];
        if (target.Rank != 1 || target.Shape[0] != n)
            throw new ArgumentException($"NLLLoss: expected target of shape [{n}] for input {ShapeUtil.Format(input.Shape)}, got {ShapeUtil.Format(target.Shape)}.");
        var labels = Tensor.ClassIndices("NLLLoss", target, input.Shape[1], IgnoreIndex);
        var index = Tensor.FromArray(labels.Select(l => (double)Math.Max(l, 0)).ToArray(), n, 1).To(input.DType);
        var keep = Tensor.FromArray(labels.Select(l => l >= 0 ? 1.0 : 0.0).ToArray(), n).To(input.DType);
        var picked = -input.Gather(1, index).Reshape(n) * keep;
        return Reduction switch
        {
            Reduction.Mean => picked.Sum() / labels.Count(l => l >= 0),
            Reduction.Sum => picked.Sum(),
            _ => picked,
        };
    }
}

/// <summary>
/// Binary cross-entropy on logits, fused with the sigmoid for stability: max(x, 0) − x·y + log(1 + e^(−|x|)).
/// Shape: input and target alike (targets in [0, 1]) → scalar, or input's shape with None.
/// </summary>
public sealed class BCEWithLogitsLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target)
    {
        CheckSameShape("BCEWithLogitsLoss", input, target);
        var y = target.Detach();
        return Reduce(input.Relu() - input * y + ((-input.Abs()).Exp() + 1.0).Log());
    }
}
