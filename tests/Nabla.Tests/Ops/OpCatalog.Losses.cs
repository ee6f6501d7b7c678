namespace Nabla.Tests.Ops;

// Every loss and option, through its functional form (the modules call these). Float targets are inputs too, so
// their gradients are checked; class indices and ±1 labels are data. Where a loss has a kink (|d| = 0 or β or δ, a
// hinge at 0), the input is kept ≥ 1e-2 from it and the target within 1e-3 of 0.
public static partial class OpCatalog
{
    private static Tensor Small(Generator g, params int[] shape) => Tensor.Uniform(shape, -1e-3, 1e-3, DType.Float64, g);

    private static Tensor Probabilities(Generator g, params int[] shape) => Tensor.Uniform(shape, 0.05, 0.95, DType.Float64, g);

    private static IEnumerable<OpCase> LossCases()
    {
        double[] zero = [0.0];
        Tensor Weights(params double[] w) => Tensor.FromArray(w);
        foreach (var (r, tag) in new[] { (Reduction.Mean, "mean"), (Reduction.Sum, "sum"), (Reduction.None, "none") })
        {
            yield return new($"mse_loss_{tag}", g => [Randn(g, 3, 4), Randn(g, 3, 4)], x => Tensor.MseLoss(x[0], x[1], r));
            yield return new($"l1_loss_{tag}", g => [AwayFrom(g, zero, 3, 4), Small(g, 3, 4)], x => Tensor.L1Loss(x[0], x[1], r));
            yield return new($"smooth_l1_loss_{tag}", g => [AwayFrom(g, [-1, 0, 1], 3, 4), Small(g, 3, 4)], x => Tensor.SmoothL1Loss(x[0], x[1], r));
            yield return new($"huber_loss_{tag}", g => [AwayFrom(g, [-1, 0, 1], 3, 4), Small(g, 3, 4)], x => Tensor.HuberLoss(x[0], x[1], r));
            yield return new($"bce_loss_{tag}", g => [Probabilities(g, 3, 4), Probabilities(g, 3, 4)], x => Tensor.BinaryCrossEntropy(x[0], x[1], reduction: r));
            yield return new($"bce_with_logits_loss_{tag}", g => [Randn(g, 3, 4), Probabilities(g, 3, 4)], x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1], reduction: r));
            yield return new($"kl_div_{tag}", g => [Randn(g, 3, 4), Positive(g, 3, 4)], x => Tensor.KLDiv(x[0], x[1], r));
            yield return new($"poisson_nll_loss_{tag}", g => [Randn(g, 3, 4), Positive(g, 3, 4)], x => Tensor.PoissonNllLoss(x[0], x[1], reduction: r));
            yield return new($"gaussian_nll_loss_{tag}", g => [Randn(g, 3, 4), Randn(g, 3, 4), Positive(g, 3, 4)], x => Tensor.GaussianNllLoss(x[0], x[1], x[2], reduction: r));
            yield return new($"margin_ranking_loss_{tag}", g => [AwayFrom(g, zero, 6), Small(g, 6)], x => Tensor.MarginRankingLoss(x[0], x[1], Index([1, -1, 1, -1, -1, 1]), reduction: r));
            yield return new($"cosine_embedding_loss_{tag}", g => [Randn(g, 5, 3), Randn(g, 5, 3)], x => Tensor.CosineEmbeddingLoss(x[0], x[1], Index([1, -1, 1, -1, 1]), -0.9, r));
            yield return new($"triplet_margin_loss_{tag}", g => [Randn(g, 4, 3), Randn(g, 4, 3), Randn(g, 4, 3)], x => Tensor.TripletMarginLoss(x[0], x[1], x[2], 5.0, reduction: r));
            yield return new($"cross_entropy_weight_smoothing_{tag}", g => [Randn(g, 5, 4)], x => Tensor.CrossEntropy(x[0], Index([3, 0, -100, 1, 3]), Weights(0.5, 1.5, 1, 2), reduction: r, labelSmoothing: 0.2));
            yield return new($"cross_entropy_probabilities_{tag}", g => [Randn(g, 4, 3), Probabilities(g, 4, 3)], x => Tensor.CrossEntropy(x[0], x[1], Weights(0.5, 1.5, 1), reduction: r, labelSmoothing: 0.1));
            yield return new($"nll_loss_weight_{tag}", g => [Randn(g, 5, 4)], x => Tensor.NllLoss(x[0], Index([3, 0, 2, 1, 3]), Weights(0.5, 1.5, 1, 2), ignoreIndex: 2, reduction: r));
        }
        yield return new("smooth_l1_loss_beta_0.5", g => [AwayFrom(g, [-0.5, 0, 0.5], 3, 4), Small(g, 3, 4)], x => Tensor.SmoothL1Loss(x[0], x[1], beta: 0.5));
        yield return new("smooth_l1_loss_beta_0", g => [AwayFrom(g, zero, 3, 4), Small(g, 3, 4)], x => Tensor.SmoothL1Loss(x[0], x[1], beta: 0));
        yield return new("huber_loss_delta_0.5", g => [AwayFrom(g, [-0.5, 0, 0.5], 3, 4), Small(g, 3, 4)], x => Tensor.HuberLoss(x[0], x[1], delta: 0.5));
        yield return new("mse_loss_broadcast_target", g => [Randn(g, 3, 4), Randn(g, 4)], x => Tensor.MseLoss(x[0], x[1]));
        yield return new("bce_loss_weight", g => [Probabilities(g, 3, 4), Probabilities(g, 3, 4)], x => Tensor.BinaryCrossEntropy(x[0], x[1], Weights(0.5, 2, 1, 3)));
        yield return new("bce_with_logits_loss_weight_pos_weight", g => [Randn(g, 3, 4), Probabilities(g, 3, 4)],
            x => Tensor.BinaryCrossEntropyWithLogits(x[0], x[1], Weights(1, 2, 0.5, 1), posWeight: Weights(3, 0.5, 1, 2)));
        yield return new("bce_with_logits_loss_transposed", g => [Randn(g, 4, 3), Probabilities(g, 3, 4)], x => Tensor.BinaryCrossEntropyWithLogits(x[0].T, x[1], reduction: Reduction.Sum));
        yield return new("kl_div_batchmean", g => [Randn(g, 3, 4), Positive(g, 3, 4)], x => Tensor.KLDiv(x[0], x[1], Reduction.BatchMean));
        yield return new("kl_div_log_target", g => [Randn(g, 3, 4), Randn(g, 3, 4)], x => Tensor.KLDiv(x[0], x[1], Reduction.BatchMean, logTarget: true));
        yield return new("poisson_nll_loss_rate_full", g => [Positive(g, 3, 4), Positive(g, 3, 4)], x => Tensor.PoissonNllLoss(x[0], x[1] * 2.0, logInput: false, full: true));
        yield return new("gaussian_nll_loss_full_shared_variance", g => [Randn(g, 3, 4), Randn(g, 3, 4), Positive(g, 3)], x => Tensor.GaussianNllLoss(x[0], x[1], x[2], full: true));
        yield return new("gaussian_nll_loss_variance_last_dim_1", g => [Randn(g, 3, 4), Randn(g, 3, 4), Positive(g, 3, 1)], x => Tensor.GaussianNllLoss(x[0], x[1], x[2], reduction: Reduction.Sum));
        yield return new("cosine_embedding_loss_unbatched", g => [Randn(g, 4), Randn(g, 4)], x => Tensor.CosineEmbeddingLoss(x[0], x[1], Tensor.Scalar(1, DType.Float64)));
        yield return new("triplet_margin_loss_p1_swap", g => [AwayFrom(g, zero, 4, 3), Small(g, 4, 3), Randn(g, 4, 3)], x => Tensor.TripletMarginLoss(x[0], x[1], x[2], 5.0, p: 1, swap: true, reduction: Reduction.None));
        yield return new("cross_entropy_segmentation", g => [Randn(g, 2, 3, 2, 2)], x => Tensor.CrossEntropy(x[0], Index([0, 2, 1, 1, 2, 0, 0, 1], 2, 2, 2), Weights(1, 2, 0.5), ignoreIndex: 1));
        yield return new("cross_entropy_segmentation_smoothing_none", g => [Randn(g, 2, 4, 3)], x => Tensor.CrossEntropy(x[0], Index([0, 2, 3, 1, 2, 0], 2, 3), reduction: Reduction.None, labelSmoothing: 0.3));
        yield return new("cross_entropy_probabilities_segmentation", g => [Randn(g, 2, 3, 4), Probabilities(g, 2, 3, 4)], x => Tensor.CrossEntropy(x[0], x[1]));
        yield return new("cross_entropy_unbatched", g => [Randn(g, 5)], x => Tensor.CrossEntropy(x[0], Tensor.Scalar(3, DType.Float64), labelSmoothing: 0.1));
        yield return new("nll_loss_segmentation", g => [Randn(g, 2, 4, 3)], x => Tensor.NllLoss(x[0], Index([0, 2, 3, 1, 2, 0], 2, 3), reduction: Reduction.Sum));
        // CTC's gradient is PyTorch's, right for log-probabilities made by LogSoftmax: the entries check it through one
        yield return new("ctc_loss_mean_padded", g => [Randn(g, 5, 2, 4)], x => Tensor.CtcLoss(x[0].LogSoftmax(2), Index([1, 2, 0, 3, 3, 1], 2, 3), [5, 4], [2, 3]));
        yield return new("ctc_loss_sum_concatenated_blank_3", g => [Randn(g, 6, 3, 4)],
            x => Tensor.CtcLoss(x[0].LogSoftmax(2), Index([0, 1, 1, 2, 2, 0]), [6, 5, 3], [3, 2, 1], blank: 3, reduction: Reduction.Sum));
        yield return new("ctc_loss_none_empty_target", g => [Randn(g, 4, 2, 3)], x => Tensor.CtcLoss(x[0].LogSoftmax(2), Index([1, 2, 0, 0], 2, 2), [4, 3], [2, 0], reduction: Reduction.None));
        yield return new("ctc_loss_unbatched", g => [Randn(g, 5, 3)], x => Tensor.CtcLoss(x[0].LogSoftmax(1), Index([2, 1, 2]), [5], [3]));
        // the second sample's 3 repeated labels cannot fit 4 frames: loss and gradient 0
        yield return new("ctc_loss_zero_infinity", g => [Randn(g, 4, 2, 3)], x => Tensor.CtcLoss(x[0].LogSoftmax(2), Index([1, 2, 0, 1, 1, 1], 2, 3), [4, 4], [2, 3], reduction: Reduction.None, zeroInfinity: true));
        yield return new("nll_loss_unbatched", g => [Randn(g, 4)], x => Tensor.NllLoss(x[0], Tensor.Scalar(2, DType.Float64)));
    }
}
