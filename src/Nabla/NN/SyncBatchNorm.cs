using Nabla.Distributed;

namespace Nabla.NN;

/// <summary>
/// Batch normalisation whose training statistics span every rank of a data-parallel run (PyTorch's
/// <c>SyncBatchNorm</c>): the per-channel mean and biased variance are those of the global batch (each found by an
/// all-reduce of per-rank sums, two passes as the single-process layer computes them), so N ranks normalise exactly as
/// one process with the whole batch would, and the backward pass all-reduces the gradients of those sums. Running
/// statistics (unbiased variance over the global count), eval mode and state-dict keys are BatchNorm's. Without a
/// process group of more than one rank it computes plain batch normalisation.
/// Shape: (N, C, *) → same.
/// </summary>
public sealed class SyncBatchNorm : NormBase
{
    private readonly ProcessGroup? _group;

    /// <summary>Creates the layer over <paramref name="processGroup"/> (default: <see cref="ProcessGroup.World"/> when the layer first trains).</summary>
    public SyncBatchNorm(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true,
        ProcessGroup? processGroup = null, DType dtype = DType.Float32)
        : base(numFeatures, eps, momentum, affine, trackRunningStats, dtype) => _group = processGroup;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckInput(input, 2, 8, "at least 2D (N, C, *)");
        CheckChannels(input, 1);
        if (!Training && RunningMean is not null)
            return Tensor.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, false, 0, Eps, nameof(SyncBatchNorm));
        var group = _group ?? ProcessGroup.World;
        bool sync = group is { WorldSize: > 1 };
        int[] dims = [0, .. Enumerable.Range(2, input.Rank - 2)];
        var count = Tensor.FromArray([input.Numel / (double)NumFeatures], 1);
        if (sync) group!.AllReduce(count);
        double m = count.Item();
        if (m <= 1 && Training)
            throw new ArgumentException($"SyncBatchNorm: expected more than 1 value per channel over all ranks in training, got input of shape {ShapeUtil.Format(input.Shape)}{(sync ? $" on {group!.WorldSize} ranks" : "")}.");
        var x = input;
        Tensor Global(Tensor local) => sync ? AllReduceOp.Sum(local, group!) : local;
        var mean = Global(x.Sum(dims, keepDim: true)) / m;
        var centred = x - mean;
        var variance = Global((centred * centred).Sum(dims, keepDim: true)) / m;
        var y = centred / (variance + Eps).Sqrt();
        int[] channelShape = [1, NumFeatures, .. Enumerable.Repeat(1, input.Rank - 2)];
        if (Weight is not null) y = y * Weight.View(channelShape) + Bias!.View(channelShape);
        if (Training && TrackRunningStats)
        {
            using var _ = Tensor.NoGrad();
            double batches = NumBatchesTracked!.Span<long>()[0] += 1;
            double f = Momentum ?? 1.0 / batches;
            RunningMean!.CopyFrom(RunningMean * (1 - f) + mean.Detach().Reshape(NumFeatures).To(RunningMean.DType) * f);
            RunningVar!.CopyFrom(RunningVar * (1 - f) + variance.Detach().Reshape(NumFeatures).To(RunningVar.DType) * (f * m / (m - 1)));
        }
        return y;
    }
}
