using Nabla.Autograd;

namespace Nabla;

// The element-wise losses in functional form (PyTorch's torch.nn.functional.*_loss), composed from differentiable
// ops, so their gradients with respect to input and target come from those ops' backwards. BCE is fused: its
// backward follows PyTorch's (x − y)/max(x(1 − x), 1e-12), which stays finite where the clamped log is flat.
public partial class Tensor
{
    /// <summary>Combines per-element losses as <paramref name="reduction"/> says (BatchMean only where the loss handles it).</summary>
    internal static Tensor ReduceLoss(string op, Tensor loss, Reduction reduction) => reduction switch
    {
        Reduction.Mean => loss.Mean(),
        Reduction.Sum => loss.Sum(),
        Reduction.None => loss,
        _ => throw new ArgumentException($"{op}: reduction {reduction} is not supported; expected None, Mean or Sum (BatchMean is KLDivLoss's only)."),
    };

    internal static void RejectBatchMean(string op, Reduction reduction)
    {
        if (reduction == Reduction.BatchMean) ReduceLoss(op, Scalar(0), reduction);
    }

    private static void CheckLossShapes(string op, Tensor input, Tensor target, bool broadcast)
    {
        if (ShapeUtil.SameShape(input._shape, target._shape)) return;
        if (!broadcast)
            throw new ArgumentException($"{op}: target shape {ShapeUtil.Format(target._shape)} must equal input shape {ShapeUtil.Format(input._shape)}.");
        ShapeUtil.Broadcast(op, input._shape, target._shape);
    }

