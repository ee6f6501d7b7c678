namespace Nabla.Losses;

/// <summary>
/// Cross-entropy over logits with softmax fused in (torch.nn.CrossEntropyLoss): class-index or probability targets,
/// per-class <c>weight</c> (a buffer), <c>ignoreIndex</c> and label smoothing. See <see cref="Tensor.CrossEntropy"/>
/// for the formulas and what Mean divides by.
/// Shape: input (N, C), (N, C, d1, ...) or (C); target (N), (N, d1, ...) or () of class indices, or input's shape of
/// probabilities → scalar, or the per-sample losses with None.
/// </summary>
public sealed class CrossEntropyLoss : Loss
{
    /// <summary>Creates the loss, with PyTorch's argument order.</summary>
    public CrossEntropyLoss(Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0) : base(reduction)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new ArgumentException($"CrossEntropyLoss: label_smoothing must be in [0, 1], got {labelSmoothing}.");
        RejectBatchMean();
        Weight = RegisterBuffer("weight", weight);
        IgnoreIndex = ignoreIndex;
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>The per-class weight (buffer <c>weight</c>), or null.</summary>
    public Tensor? Weight { get; }

    /// <summary>Target value that contributes nothing (and is not counted in the mean).</summary>
    public int IgnoreIndex { get; }

    /// <summary>The amount ε in [0, 1] of probability spread evenly over all classes.</summary>
    public double LabelSmoothing { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.CrossEntropy(input, target, Weight, IgnoreIndex, Reduction, LabelSmoothing);
}

/// <summary>
/// Negative log-likelihood of log-probabilities −w_t·x_t (torch.nn.NLLLoss), per-class <c>weight</c> (a buffer) and
/// <c>ignoreIndex</c>; Mean divides by Σ w_t over the counted samples.
/// Shape: input (N, C), (N, C, d1, ...) or (C); target (N), (N, d1, ...) or () → scalar, or the target's shape with None.
/// </summary>
public sealed class NLLLoss : Loss
{
    /// <summary>Creates the loss, with PyTorch's argument order.</summary>
    public NLLLoss(Tensor? weight = null, int ignoreIndex = -100, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        RejectBatchMean();
        Weight = RegisterBuffer("weight", weight);
        IgnoreIndex = ignoreIndex;
    }

    /// <summary>The per-class weight (buffer <c>weight</c>), or null.</summary>
    public Tensor? Weight { get; }

    /// <summary>Target value that contributes nothing (and is not counted in the mean).</summary>
    public int IgnoreIndex { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.NllLoss(input, target, Weight, IgnoreIndex, Reduction);
}

/// <summary>
/// max(0, −y·(x1 − x2) + margin) (torch.nn.MarginRankingLoss); Forward takes (input1, input2, target).
/// Shape: input1, input2, target (N) or broadcastable of one rank → scalar, or their shape with None.
/// </summary>
public sealed class MarginRankingLoss(double margin = 0.0, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <summary>The margin.</summary>
    public double Margin { get; } = margin;

    /// <summary>The loss for ranking <paramref name="input1"/> against <paramref name="input2"/>; <paramref name="target"/> is 1 or −1.</summary>
    public Tensor Forward(Tensor input1, Tensor input2, Tensor target) => Tensor.MarginRankingLoss(input1, input2, target, Margin, Reduction);
}

/// <summary>
/// 1 − cos(x1, x2) for y = 1, max(0, cos(x1, x2) − margin) for y = −1 (torch.nn.CosineEmbeddingLoss); Forward takes
/// (input1, input2, target). Shape: (N, D), (N, D), (N) → scalar, or (N) with None; unbatched (D), (D), ().
/// </summary>
public sealed class CosineEmbeddingLoss(double margin = 0.0, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <summary>The margin for dissimilar pairs.</summary>
    public double Margin { get; } = margin;

    /// <summary>The loss for the pairs (<paramref name="input1"/>, <paramref name="input2"/>) labelled by <paramref name="target"/>.</summary>
    public Tensor Forward(Tensor input1, Tensor input2, Tensor target) => Tensor.CosineEmbeddingLoss(input1, input2, target, Margin, Reduction);
}

/// <summary>
/// max(d(a, p) − d(a, n) + margin, 0) with the p-norm distance (torch.nn.TripletMarginLoss); Forward takes
/// (anchor, positive, negative). Shape: (N, D) each → scalar, or (N) with None; unbatched (D) → ().
/// </summary>
public sealed class TripletMarginLoss(double margin = 1.0, double p = 2.0, double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <summary>The margin.</summary>
    public double Margin { get; } = margin;

    /// <summary>The norm degree of the pairwise distance.</summary>
    public double P { get; } = p;

    /// <summary>Added to the difference before the norm.</summary>
    public double Eps { get; } = eps;

    /// <summary>True to use min(d(a, n), d(p, n)) as the negative distance.</summary>
    public bool Swap { get; } = swap;

    /// <summary>The loss of the triplets.</summary>
    public Tensor Forward(Tensor anchor, Tensor positive, Tensor negative) => Tensor.TripletMarginLoss(anchor, positive, negative, Margin, P, Eps, Swap, Reduction);
}

/// <summary>
/// Connectionist temporal classification loss (torch.nn.CTCLoss); Forward takes (logProbs, targets, inputLengths,
/// targetLengths). Mean divides each sample's loss by its target length, then averages over the batch. See
/// <see cref="Tensor.CtcLoss(Tensor, Tensor, Tensor, Tensor, int, Reduction, bool)"/>.
/// Shape: logProbs (T, N, C), targets (N, S) or (Σ target_lengths), lengths (N) → scalar, or (N) with None.
/// </summary>
public sealed class CTCLoss : Loss
{
    /// <summary>Creates the loss, with PyTorch's argument order.</summary>
    public CTCLoss(int blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false) : base(reduction)
    {
        if (blank < 0) throw new ArgumentException($"CTCLoss: blank must be a class index (≥ 0), got {blank}.");
        RejectBatchMean();
        Blank = blank;
        ZeroInfinity = zeroInfinity;
    }

    /// <summary>The blank label's class index.</summary>
    public int Blank { get; }

    /// <summary>True to give impossible alignments (infinite losses) loss 0 and gradient 0.</summary>
    public bool ZeroInfinity { get; }

    /// <summary>The CTC loss of the targets under the per-frame log-probabilities.</summary>
    public Tensor Forward(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths) =>
        Tensor.CtcLoss(logProbs, targets, inputLengths, targetLengths, Blank, Reduction, ZeroInfinity);

    /// <summary>The CTC loss, with the lengths as integers.</summary>
    public Tensor Forward(Tensor logProbs, Tensor targets, int[] inputLengths, int[] targetLengths) =>
        Tensor.CtcLoss(logProbs, targets, inputLengths, targetLengths, Blank, Reduction, ZeroInfinity);
}
