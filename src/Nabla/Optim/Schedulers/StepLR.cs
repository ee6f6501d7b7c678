namespace Nabla.Optim.Schedulers;

/// <summary>
/// Multiplies each group's lr by <see cref="Gamma"/> every <see cref="StepSize"/> epochs (PyTorch's <c>StepLR</c>):
/// λₜ = λ₀·γ^⌊t/step_size⌋.
/// </summary>
public sealed class StepLR : LRScheduler
{
    /// <summary>Creates the schedule and applies its epoch-0 rate.</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1, int lastEpoch = -1) : base(optimizer, "StepLR")
    {
        if (stepSize <= 0) throw new ArgumentOutOfRangeException(nameof(stepSize), $"StepLR: step_size must be > 0, got {stepSize}.");
        StepSize = stepSize;
        Gamma = SchedulerChecks.Finite("StepLR", "gamma", gamma);
        InitBaseLrs(lastEpoch);
        InitialStep();
    }

    /// <summary>Epochs between decays.</summary>
    public int StepSize { get; }

    /// <summary>Decay factor γ.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        var lrs = GroupLrs();
        if (LastEpoch == 0 || LastEpoch % StepSize != 0) return lrs;
        return lrs.Select(lr => lr * Gamma).ToArray();
    }

    /// <inheritdoc/>
    protected internal override double[] ClosedFormLr() => BaseLrs.Select(b => b * Math.Pow(Gamma, LastEpoch / StepSize)).ToArray();

    /// <inheritdoc/>
    protected override void SaveState(IDictionary<string, double> state)
    {
        state["step_size"] = StepSize;
        state["gamma"] = Gamma;
    }

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply)
    {
        Expect(state, "step_size", StepSize, errors);
        Expect(state, "gamma", Gamma, errors);
    }
}

/// <summary>
/// Multiplies each group's lr by <see cref="Gamma"/> at each milestone epoch (PyTorch's <c>MultiStepLR</c>; a
/// milestone listed twice decays twice): λₜ = λ₀·γ^(number of milestones ≤ t).
/// </summary>
public sealed class MultiStepLR : LRScheduler
{
    private readonly int[] _milestones;

    /// <summary>Creates the schedule and applies its epoch-0 rate.</summary>
    public MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1, int lastEpoch = -1) : base(optimizer, "MultiStepLR")
    {
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = milestones.Order().ToArray();
        Gamma = SchedulerChecks.Finite("MultiStepLR", "gamma", gamma);
        InitBaseLrs(lastEpoch);
        InitialStep();
    }

    /// <summary>The milestone epochs, sorted.</summary>
    public IReadOnlyList<int> Milestones => _milestones;

    /// <summary>Decay factor γ.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override double[] GetLr()
    {
        int count = _milestones.Count(m => m == LastEpoch);
        var lrs = GroupLrs();
        if (count == 0) return lrs;
        return lrs.Select(lr => lr * Math.Pow(Gamma, count)).ToArray();
    }

    /// <inheritdoc/>
    protected internal override double[] ClosedFormLr()
    {
        int passed = _milestones.Count(m => m <= LastEpoch);
        return BaseLrs.Select(b => b * Math.Pow(Gamma, passed)).ToArray();
    }

    /// <inheritdoc/>
    protected override void SaveState(IDictionary<string, double> state)
    {
        state["gamma"] = Gamma;
        for (int i = 0; i < _milestones.Length; i++) state[$"milestones.{i}"] = _milestones[i];
    }

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply)
    {
        Expect(state, "gamma", Gamma, errors);
        for (int i = 0; i < _milestones.Length; i++) Expect(state, $"milestones.{i}", _milestones[i], errors);
    }
}

/// <summary>Multiplies each group's lr by <see cref="Gamma"/> every epoch (PyTorch's <c>ExponentialLR</c>): λₜ = λ₀·γᵗ.</summary>
public sealed class ExponentialLR : LRScheduler
{
    /// <summary>Creates the schedule and applies its epoch-0 rate.</summary>
    public ExponentialLR(Optimizer optimizer, double gamma, int lastEpoch = -1) : base(optimizer, "ExponentialLR")
    {
        Gamma = SchedulerChecks.Finite("ExponentialLR", "gamma", gamma);
        InitBaseLrs(lastEpoch);
        InitialStep();
    }

    /// <summary>Decay factor γ.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override double[] GetLr() => LastEpoch == 0 ? GroupLrs() : GroupLrs().Select(lr => lr * Gamma).ToArray();

    /// <inheritdoc/>
    protected internal override double[] ClosedFormLr() => BaseLrs.Select(b => b * Math.Pow(Gamma, LastEpoch)).ToArray();

    /// <inheritdoc/>
    protected override void SaveState(IDictionary<string, double> state) => state["gamma"] = Gamma;

    /// <inheritdoc/>
    protected override void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply) => Expect(state, "gamma", Gamma, errors);
}

internal static class SchedulerChecks
{
    public static double Finite(string scheduler, string name, double v) =>
        double.IsFinite(v) && v >= 0 ? v : throw new ArgumentOutOfRangeException(name, $"{scheduler}: {name} must be finite and ≥ 0, got {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
}
