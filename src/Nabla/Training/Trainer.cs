using System.Diagnostics;
using Nabla.Data;
using Nabla.Distributed;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;

namespace Nabla.Training;

/// <summary>
/// The fit loop: for each epoch, every training batch does forward → loss → <c>Backward</c> → optimizer step (the
/// text's θ ← θ − λ∇θJ), then the validation set is scored in evaluation mode, the schedule and the callbacks run.
/// The loop is resumable bit for bit: <see cref="CaptureState"/> holds everything that decides the next update
/// (weights, optimizer and schedule state, epoch, step, callback counters and the random generators, including the
/// training loader's), and a <see cref="CancellationToken"/> stops it after the current batch.
/// Shape: the loss function takes (logits (B, C), targets (B)) and returns a scalar.
/// </summary>
public sealed partial class Trainer
{
    private DataLoader? _trainLoader;
    private ulong[]? _epochLoaderState;   // the training loader's generator at the start of the epoch in progress
    private ulong[]? _pendingLoaderState; // restored from a checkpoint, applied when Fit starts
    private int _batchInEpoch;            // batches of the epoch in progress already done (0 at an epoch boundary)
    private EpochSums _partial;           // the running sums of the epoch in progress

    /// <summary>Creates a trainer of <paramref name="model"/> updated by <paramref name="optimizer"/> to minimise <paramref name="loss"/>.</summary>
    public Trainer(Module model, Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer));
        Loss = loss ?? throw new ArgumentNullException(nameof(loss));
    }

    /// <summary>The model being trained.</summary>
    public Module Model { get; }

    /// <summary>The optimizer that updates the model's parameters.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The loss J(logits, targets).</summary>
    public Func<Tensor, Tensor, Tensor> Loss { get; }

    /// <summary>
    /// The learning-rate scheduler (null: constant), stepped per <see cref="ScheduleInterval"/>; a
    /// <see cref="ReduceLROnPlateau"/> is stepped after each epoch with the validation loss (the training loss without
    /// a validation set).
    /// </summary>
    public LRScheduler? Scheduler { get; set; }

    /// <summary>Whether <see cref="Scheduler"/> steps after every epoch (the default, as PyTorch's examples) or every batch.</summary>
    public ScheduleInterval ScheduleInterval { get; set; } = ScheduleInterval.Epoch;

    /// <summary>
    /// Rescales the gradients before each optimizer step so that their global L2 norm is at most this value
    /// (<c>Utils.ClipGradNorm</c>; null, the default: no clipping), as recurrent networks usually need.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public double? MaxGradNorm
    {
        get => _maxGradNorm;
        set => _maxGradNorm = value is null or > 0 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), $"Trainer.MaxGradNorm must be positive (or null for no clipping), got {value}.");
    }

    private double? _maxGradNorm;

    /// <summary>
    /// Trains data-parallel over these ranks (null, the default: one process). <see cref="Fit"/> then wraps
    /// <see cref="Model"/> in a <see cref="DistributedDataParallel"/> (rank 0's weights are broadcast), requires a training
    /// loader with this rank's <see cref="DistributedSampler"/> (set to each epoch), and sums the batches' loss and
    /// accuracy over the ranks, so every rank sees the same metrics, callbacks and early stop. Checkpoints still hold
    /// <see cref="Model"/>'s keys; write them (and other files) on rank 0 only, and restore them on every rank.
    /// Validation runs on every rank over the whole validation loader.
    /// </summary>
    public ProcessGroup? Distributed { get; set; }

    private DistributedDataParallel? _ddp;

    /// <summary>Receives per-batch and per-epoch progress (null: silent).</summary>
    public ITrainingProgress? Progress { get; set; }

    /// <summary>Callbacks run after each epoch, in order (put the checkpoint writer last so it sees the others' state).</summary>
    public IList<ITrainingCallback> Callbacks { get; } = new List<ITrainingCallback>();

    /// <summary>
    /// Other generators whose state belongs in a checkpoint, by name (e.g. <c>init</c> for the one that drew the initial
    /// weights, <c>default</c> for <see cref="Generator.Default"/> when layers such as dropout use it). The training
    /// loader's generator is always saved.
    /// </summary>
    public IDictionary<string, Generator> Generators { get; } = new SortedDictionary<string, Generator>(StringComparer.Ordinal);

    /// <summary>Epochs completed.</summary>
    public int Epoch { get; private set; }

    /// <summary>Optimizer steps done since the start of the run.</summary>
    public long Step { get; private set; }

    /// <summary>Whether the last <see cref="Fit"/> stopped in the middle of an epoch (cancelled); a resume continues there.</summary>
    public bool MidEpoch => _batchInEpoch > 0;

    /// <summary>Set by a callback (e.g. early stopping) to end the run after the current epoch.</summary>
    public bool StopRequested { get; set; }

    /// <summary>Why the run stopped before its last epoch (null when it did not).</summary>
    public string? StopReason { get; set; }

    /// <summary>The metrics of every completed epoch.</summary>
    public List<EpochMetrics> History { get; } = [];

    /// <summary>
    /// Trains until <paramref name="epochs"/> epochs are complete (counting those of a restored state), a callback
    /// requests a stop, or <paramref name="cancellation"/> is signalled (checked after every batch).
    /// Returns true when the run ended normally (all epochs or early stopping), false when cancelled.
    /// </summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="ArgumentException">A restored state lies past <paramref name="epochs"/> or past the end of an epoch of <paramref name="train"/>.</exception>
    public bool Fit(DataLoader train, DataLoader? validation, int epochs, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (epochs <= 0) throw new ArgumentOutOfRangeException(nameof(epochs), $"Trainer.Fit: epochs must be positive, got {epochs}.");
        if (Epoch > epochs || (Epoch == epochs && _batchInEpoch > 0))
            throw new ArgumentOutOfRangeException(nameof(epochs), $"Trainer.Fit: the restored state is at epoch {Epoch}{(_batchInEpoch > 0 ? $" (and {_batchInEpoch} batches into the next)" : "")}, past the {epochs} epoch(s) of this run.");
        if (_batchInEpoch > train.BatchCount)
            throw new ArgumentException($"Trainer.Fit: the restored state is {_batchInEpoch} batches into epoch {Epoch + 1}, but the training loader has {train.BatchCount} batches per epoch.", nameof(train));
        if (Distributed is { } group)
        {
            if (train.Sampler is not { } sampler || sampler.NumReplicas != group.WorldSize || sampler.Rank != group.Rank)
                throw new ArgumentException($"Trainer.Fit: distributed training over {group.WorldSize} ranks needs a training loader with this rank's DistributedSampler (numReplicas {group.WorldSize}, rank {group.Rank}); it has {(train.Sampler is { } s ? $"one for rank {s.Rank} of {s.NumReplicas}" : "none")}.", nameof(train));
            if (_ddp is null || !ReferenceEquals(_ddp.ProcessGroup, group)) _ddp = new DistributedDataParallel(Model, group);
        }
        _trainLoader = train;
        if (_pendingLoaderState is not null)
        {
            train.Generator.SetState(_pendingLoaderState);
            _pendingLoaderState = null;
        }
        StopRequested = false;
        foreach (var c in Callbacks) c.OnTrainBegin(this);
        while (Epoch < epochs && !StopRequested)
        {
            int epoch = Epoch + 1;
            if (!RunEpoch(train, validation, epoch, epochs, cancellation))
            {
                StopReason = "cancelled";
                Progress?.OnStopped($"cancelled after epoch {epoch}, batch {_batchInEpoch}/{train.BatchCount}");
                foreach (var c in Callbacks) c.OnTrainEnd(this, cancelled: true);
                return false;
            }
        }
        if (StopRequested && StopReason is not null) Progress?.OnStopped(StopReason);
        foreach (var c in Callbacks) c.OnTrainEnd(this, cancelled: false);
        return true;
    }

    private bool RunEpoch(DataLoader train, DataLoader? validation, int epoch, int epochs, CancellationToken cancellation)
    {
        int skip = _batchInEpoch;
        if (skip > 0)
        {
            // resuming inside an epoch: replay the loader from the epoch's start (shuffle and transforms draw the same
            // numbers again) and skip the batches already trained on
            train.Generator.SetState(_epochLoaderState ?? throw new InvalidOperationException("Trainer: mid-epoch state without the loader's generator state."));
        }
        else
        {
            _epochLoaderState = train.Generator.GetState();
            _partial = default;
        }
        // the sampler's order depends on the epoch only, so a resumed epoch replays it
        train.Sampler?.SetEpoch(epoch - 1);
        int batches = train.BatchCount;
        Progress?.OnEpochStart(epoch, epochs, batches);
        Model.Train();
        var sw = Stopwatch.StartNew();
        long seenAtStart = _partial.Seen;
        int b = 0;
        foreach (var (x, y) in train.Epoch())
        {
            if (b < skip)
            {
                b++;
                continue;
            }
            var (jv, n, correct, stop) = BatchStep(x, y, cancellation);
            _partial = _partial with { Loss = _partial.Loss + jv * n, Correct = _partial.Correct + correct, Seen = _partial.Seen + n };
            b++;
            _batchInEpoch = b;
            foreach (var c in Callbacks) c.OnBatchEnd(this, jv);
            if (Progress is not null)
            {
                double elapsed = sw.Elapsed.TotalSeconds, rate = (_partial.Seen - seenAtStart) / Math.Max(elapsed, 1e-9);
                double perBatch = elapsed / (b - skip);
                double left = perBatch * ((batches - b) + (long)(epochs - epoch) * batches);
                Progress.OnBatchEnd(new BatchProgress(epoch, epochs, b, batches, _partial.Loss / _partial.Seen, (double)_partial.Correct / _partial.Seen,
                    Optimizer.LearningRate, rate, TimeSpan.FromSeconds(Math.Min(left, TimeSpan.MaxValue.TotalSeconds / 2))));
            }
            if (stop)
            {
                _partial = _partial with { Seconds = _partial.Seconds + sw.Elapsed.TotalSeconds };
                return false;
            }
        }
        double valLoss = double.NaN, valAcc = double.NaN;
        if (validation is not null) (valLoss, valAcc) = Evaluate(validation);
        double seconds = _partial.Seconds + sw.Elapsed.TotalSeconds;
        var m = new EpochMetrics(epoch, _partial.Loss / Math.Max(_partial.Seen, 1), (double)_partial.Correct / Math.Max(_partial.Seen, 1), valLoss, valAcc, Optimizer.LearningRate, seconds);
        _batchInEpoch = 0;
        _partial = default;
        _epochLoaderState = null;
        Epoch = epoch;
        if (Scheduler is ReduceLROnPlateau plateau) plateau.Step(validation is not null ? valLoss : m.TrainLoss);
        else if (ScheduleInterval == ScheduleInterval.Epoch) Scheduler?.Step();
        History.Add(m);
        Progress?.OnEpochEnd(m);
        foreach (var c in Callbacks) c.OnEpochEnd(this, m);
        return true;
    }

    /// <summary>
    /// One optimizer step on a batch, what <see cref="Fit"/> does for each: forward, loss, <c>Backward</c>, gradient
    /// clipping (<see cref="MaxGradNorm"/>), <c>Optimizer.Step</c>, and the scheduler when it steps per batch. Call it
    /// directly for a loop of your own (fresh random batches every step, no epochs). <see cref="Step"/> counts it.
    /// Shape: <paramref name="input"/> and <paramref name="target"/> as <see cref="Model"/> and <see cref="Loss"/> take them.
    /// </summary>
    /// <returns>The batch's loss and the model's output.</returns>
    /// <exception cref="TrainingDivergedException">The loss is NaN or infinite (no parameter was changed).</exception>
    public (double Loss, Tensor Output) TrainStep(Tensor input, Tensor target)
    {
        var (jv, _, _, _, output) = StepCore(input, target, countCorrect: false);
        return (jv, output);
    }

    // one step, with the loss (the mean over all ranks' samples when distributed), the samples, the correct count, and
    // whether to stop (when distributed: whether any rank was cancelled, so all stop after the same batch)
    private (double Loss, long Samples, long Correct, bool Stop) BatchStep(Tensor input, Tensor target, CancellationToken cancellation)
    {
        var (jv, n, correct, stop, _) = StepCore(input, target, countCorrect: true, cancellation);
        return (jv, n, correct, stop);
    }

    private (double Loss, long Samples, long Correct, bool Stop, Tensor Output) StepCore(Tensor input, Tensor target, bool countCorrect,
        CancellationToken cancellation = default)
    {
        // one profiler event per step; the data loading between steps stays outside it
        using var profiled = Diagnostics.Profiler.Scope("Trainer.Step");
        var output = (_ddp is not null && Distributed is not null ? _ddp : Model).Call(input);
        var j = Loss(output, target);
        double jv = j.Item();
        long n = input.Size(0), correct = countCorrect ? Metrics.Correct(output, target) : 0;
        bool stop = false;
        if (Distributed is { } group)
        {
            // sum over the ranks before the check, so a loss that diverges on one rank stops every rank at this step
            var sums = Tensor.FromArray([jv * n, n, correct, cancellation.IsCancellationRequested ? 1 : 0], 4);
            group.AllReduce(sums);
            (jv, n, correct) = (sums[0] / sums[1], (long)sums[1], (long)sums[2]);
            stop = sums[3] > 0;
        }
        if (!double.IsFinite(jv)) throw new TrainingDivergedException(Epoch + 1, Step + 1, jv, Optimizer.LearningRate);
        Optimizer.ZeroGrad();
        j.Backward();
        if (MaxGradNorm is double max) Utils.ClipGradNorm(Model.Parameters(), max);
        Optimizer.Step();
        Step++;
        if (ScheduleInterval == ScheduleInterval.Batch && Scheduler is not null and not ReduceLROnPlateau) Scheduler.Step();
        if (Distributed is null) stop = cancellation.IsCancellationRequested;
        return (jv, n, correct, stop, output);
    }

    /// <summary>Mean loss and accuracy of the model on <paramref name="data"/>, in evaluation mode, without a graph.</summary>
    public (double Loss, double Accuracy) Evaluate(DataLoader data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Metrics.Evaluate(Model, Loss, data);
    }
}

/// <summary>The loss became NaN or infinite: the learning rate is too high for the model.</summary>
public sealed class TrainingDivergedException(int epoch, long step, double loss, double learningRate)
    : InvalidOperationException($"the loss became {loss} at epoch {epoch}, step {step} (learning rate {learningRate:G4}); lower the learning rate.")
{
    /// <summary>The epoch, from 1.</summary>
    public int Epoch { get; } = epoch;

    /// <summary>The optimizer step of the run, from 1.</summary>
    public long Step { get; } = step;

    /// <summary>The loss value (NaN or infinite).</summary>
    public double Loss { get; } = loss;
}
