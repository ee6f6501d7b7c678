namespace Nabla.Optim.Schedulers;

/// <summary>
/// Cosine annealing from each group's initial lr down to <see cref="EtaMin"/> over <see cref="TMax"/> epochs
/// (PyTorch's <c>CosineAnnealingLR</c>, without restarts; past T_max it rises again as PyTorch's does):
/// λₜ = η_min + (λ₀ − η_min)·(1 + cos(πt/T_max))/2, computed with PyTorch's recursive form.
/// </summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    /// <summary>Creates the schedule and applies its epoch-0 rate.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0, int lastEpoch = -1) : base(optimizer, "CosineAnnealingLR")
    {
        if (tMax <= 0) throw new ArgumentOutOfRangeException(nameof(tMax), $"CosineAnnealingLR: T_max must be > 0, got {tMax}.");
        TMax = tMax;
        EtaMin = SchedulerChecks.Finite("CosineAnnealingLR", "eta_min", etaMin);
        InitBaseLrs(lastEpoch);
        InitialStep();
    }

    /// <summary>Half-period T_max in epochs.</summary>
    public int TMax { get; }

    /// <summary>Minimum learning rate η_min.</summary>
    public double EtaMin { get; }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        var lrs = GroupLrs();
        int t = LastEpoch;
        if (t == 0) return lrs;
        if (StepCount == 1 && t > 0) return ClosedFormLr();
        if ((t - 1 - TMax) % (2 * TMax) == 0)
            return lrs.Select((lr, i) => lr + (BaseLrs[i] - EtaMin) * (1 - Math.Cos(Math.PI / TMax)) / 2).ToArray();
        return lrs.Select(lr => (1 + Math.Cos(Math.PI * t / TMax)) / (1 + Math.Cos(Math.PI * (t - 1) / TMax)) * (lr - EtaMin) + EtaMin).ToArray();
    }

    /// <inheritdoc/>
    protected internal override double[] ClosedFormLr() =>
        BaseLrs.Select(b => EtaMin + (b - EtaMin) * (1 + Math.Cos(Math.PI * LastEpoch / TMax)) / 2).ToArray();

    /// <inheritdoc/>
    protected override void SaveState(IDictionary<string, double> state)
    {
        state["T_max"] = TMax;
        state["eta_min"] = EtaMin;
    }

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply)
    {
        Expect(state, "T_max", TMax, errors);
        Expect(state, "eta_min", EtaMin, errors);
    }
}
