namespace Nabla;

// The ranking and embedding losses (torch.nn.functional.margin_ranking_loss, cosine_embedding_loss,
// triplet_margin_loss), composed from differentiable ops. Hinges use Clamp(min: 0), whose gradient passes at the
// bound itself, as PyTorch's clamp_min.
public partial class Tensor
{
    /// <summary>
    /// max(0, −y·(x1 − x2) + margin), with y = 1 when x1 should rank higher and −1 when x2 should
    /// (torch.nn.functional.margin_ranking_loss). Shape: input1, input2, target of one rank (broadcasting) → scalar,
    /// or their broadcast shape with <see cref="Reduction.None"/>.
    /// </summary>
    public static Tensor MarginRankingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0.0, Reduction reduction = Reduction.Mean)
    {
        const string op = "MarginRankingLoss";
        if (input1.Rank != input2.Rank || input1.Rank != target.Rank)
            throw new ArgumentException($"{op}: input1 {ShapeUtil.Format(input1._shape)}, input2 {ShapeUtil.Format(input2._shape)} and target {ShapeUtil.Format(target._shape)} must have the same number of dims.");
        var loss = (-target.To(input1.DType) * (input1 - input2) + margin).Clamp(min: 0);
        return ReduceLoss(op, loss, reduction);
    }

    /// <summary>
    /// 1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1, 0 for any other y
    /// (torch.nn.functional.cosine_embedding_loss; cos = x1·x2 / √((|x1|² + 1e-12)(|x2|² + 1e-12))).
    /// Shape: input1, input2 (N, D), target (N) → scalar, or (N) with None; or unbatched (D), (D), () → ().
    /// </summary>
    public static Tensor CosineEmbeddingLoss(Tensor input1, Tensor input2, Tensor target, double margin = 0.0, Reduction reduction = Reduction.Mean)
    {
        const string op = "CosineEmbeddingLoss";
        const double eps = 1e-12;
        if (target.Rank > 1) throw new ArgumentException($"{op}: expected a 0-d or 1-d target, got {ShapeUtil.Format(target._shape)} (multi-target is not supported).");
        int inputRank = target.Rank + 1;
        if (input1.Rank != inputRank || input2.Rank != inputRank)
            throw new ArgumentException($"{op}: a {target.Rank}-d target expects {inputRank}-d inputs, got input1 {ShapeUtil.Format(input1._shape)} and input2 {ShapeUtil.Format(input2._shape)}.");
        int dim = target.Rank;
        var prod = (input1 * input2).Sum(dim);
        var mag1 = (input1 * input1).Sum(dim) + eps;
        var mag2 = (input2 * input2).Sum(dim) + eps;
        var cos = prod / (mag1 * mag2).Sqrt();
        var y = target.Detach().To(input1.DType);
        var loss = y.Eq(1.0) * (1.0 - cos) + y.Eq(-1.0) * (cos - margin).Clamp(min: 0);
        return ReduceLoss(op, loss, reduction);
    }

    /// <summary>
    /// max(d(a, p) − d(a, n) + margin, 0) with d(u, v) = ‖u − v + eps‖_p over the last dim (PyTorch's
    /// pairwise_distance); <paramref name="swap"/> uses min(d(a, n), d(p, n)) as the negative distance
    /// (torch.nn.functional.triplet_margin_loss). Shape: anchor, positive, negative (N, D) → scalar, or (N) with None;
    /// unbatched (D) → (); more leading dims are kept, as PyTorch's.
    /// </summary>
    public static Tensor TripletMarginLoss(Tensor anchor, Tensor positive, Tensor negative, double margin = 1.0, double p = 2.0, double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        const string op = "TripletMarginLoss";
        if (anchor.Rank != positive.Rank || anchor.Rank != negative.Rank)
            throw new ArgumentException($"{op}: anchor {ShapeUtil.Format(anchor._shape)}, positive {ShapeUtil.Format(positive._shape)} and negative {ShapeUtil.Format(negative._shape)} must have the same number of dims.");
        var dPos = PairwiseDistance(anchor, positive, p, eps);
        var dNeg = PairwiseDistance(anchor, negative, p, eps);
        if (swap) dNeg = Minimum(dNeg, PairwiseDistance(positive, negative, p, eps));
        return ReduceLoss(op, (dPos - dNeg + margin).Clamp(min: 0), reduction);
    }

    /// <summary>‖x1 − x2 + eps‖_p over the last dim (torch.nn.functional.pairwise_distance). Shape: (N, D), (N, D) → (N); (D), (D) → ().</summary>
    public static Tensor PairwiseDistance(Tensor x1, Tensor x2, double p = 2.0, double eps = 1e-6)
    {
        int rank = Math.Max(x1.Rank, x2.Rank);
        if (rank == 0) throw new ArgumentException($"PairwiseDistance: expected inputs with at least one dim, got {ShapeUtil.Format(x1._shape)} and {ShapeUtil.Format(x2._shape)}.");
        return (x1 - x2 + eps).Norm(p, rank - 1);
    }
}
