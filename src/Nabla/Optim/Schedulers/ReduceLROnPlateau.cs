namespace Nabla.Optim.Schedulers;

/// <summary>Whether <see cref="ReduceLROnPlateau"/> wants the metric to go down (a loss) or up (an accuracy).</summary>
public enum PlateauMode
{
    /// <summary>Lower is better.</summary>
    Min,
    /// <summary>Higher is better.</summary>
    Max,
}

/// <summary>How <see cref="ReduceLROnPlateau"/> measures a significant improvement.</summary>
public enum ThresholdMode
{
    /// <summary>Better than best·(1 ∓ threshold).</summary>
    Rel,
    /// <summary>Better than best ∓ threshold.</summary>
    Abs,
}

/// <summary>
/// Multiplies each group's lr by <see cref="Factor"/> (not below its min_lr) once the metric has not improved for more
/// than <see cref="Patience"/> epochs, then waits <see cref="Cooldown"/> epochs (PyTorch's <c>ReduceLROnPlateau</c>).
/// Call <see cref="Step(double)"/> with the metric each epoch; the plain <see cref="Step()"/> throws. A reduction smaller
/// than eps is skipped, as PyTorch does.
/// </summary>
public sealed class ReduceLROnPlateau : LRScheduler
{
    private readonly double[] _minLrs;

    /// <summary>Creates the scheduler (it does not change the lr until a plateau).</summary>
    public ReduceLROnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10, double threshold = 1e-4,
        ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0, double minLr = 0, double eps = 1e-8)
        : this(optimizer, Enumerable.Repeat(minLr, optimizer?.ParamGroups.Count ?? 0).ToArray(), mode, factor, patience, threshold, thresholdMode, cooldown, eps) { }

    /// <summary>Creates the scheduler with a minimum lr per group.</summary>
    public ReduceLROnPlateau(Optimizer optimizer, double[] minLrs, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10, double threshold = 1e-4,
        ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0, double eps = 1e-8) : base(optimizer, "ReduceLROnPlateau")
    {
        ArgumentNullException.ThrowIfNull(minLrs);
        if (!(factor < 1 && factor >= 0)) throw new ArgumentOutOfRangeException(nameof(factor), $"ReduceLROnPlateau: factor must be in [0, 1), got {factor}.");
        if (minLrs.Length != optimizer.ParamGroups.Count) throw new ArgumentException($"ReduceLROnPlateau: expected {optimizer.ParamGroups.Count} min_lrs, got {minLrs.Length}.");
        foreach (double m in minLrs) SchedulerChecks.Finite(Name, "min_lr", m);
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), $"ReduceLROnPlateau: patience must be ≥ 0, got {patience}.");
        if (cooldown < 0) throw new ArgumentOutOfRangeException(nameof(cooldown), $"ReduceLROnPlateau: cooldown must be ≥ 0, got {cooldown}.");
        Mode = mode;
        Factor = factor;
        Patience = patience;
        Threshold = SchedulerChecks.Finite(Name, "threshold", threshold);
        ThresholdMode = thresholdMode;
        Cooldown = cooldown;
        Eps = SchedulerChecks.Finite(Name, "eps", eps);
        _minLrs = (double[])minLrs.Clone();
        Best = mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;
        LastEpoch = 0;
        RecordLastLr();
    }

    /// <summary>Whether lower or higher metric values are better.</summary>
    public PlateauMode Mode { get; }

    /// <summary>Multiplier applied to the lr on a plateau.</summary>
    public double Factor { get; }

    /// <summary>Epochs without improvement tolerated before reducing.</summary>
    public int Patience { get; }

    /// <summary>Minimum significant change.</summary>
    public double Threshold { get; }

    /// <summary>Relative or absolute threshold.</summary>
    public ThresholdMode ThresholdMode { get; }

    /// <summary>Epochs to wait after a reduction before counting bad epochs again.</summary>
    public int Cooldown { get; }

    /// <summary>Smallest lr change applied.</summary>
    public double Eps { get; }

    /// <summary>Each group's lower bound.</summary>
    public IReadOnlyList<double> MinLrs => _minLrs;

    /// <summary>The best metric seen (±∞ before the first step).</summary>
    public double Best { get; private set; }

    /// <summary>Consecutive epochs without a significant improvement.</summary>
    public int NumBadEpochs { get; private set; }

    /// <summary>Epochs of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    /// <summary>Not used: call <see cref="Step(double)"/> with the metric.</summary>
    /// <exception cref="InvalidOperationException">Always.</exception>
    public override void Step() =>
        throw new InvalidOperationException("ReduceLROnPlateau.Step: this schedule needs the monitored metric; call Step(metric).");

    /// <summary>Records this epoch's <paramref name="metric"/> and reduces the lr after a plateau.</summary>
    public void Step(double metric)
    {
        LastEpoch++;
        StepCount++;
        if (IsBetter(metric, Best))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else NumBadEpochs++;
        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            NumBadEpochs = 0; // ignore bad epochs in cooldown
        }
        if (NumBadEpochs > Patience)
        {
            var groups = Optimizer.ParamGroups;
            for (int i = 0; i < groups.Count; i++)
            {
                double old = groups[i].LearningRate, next = Math.Max(old * Factor, _minLrs[i]);
                if (old - next > Eps) groups[i].LearningRate = next;
            }
            CooldownCounter = Cooldown;
            NumBadEpochs = 0;
        }
        RecordLastLr();
    }

    private bool IsBetter(double a, double best) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => a < best * (1 - Threshold),
        (PlateauMode.Min, ThresholdMode.Abs) => a < best - Threshold,
        (PlateauMode.Max, ThresholdMode.Rel) => a > best * (Threshold + 1),
        _ => a > best + Threshold,
    };

    /// <inheritdoc/>
    protected override double[] GetLr() => GroupLrs();

    /// <inheritdoc/>
    protected override void SaveState(IDictionary<string, double> state)
    {
        state["mode"] = (double)Mode;
        state["factor"] = Factor;
        state["patience"] = Patience;
        state["threshold"] = Threshold;
        state["threshold_mode"] = (double)ThresholdMode;
        state["cooldown"] = Cooldown;
        state["eps"] = Eps;
        for (int i = 0; i < _minLrs.Length; i++) state[$"min_lrs.{i}"] = _minLrs[i];
        state["best"] = Best;
        state["num_bad_epochs"] = NumBadEpochs;
        state["cooldown_counter"] = CooldownCounter;
    }

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply)
    {
        if (apply)
        {
            Best = state["best"];
            NumBadEpochs = (int)state["num_bad_epochs"];
            CooldownCounter = (int)state["cooldown_counter"];
            return;
        }
        Expect(state, "mode", (double)Mode, errors);
        Expect(state, "factor", Factor, errors);
        Expect(state, "patience", Patience, errors);
        Expect(state, "threshold", Threshold, errors);
        Expect(state, "threshold_mode", (double)ThresholdMode, errors);
        Expect(state, "cooldown", Cooldown, errors);
        Expect(state, "eps", Eps, errors);
        for (int i = 0; i < _minLrs.Length; i++) Expect(state, $"min_lrs.{i}", _minLrs[i], errors);
        double best = Read(state, "best", errors);
        if (double.IsNaN(best)) errors.Add("'best' is NaN");
        foreach (var k in (string[])["num_bad_epochs", "cooldown_counter"])
        {
            double v = Read(state, k, errors);
            if (!(v >= 0 && v <= int.MaxValue && v == Math.Floor(v))) errors.Add($"'{k}' must be a whole number ≥ 0, got {v}");
        }
    }
}