    /// <summary>
    /// Mean squared error (x − y)², as torch.nn.functional.mse_loss (target broadcasts against input).
    /// Shape: input (*), target (*) → scalar, or broadcast(input, target) with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckLossShapes("MSELoss", input, target, broadcast: true);
        var d = input - target.To(input.DType);
        return ReduceLoss("MSELoss", d * d, reduction);
    }

    /// <summary>
    /// Absolute error |x − y|, as torch.nn.functional.l1_loss (gradient 0 where x = y, as PyTorch's sign).
    /// Shape: input (*), target (*) → scalar, or broadcast(input, target) with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckLossShapes("L1Loss", input, target, broadcast: true);
        return ReduceLoss("L1Loss", (input - target.To(input.DType)).Abs(), reduction);
    }

    /// <summary>
    /// Smooth L1: 0.5·d²/β where |d| &lt; β, else |d| − 0.5·β, with d = x − y; β = 0 is the L1 loss
    /// (torch.nn.functional.smooth_l1_loss). Shape: input (*), target (*) → scalar, or broadcast(input, target) with None.
    /// </summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0)
    {
        const string op = "SmoothL1Loss";
        if (!(beta >= 0)) throw new ArgumentException($"{op}: beta must be non-negative, got {beta}.");
        CheckLossShapes(op, input, target, broadcast: true);
        if (beta == 0) return ReduceLoss(op, (input - target.To(input.DType)).Abs(), reduction);
        return ReduceLoss(op, Huberish(input - target.To(input.DType), beta, quadraticScale: 1.0 / beta, linearScale: 1.0), reduction);
    }

    /// <summary>
    /// Huber loss: 0.5·d² where |d| &lt; δ, else δ·(|d| − 0.5·δ), with d = x − y (torch.nn.functional.huber_loss).
    /// Shape: input (*), target (*) → scalar, or broadcast(input, target) with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0)
    {
        const string op = "HuberLoss";
        if (!(delta > 0)) throw new ArgumentException($"{op}: delta must be positive, got {delta}.");
        CheckLossShapes(op, input, target, broadcast: true);
        return ReduceLoss(op, Huberish(input - target.To(input.DType), delta, quadraticScale: 1.0, linearScale: delta), reduction);
    }

    // quadratic 0.5·q·d² inside |d| < k, linear s·(|d| − 0.5·k) outside; the branch mask carries no gradient
    private static Tensor Huberish(Tensor d, double k, double quadraticScale, double linearScale)
    {
        var inside = d.Detach().Abs().Lt(k);
        return inside * (d * d * (0.5 * quadraticScale)) + (1.0 - inside) * ((d.Abs() - 0.5 * k) * linearScale);
    }

    // PyTorch's EPSILON in the BCE backward is the float 1e-12f (9.99999996e-13), whichever the dtype
    private const double BceEpsilon = 1e-12f;

    /// <summary>
    /// Binary cross-entropy of probabilities: −w·(y·log x + (1 − y)·log(1 − x)), each log clamped at −100 as
    /// PyTorch does (torch.nn.functional.binary_cross_entropy). Input values must lie in [0, 1]; target has input's
    /// shape; weight broadcasts to it. Shape: input (*), target (*) → scalar, or (*) with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        const string op = "BCELoss";
        CheckLossShapes(op, input, target, broadcast: false);
        if (weight is not null) ShapeUtil.Broadcast(op + " (weight)", weight._shape, input._shape);
        var x = input.Detach();
        var y = target.Detach().To(input.DType);
        var w = weight?.Detach().To(input.DType);
        foreach (var v in x.ToDoubleArray())
            if (!(v >= 0 && v <= 1)) throw new ArgumentException($"{op}: all input values must lie in [0, 1] (probabilities), got {v}.");
        Tensor loss, logX, log1mX;
        using (NoGrad())
        {
            logX = x.Log().Clamp(min: -100);
            log1mX = (1.0 - x).Log().Clamp(min: -100);
            loss = -(y * logX + (1.0 - y) * log1mX);
            if (w is not null) loss = loss * w;
        }
        // dx = g·w·(x − y) / max(x(1 − x), ε);  dy = g·w·(log(1 − x) − log x), both logs clamped at −100
        loss = Engine.Record(loss, op + "Backward", [input, target], g =>
        {
            var gw = w is null ? g : g * w;
            return [
                input.RequiresGrad ? (gw * (x - y) / Maximum(x * (1.0 - x), x.Like(BceEpsilon))).SumTo(input._shape) : null,
                target.RequiresGrad ? (gw * (log1mX - logX)).SumTo(target._shape).To(target.DType) : null];
        }, firstOrderOnly: true);
        return ReduceLoss(op, loss, reduction);
    }

    /// <summary>
    /// Binary cross-entropy on logits with the sigmoid fused in: −w·(p·y·log σ(x) + (1 − y)·log(1 − σ(x))), computed
    /// stably as w·((1 − y)·x + (1 + (p − 1)·y)·softplus(−x)) (torch.nn.functional.binary_cross_entropy_with_logits).
    /// <paramref name="posWeight"/> p weights the positive term per class (broadcast over the last dim).
    /// Shape: input (*), target (*) → scalar, or (*) with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null)
    {
        const string op = "BCEWithLogitsLoss";
        CheckLossShapes(op, input, target, broadcast: false);
        if (weight is not null) ShapeUtil.Broadcast(op + " (weight)", weight._shape, input._shape);
        if (posWeight is not null) ShapeUtil.Broadcast(op + " (pos_weight)", posWeight._shape, input._shape);
        var y = target.To(input.DType);
        var softplusNeg = (-input).Softplus();
        var logWeight = posWeight is null ? null : 1.0 + (posWeight.To(input.DType) - 1.0) * y;
        var loss = (1.0 - y) * input + (logWeight is null ? softplusNeg : logWeight * softplusNeg);
        if (weight is not null) loss = loss * weight.To(input.DType);
        return ReduceLoss(op, loss, reduction);
    }

    /// <summary>
    /// Kullback-Leibler divergence with log-probability input x: y·(log y − x) (0 where y = 0), or with
    /// <paramref name="logTarget"/> e^y·(y − x) (torch.nn.functional.kl_div). <see cref="Reduction.BatchMean"/> divides
    /// the sum by the batch size input.size(0), the true KL divergence; Mean averages over every element.
    /// Shape: input (*), target (*) → scalar, or broadcast(input, target) with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor KLDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false)
    {
        const string op = "KLDivLoss";
        CheckLossShapes(op, input, target, broadcast: true);
        var y = target.To(input.DType);
        Tensor loss;
        if (logTarget) loss = y.Exp() * (y - input);
        else
        {
            // xlogy(y, y) − y·x: y·log y is 0 at y = 0 (log is taken of 1 there), NaN for y < 0 as PyTorch's
            var zero = y.Detach().Eq(0.0);
            loss = y * (y + zero).Log() - y * input;
        }
        if (reduction != Reduction.BatchMean) return ReduceLoss(op, loss, reduction);
        return input.Rank == 0 ? loss.Sum() : loss.Sum() / input._shape[0];
    }

    /// <summary>
    /// Poisson negative log-likelihood: e^x − y·x with <paramref name="logInput"/>, else x − y·log(x + eps); with
    /// <paramref name="full"/> the Stirling term y·log y − y + 0.5·log(2πy) is added where y &gt; 1
    /// (torch.nn.functional.poisson_nll_loss). Shape: input (*), target (*) → scalar, or broadcast(input, target) with None.
    /// </summary>
    public static Tensor PoissonNllLoss(Tensor input, Tensor target, bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean)
    {
        const string op = "PoissonNLLLoss";
        CheckLossShapes(op, input, target, broadcast: true);
        var y = target.To(input.DType);
        var loss = logInput ? input.Exp() - y * input : input - y * (input + eps).Log();
        if (full)
        {
            // masked to 0 where y ≤ 1; log is taken of 1 there so no NaN leaks through the mask
            var big = y.Detach().Gt(1.0);
            var ys = y * big + (1.0 - big);
            loss = loss + big * (y * ys.Log() - y + 0.5 * (ys * (2 * Math.PI)).Log());
        }
        return ReduceLoss(op, loss, reduction);
    }

    /// <summary>
    /// Gaussian negative log-likelihood 0.5·(log v + (x − y)²/v) (+ 0.5·log 2π with <paramref name="full"/>), with the
    /// variance v clamped below at <paramref name="eps"/> without stopping its gradient, as
    /// torch.nn.functional.gaussian_nll_loss. var has input's shape, or input's without the last dim, or with a last
    /// dim of 1 (one variance shared by the last dim). Shape: input (N, *), target (N, *), var → scalar, or (N, *) with None.
    /// </summary>
    public static Tensor GaussianNllLoss(Tensor input, Tensor target, Tensor var, bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean)
    {
        const string op = "GaussianNLLLoss";
        if (!ShapeUtil.SameShape(var._shape, input._shape))
        {
            var lead = input._shape.AsSpan(0, Math.Max(input.Rank - 1, 0));
            if (input.Rank > 0 && var._shape.AsSpan().SequenceEqual(lead)) var = var.Unsqueeze(-1);
            else if (!(input.Rank > 0 && var.Rank == input.Rank && var._shape[^1] == 1 && var._shape.AsSpan(0, var.Rank - 1).SequenceEqual(lead)))
                throw new ArgumentException($"{op}: var of shape {ShapeUtil.Format(var._shape)} does not fit input {ShapeUtil.Format(input._shape)}; expected the input's shape, the input's without its last dim, or that with a last dim of 1.");
        }
        var v = var.To(input.DType);
        if (v.ToDoubleArray().Any(e => e < 0)) throw new ArgumentException($"{op}: var has negative entries.");
        // clamp(v, eps) in value, identity in gradient (PyTorch clamps a clone under no_grad)
        var vd = v.Detach();
        var clamped = v + (vd.Clamp(min: eps) - vd);
        var d = input - target.To(input.DType);
        var loss = 0.5 * (clamped.Log() + d * d / clamped);
        if (full) loss = loss + 0.5 * Math.Log(2 * Math.PI);
        return ReduceLoss(op, loss, reduction);
    }
}
