namespace Nabla.Optim.Schedulers;

/// <summary>
/// Linear warm-up (or decay) of each group's lr by a factor going from <see cref="StartFactor"/> to
/// <see cref="EndFactor"/> over <see cref="TotalIters"/> steps, then constant (PyTorch's <c>LinearLR</c>):
/// λₜ = λ₀·(s + (e − s)·min(t, T)/T), computed with PyTorch's recursive form.
/// </summary>
public sealed class LinearLR : LRScheduler
{
    /// <summary>Creates the schedule and applies its epoch-0 rate.</summary>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5, int lastEpoch = -1) : base(optimizer, "LinearLR")
    {
        if (!(startFactor > 0 && startFactor <= 1)) throw new ArgumentOutOfRangeException(nameof(startFactor), $"LinearLR: start_factor must be in (0, 1], got {startFactor}.");
        if (!(endFactor >= 0 && endFactor <= 1)) throw new ArgumentOutOfRangeException(nameof(endFactor), $"LinearLR: end_factor must be in [0, 1], got {endFactor}.");
        if (totalIters <= 0) throw new ArgumentOutOfRangeException(nameof(totalIters), $"LinearLR: total_iters must be > 0, got {totalIters}.");
        StartFactor = startFactor;
        EndFactor = endFactor;
        TotalIters = totalIters;
        InitBaseLrs(lastEpoch);
        InitialStep();
    }

    /// <summary>Factor s applied at step 0.</summary>
    public double StartFactor { get; }

    /// <summary>Factor e reached at step <see cref="TotalIters"/>.</summary>
    public double EndFactor { get; }

    /// <summary>Number of steps T of the ramp.</summary>
    public int TotalIters { get; }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        var lrs = GroupLrs();
        if (LastEpoch == 0) return lrs.Select(lr => lr * StartFactor).ToArray();
        if (LastEpoch > TotalIters) return lrs;
        double d = EndFactor - StartFactor;
        return lrs.Select(lr => lr * (1.0 + d / (TotalIters * StartFactor + (LastEpoch - 1) * d))).ToArray();
    }

    /// <inheritdoc/>
    protected internal override double[] ClosedFormLr() =>
        BaseLrs.Select(b => b * (StartFactor + (EndFactor - StartFactor) * Math.Min(TotalIters, LastEpoch) / TotalIters)).ToArray();

    /// <inheritdoc/>
    protected override void SaveState(IDictionary<string, double> state)
    {
        state["start_factor"] = StartFactor;
        state["end_factor"] = EndFactor;
        state["total_iters"] = TotalIters;
    }

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply)
    {
        Expect(state, "start_factor", StartFactor, errors);
        Expect(state, "end_factor", EndFactor, errors);
        Expect(state, "total_iters", TotalIters, errors);
    }
}
