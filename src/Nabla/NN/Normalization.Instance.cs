namespace Nabla.NN;

/// <summary>
/// Instance normalisation (PyTorch's <c>_InstanceNorm</c>): each sample's channel is normalised by its own mean and
/// biased variance. With <see cref="NormBase.TrackRunningStats"/> the running statistics are updated in training
/// (per-instance mean and unbiased variance, averaged over the batch) and used in eval. As in PyTorch,
/// <c>num_batches_tracked</c> is kept in the state dict but not advanced with a numeric momentum. A null momentum
/// gives a cumulative average of the batches' statistics, as BatchNorm's (factor 1/num_batches_tracked, which then
/// counts the training batches); PyTorch 1.13 raises for a null momentum here and 2.x leaves the statistics unchanged.
/// </summary>
public abstract class InstanceNormBase : NormBase
{
    /// <summary>Creates the layer; see <see cref="NormBase"/>.</summary>
    protected InstanceNormBase(int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, DType dtype)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) { }

    /// <summary>The rank of a batched input (3 for 1d, 4 for 2d); one less is an unbatched input.</summary>
    protected abstract int BatchedRank { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        string op = GetType().Name;
        int r = BatchedRank;
        CheckInput(input, r - 1, r, r == 3 ? "2D (C, L) or 3D (N, C, L)" : "3D (C, H, W) or 4D (N, C, H, W)");
        bool unbatched = input.Rank == r - 1;
        CheckChannels(input, unbatched ? 0 : 1);
        var x = unbatched ? input.Unsqueeze(0) : input;
        bool useInputStats = Training || !TrackRunningStats;
        bool cumulative = Momentum is null && Training && TrackRunningStats;
        double factor = cumulative ? 1.0 / (NumBatchesTracked!.Item() + 1) : Momentum ?? 0.0;
        var y = Tensor.InstanceNorm(x, RunningMean, RunningVar, Weight, Bias, useInputStats, factor, Eps, op);
        // advanced after the op, so a rejected batch leaves the count untouched
        if (cumulative) NumBatchesTracked!.Span<long>()[0] += 1;
        return unbatched ? y.Squeeze(0) : y;
    }
}

/// <summary>Instance normalisation over (N, C, L) or unbatched (C, L) input (as torch.nn.InstanceNorm1d). Shape: same in and out.</summary>
public sealed class InstanceNorm1d : InstanceNormBase
{
    /// <summary>Creates the layer (PyTorch's defaults: no affine, no running statistics); a null <paramref name="momentum"/> gives a cumulative average.</summary>
    public InstanceNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = false, bool trackRunningStats = false, DType dtype = DType.Float32)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) { }

    /// <inheritdoc/>
    protected override int BatchedRank => 3;
}

/// <summary>Instance normalisation over (N, C, H, W) or unbatched (C, H, W) input (as torch.nn.InstanceNorm2d). Shape: same in and out.</summary>
public sealed class InstanceNorm2d : InstanceNormBase
{
    /// <summary>Creates the layer (PyTorch's defaults: no affine, no running statistics); a null <paramref name="momentum"/> gives a cumulative average.</summary>
    public InstanceNorm2d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = false, bool trackRunningStats = false, DType dtype = DType.Float32)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) { }

    /// <inheritdoc/>
    protected override int BatchedRank => 4;
}
