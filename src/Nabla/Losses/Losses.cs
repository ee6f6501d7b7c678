namespace Nabla.Losses;

/// <summary>Mean squared error (x − y)² (torch.nn.MSELoss). Shape: input (*), target (*) → scalar, or (*) with None.</summary>
public sealed class MSELoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.MseLoss(input, target, Reduction);
}

/// <summary>Absolute error |x − y| (torch.nn.L1Loss). Shape: input (*), target (*) → scalar, or (*) with None.</summary>
public sealed class L1Loss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.L1Loss(input, target, Reduction);
}

/// <summary>
/// 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β (torch.nn.SmoothL1Loss; β = 0 is L1).
/// Shape: input (*), target (*) → scalar, or (*) with None.
/// </summary>
public sealed class SmoothL1Loss : Loss
{
    /// <summary>Creates the loss; <paramref name="beta"/> ≥ 0 is where it turns from quadratic to linear.</summary>
    public SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0) : base(reduction)
    {
        if (!(beta >= 0)) throw new ArgumentException($"SmoothL1Loss: beta must be non-negative, got {beta}.");
        Beta = beta;
    }

    /// <summary>The threshold between the quadratic and the linear part.</summary>
    public double Beta { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.SmoothL1Loss(input, target, Reduction, Beta);
}

/// <summary>
/// 0.5·d² where |d| &lt; δ, else δ·(|d| − 0.5·δ) (torch.nn.HuberLoss). Shape: input (*), target (*) → scalar, or (*) with None.
/// </summary>
public sealed class HuberLoss : Loss
{
    /// <summary>Creates the loss; <paramref name="delta"/> &gt; 0 is where it turns from quadratic to linear.</summary>
    public HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0) : base(reduction)
    {
        if (!(delta > 0)) throw new ArgumentException($"HuberLoss: delta must be positive, got {delta}.");
        Delta = delta;
    }

    /// <summary>The threshold between the quadratic and the linear part.</summary>
    public double Delta { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.HuberLoss(input, target, Reduction, Delta);
}

/// <summary>
/// Binary cross-entropy of probabilities, logs clamped at −100 (torch.nn.BCELoss); <c>weight</c> (a buffer) rescales
/// each element and broadcasts to the input. Shape: input (*) in [0, 1], target (*) → scalar, or (*) with None.
/// </summary>
public sealed class BCELoss : Loss
{
    /// <summary>Creates the loss with an optional per-element <paramref name="weight"/>.</summary>
    public BCELoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : base(reduction) => Weight = RegisterBuffer("weight", weight);

    /// <summary>The rescaling weight (buffer <c>weight</c>), or null.</summary>
    public Tensor? Weight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.BinaryCrossEntropy(input, target, Weight, Reduction);
}

/// <summary>
/// Binary cross-entropy on logits, sigmoid fused in (torch.nn.BCEWithLogitsLoss). <c>weight</c> rescales each
/// element; <c>pos_weight</c> weights the positive term per class (broadcast over the last dim); both are buffers.
/// Shape: input (*), target (*) → scalar, or (*) with None.
/// </summary>
public sealed class BCEWithLogitsLoss : Loss
{
    /// <summary>Creates the loss with optional <paramref name="weight"/> and <paramref name="posWeight"/>.</summary>
    public BCEWithLogitsLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null) : base(reduction)
    {
        Weight = RegisterBuffer("weight", weight);
        PosWeight = RegisterBuffer("pos_weight", posWeight);
    }

    /// <summary>The rescaling weight (buffer <c>weight</c>), or null.</summary>
    public Tensor? Weight { get; }

    /// <summary>The positive-class weight (buffer <c>pos_weight</c>), or null.</summary>
    public Tensor? PosWeight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.BinaryCrossEntropyWithLogits(input, target, Weight, Reduction, PosWeight);
}

/// <summary>
/// Kullback-Leibler divergence of log-probability input from target (torch.nn.KLDivLoss); use
/// <see cref="Reduction.BatchMean"/> for the true KL divergence per sample. Shape: input (*), target (*) → scalar, or (*) with None.
/// </summary>
public sealed class KLDivLoss(Reduction reduction = Reduction.Mean, bool logTarget = false) : Loss(reduction)
{
    /// <summary>True when the target holds log-probabilities.</summary>
    public bool LogTarget { get; } = logTarget;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.KLDiv(input, target, Reduction, LogTarget);
}

/// <summary>
/// Poisson negative log-likelihood (torch.nn.PoissonNLLLoss): e^x − y·x with <c>logInput</c>, else x − y·log(x + eps),
/// plus the Stirling term with <c>full</c>. Shape: input (*), target (*) → scalar, or (*) with None.
/// </summary>
public sealed class PoissonNLLLoss(bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <summary>True when the input is the log of the rate.</summary>
    public bool LogInput { get; } = logInput;

    /// <summary>True to add the Stirling approximation term.</summary>
    public bool Full { get; } = full;

    /// <summary>Added to the rate inside the log when <see cref="LogInput"/> is false.</summary>
    public double Eps { get; } = eps;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => Tensor.PoissonNllLoss(input, target, LogInput, Full, Eps, Reduction);
}

/// <summary>
/// Gaussian negative log-likelihood 0.5·(log v + (x − y)²/v) (torch.nn.GaussianNLLLoss); its Forward takes the
/// variance as a third tensor. Shape: input (N, *), target (N, *), var (N, *) or (N, *) without or with 1 as the last dim → scalar, or (N, *) with None.
/// </summary>
public sealed class GaussianNLLLoss(bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <summary>True to add the constant 0.5·log 2π.</summary>
    public bool Full { get; } = full;

    /// <summary>The variance's lower clamp.</summary>
    public double Eps { get; } = eps;

    /// <summary>The loss of <paramref name="input"/> (the mean) against <paramref name="target"/> with variance <paramref name="var"/>.</summary>
    public Tensor Forward(Tensor input, Tensor target, Tensor var) => Tensor.GaussianNllLoss(input, target, var, Full, Eps, Reduction);
}
