namespace Nabla.Optim.Schedulers;

/// <summary>
/// Runs schedules one after another, switching at the milestone steps (PyTorch's <c>SequentialLR</c>), e.g. a
/// <see cref="LinearLR"/> warm-up of 5 epochs then <see cref="CosineAnnealingLR"/>: <c>new SequentialLR(opt, [warmup, cosine], [5])</c>.
/// At a milestone the next schedule restarts at its epoch 0 (its closed form), as PyTorch 1.13 does.
/// Its state dict holds its own counters and each child's under <c>_schedulers.{i}.</c>.
/// </summary>
public sealed class SequentialLR : LRScheduler
{
    private readonly LRScheduler[] _schedulers;
    private readonly int[] _milestones;

    /// <summary>Creates the sequence; the schedulers must be built on <paramref name="optimizer"/> just before.</summary>
    public SequentialLR(Optimizer optimizer, IReadOnlyList<LRScheduler> schedulers, IReadOnlyList<int> milestones, int lastEpoch = -1) : base(optimizer, "SequentialLR")
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        ArgumentNullException.ThrowIfNull(milestones);
        if (schedulers.Count == 0) throw new ArgumentException("SequentialLR: needs at least one scheduler.");
        if (milestones.Count != schedulers.Count - 1)
            throw new ArgumentException($"SequentialLR: expected {schedulers.Count - 1} milestones for {schedulers.Count} schedulers, got {milestones.Count}.");
        for (int i = 0; i < schedulers.Count; i++)
        {
            if (!ReferenceEquals(schedulers[i].Optimizer, optimizer)) throw new ArgumentException($"SequentialLR: scheduler {i} belongs to a different optimizer.");
            if (schedulers[i] is ReduceLROnPlateau or SequentialLR) throw new ArgumentException($"SequentialLR: scheduler {i} ({schedulers[i].Name}) cannot be sequenced.");
        }
        _schedulers = [.. schedulers];
        _milestones = [.. milestones];
        LastEpoch = lastEpoch + 1;
        foreach (var g in optimizer.ParamGroups) g.LearningRate = g["initial_lr"];
        foreach (var s in _schedulers) s.ShiftLastEpoch(-1);
        _schedulers[0].InitialStepPublic();
        Apply([.. _schedulers[0].LastLr]);
        BaseLrsFromChild();
    }

    private void BaseLrsFromChild() => InitBaseLrs(LastEpoch);

    /// <summary>The sequenced schedulers.</summary>
    public IReadOnlyList<LRScheduler> Schedulers => _schedulers;

    /// <summary>The steps at which the next scheduler takes over.</summary>
    public IReadOnlyList<int> Milestones => _milestones;

    /// <inheritdoc/>
    public override void Step()
    {
        LastEpoch++;
        StepCount++;
        int idx = _milestones.Count(m => m <= LastEpoch);
        var s = _schedulers[idx];
        if (idx > 0 && _milestones[idx - 1] == LastEpoch) s.RestartAt(0);
        else s.Step();
        Apply([.. s.LastLr]);
    }

    /// <inheritdoc/>
    protected override double[] GetLr() => [.. _schedulers[_milestones.Count(m => m <= LastEpoch)].LastLr];

    /// <inheritdoc/>
    protected override void SaveState(IDictionary<string, double> state)
    {
        for (int i = 0; i < _milestones.Length; i++) state[$"_milestones.{i}"] = _milestones[i];
        for (int i = 0; i < _schedulers.Length; i++)
            foreach (var (k, t) in _schedulers[i].StateDict()) state[$"_schedulers.{i}.{k}"] = t.Item();
    }

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply)
    {
        if (!apply)
        {
            for (int i = 0; i < _milestones.Length; i++) Expect(state, $"_milestones.{i}", _milestones[i], errors);
        }
        for (int i = 0; i < _schedulers.Length; i++)
        {
            string prefix = $"_schedulers.{i}.";
            var child = state.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[prefix.Length..], kv => Tensor.Scalar(kv.Value, DType.Float64), StringComparer.Ordinal);
            if (!apply)
            {
                // a trial load on the child checks it without changing it
                try { _schedulers[i].CheckStateDict(child); }
                catch (ArgumentException e) { errors.Add($"scheduler {i}: {e.Message}"); }
            }
            else _schedulers[i].LoadStateDict(child);
        }
    }
}
