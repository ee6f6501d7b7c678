namespace Nabla.Optim.Schedulers;

/// <summary>How <see cref="OneCycleLR"/> moves between two rates within a phase.</summary>
public enum AnnealStrategy
{
    /// <summary>end + (start − end)/2·(1 + cos(π·pct)).</summary>
    Cos,
    /// <summary>start + (end − start)·pct.</summary>
    Linear,
}

/// <summary>
/// The 1cycle policy (PyTorch's <c>OneCycleLR</c>), stepped once per BATCH for <see cref="TotalSteps"/> steps: the lr
/// rises from max_lr/div_factor to max_lr over the first pct_start of the steps, then anneals to
/// initial_lr/final_div_factor (three_phase: back down to initial_lr by 2·pct_start, then to the minimum). With
/// cycle_momentum the momentum (SGD's <c>momentum</c>, Adam's <c>betas.0</c>) moves inversely between
/// base_momentum and max_momentum. Sets group options <c>initial_lr</c>, <c>max_lr</c>, <c>min_lr</c>,
/// <c>max_momentum</c>, <c>base_momentum</c> as PyTorch does. Stepping past <see cref="TotalSteps"/> throws.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly (double EndStep, string StartLr, string EndLr, string StartMom, string EndMom)[] _phases;
    private readonly bool _useBeta1;

    /// <summary>Creates the schedule and applies its step-0 rate.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="maxLr">Peak learning rate (every group).</param>
    /// <param name="totalSteps">Total number of <see cref="LRScheduler.Step"/> calls planned (epochs × batches per epoch).</param>
    /// <param name="pctStart">Fraction of the steps spent increasing the lr.</param>
    /// <param name="annealStrategy">Cosine or linear annealing.</param>
    /// <param name="cycleMomentum">Whether to cycle momentum inversely to the lr.</param>
    /// <param name="baseMomentum">Lowest momentum (at the peak lr).</param>
    /// <param name="maxMomentum">Highest momentum (at the start and end).</param>
    /// <param name="divFactor">initial_lr = max_lr / div_factor.</param>
    /// <param name="finalDivFactor">min_lr = initial_lr / final_div_factor.</param>
    /// <param name="threePhase">Use the three-phase variant.</param>
    /// <param name="lastEpoch">−1 to start; otherwise the step to resume from (groups must hold the options).</param>
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos,
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4,
        bool threePhase = false, int lastEpoch = -1) : base(optimizer, "OneCycleLR")
    {
        if (totalSteps <= 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), $"OneCycleLR: total_steps must be > 0, got {totalSteps}.");
        if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), $"OneCycleLR: pct_start must be in [0, 1], got {pctStart}.");
        SchedulerChecks.Finite(Name, "max_lr", maxLr);
        if (!(divFactor > 0 && double.IsFinite(divFactor))) throw new ArgumentOutOfRangeException(nameof(divFactor), $"OneCycleLR: div_factor must be finite and > 0, got {divFactor}.");
        if (!(finalDivFactor > 0 && double.IsFinite(finalDivFactor))) throw new ArgumentOutOfRangeException(nameof(finalDivFactor), $"OneCycleLR: final_div_factor must be finite and > 0, got {finalDivFactor}.");
        TotalSteps = totalSteps;
        PctStart = pctStart;
        Anneal = annealStrategy;
        CycleMomentum = cycleMomentum;
        DivFactor = divFactor;
        FinalDivFactor = finalDivFactor;
        ThreePhase = threePhase;
        _phases = threePhase
            ?
            [
                (pctStart * totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (2 * pctStart * totalSteps - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (totalSteps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
            :
            [
                (pctStart * totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (totalSteps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ];
        var groups = optimizer.ParamGroups;
        if (lastEpoch == -1)
            foreach (var g in groups)
            {
                g["initial_lr"] = maxLr / divFactor;
                g["max_lr"] = maxLr;
                g["min_lr"] = g["initial_lr"] / finalDivFactor;
            }
        if (cycleMomentum)
        {
            if (!optimizer.Defaults.ContainsKey("momentum") && !optimizer.Defaults.ContainsKey("betas.0"))
                throw new ArgumentException($"OneCycleLR: {optimizer.Name} has no momentum or betas to cycle; pass cycleMomentum: false.");
            _useBeta1 = optimizer.Defaults.ContainsKey("betas.0");
            if (lastEpoch == -1)
                foreach (var g in groups)
                {
                    g[_useBeta1 ? "betas.0" : "momentum"] = maxMomentum;
                    g["max_momentum"] = maxMomentum;
                    g["base_momentum"] = baseMomentum;
                }
        }
        InitBaseLrs(lastEpoch);
        InitialStep();
    }

    /// <summary>Total number of steps of the cycle.</summary>
    public int TotalSteps { get; }

    /// <summary>Fraction of the cycle spent increasing the lr.</summary>
    public double PctStart { get; }

    /// <summary>Cosine or linear annealing.</summary>
    public AnnealStrategy Anneal { get; }

    /// <summary>Whether momentum is cycled.</summary>
    public bool CycleMomentum { get; }

    /// <summary>initial_lr = max_lr / div_factor.</summary>
    public double DivFactor { get; }

    /// <summary>min_lr = initial_lr / final_div_factor.</summary>
    public double FinalDivFactor { get; }

    /// <summary>Whether the three-phase variant is used.</summary>
    public bool ThreePhase { get; }

    private double AnnealValue(double start, double end, double pct) =>
        Anneal == AnnealStrategy.Cos ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1) : (end - start) * pct + start;

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        int stepNum = LastEpoch;
        if (stepNum > TotalSteps)
            throw new InvalidOperationException($"OneCycleLR: tried to step {stepNum + 1} times; the schedule has total_steps = {TotalSteps}.");
        var groups = Optimizer.ParamGroups;
        var lrs = new double[groups.Count];
        for (int gi = 0; gi < groups.Count; gi++)
        {
            var g = groups[gi];
            double startStep = 0, lr = 0, mom = 0;
            for (int i = 0; i < _phases.Length; i++)
            {
                var ph = _phases[i];
                if (stepNum <= ph.EndStep || i == _phases.Length - 1)
                {
                    double pct = (stepNum - startStep) / (ph.EndStep - startStep);
                    lr = AnnealValue(g[ph.StartLr], g[ph.EndLr], pct);
                    if (CycleMomentum) mom = AnnealValue(g[ph.StartMom], g[ph.EndMom], pct);
                    break;
                }
                startStep = ph.EndStep;
            }
            lrs[gi] = lr;
            if (CycleMomentum) g[_useBeta1 ? "betas.0" : "momentum"] = mom;
        }
        return lrs;
    }

    /// <inheritdoc/>
    protected override void SaveState(IDictionary<string, double> state)
    {
        state["total_steps"] = TotalSteps;
        state["pct_start"] = PctStart;
        state["anneal_strategy"] = (double)Anneal;
        state["cycle_momentum"] = CycleMomentum ? 1 : 0;
        state["div_factor"] = DivFactor;
        state["final_div_factor"] = FinalDivFactor;
        state["three_phase"] = ThreePhase ? 1 : 0;
    }

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply)
    {
        Expect(state, "total_steps", TotalSteps, errors);
        Expect(state, "pct_start", PctStart, errors);
        Expect(state, "anneal_strategy", (double)Anneal, errors);
        Expect(state, "cycle_momentum", CycleMomentum ? 1 : 0, errors);
        Expect(state, "div_factor", DivFactor, errors);
        Expect(state, "final_div_factor", FinalDivFactor, errors);
        Expect(state, "three_phase", ThreePhase ? 1 : 0, errors);
    }
}
