using System.Globalization;

namespace Nabla.Optim.Schedulers;

/// <summary>
/// Changes the learning rate of an optimizer's groups between steps, as PyTorch's <c>torch.optim.lr_scheduler</c>.
/// Construct it after the optimizer (construction already applies the epoch-0 rate, as PyTorch), call
/// <see cref="Step"/> once per epoch (or per batch for OneCycleLR) after <c>optimizer.Step()</c>, read
/// <see cref="LastLr"/>. The rates follow PyTorch's recursive (chainable) forms, so they match torch step for step.
/// </summary>
public abstract class LRScheduler
{
    private double[] _lastLr = [];

    /// <summary>Creates the scheduler. Epoch-based schedules call <see cref="InitBaseLrs"/> and <see cref="InitialStep"/>.</summary>
    protected LRScheduler(Optimizer optimizer, string name)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        Name = name;
    }

    /// <summary>The optimizer whose group learning rates are scheduled.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The scheduler's name for messages.</summary>
    public string Name { get; }

    /// <summary>The number of <see cref="Step"/> calls since the start (0 right after construction; PyTorch's <c>last_epoch</c>).</summary>
    public int LastEpoch { get; protected set; }

    /// <summary>The number of steps taken including the one at construction (PyTorch's <c>_step_count</c>).</summary>
    public int StepCount { get; protected set; }

    /// <summary>Each group's <c>initial_lr</c> (PyTorch's <c>base_lrs</c>).</summary>
    public IReadOnlyList<double> BaseLrs { get; private set; } = [];

    /// <summary>The learning rate of each group set by the last step (PyTorch's <c>get_last_lr()</c>).</summary>
    public IReadOnlyList<double> LastLr => _lastLr;

    /// <summary>
    /// PyTorch's base constructor: with <paramref name="lastEpoch"/> = −1 each group's <c>initial_lr</c> defaults to its
    /// <c>lr</c>; otherwise (resuming) every group must already have <c>initial_lr</c>.
    /// </summary>
    protected void InitBaseLrs(int lastEpoch)
    {
        var groups = Optimizer.ParamGroups;
        if (lastEpoch < -1) throw new ArgumentOutOfRangeException(nameof(lastEpoch), $"{Name}: last_epoch must be ≥ −1, got {lastEpoch}.");
        for (int i = 0; i < groups.Count; i++)
        {
            if (lastEpoch == -1) groups[i].SetDefault("initial_lr", groups[i].LearningRate);
            else if (!groups[i].Has("initial_lr"))
                throw new ArgumentException($"{Name}: param_groups[{i}] has no 'initial_lr' when resuming (last_epoch = {lastEpoch}); load the optimizer state first.");
        }
        BaseLrs = groups.Select(g => g["initial_lr"]).ToArray();
        LastEpoch = lastEpoch;
    }

    /// <summary>PyTorch's <c>_initial_step</c>: the first step, made at the end of construction.</summary>
    protected void InitialStep()
    {
        StepCount = 0;
        Step();
    }

    /// <summary>Advances one epoch (or batch) and sets each group's learning rate.</summary>
    public virtual void Step()
    {
        StepCount++;
        LastEpoch++;
        Apply(GetLr());
    }

    /// <summary>Sets each group's lr to <paramref name="lrs"/> and records them as <see cref="LastLr"/>.</summary>
    protected void Apply(double[] lrs)
    {
        var groups = Optimizer.ParamGroups;
        for (int i = 0; i < groups.Count; i++) groups[i]["lr"] = lrs[i];
        _lastLr = lrs;
    }

    /// <summary>Records the groups' current learning rates as <see cref="LastLr"/>.</summary>
    protected void RecordLastLr() => _lastLr = Optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>The learning rates for the current <see cref="LastEpoch"/>, PyTorch's <c>get_lr()</c> (recursive form: reads each group's lr).</summary>
    protected abstract double[] GetLr();

    /// <summary>The closed-form rates at <see cref="LastEpoch"/> (PyTorch's <c>_get_closed_form_lr</c>), used by <see cref="SequentialLR"/>.</summary>
    protected internal virtual double[] ClosedFormLr() => GetLr();

    internal void RestartAt(int epoch)
    {
        // PyTorch's deprecated step(epoch) path, which SequentialLR uses at each milestone
        StepCount++;
        LastEpoch = epoch;
        Apply(ClosedFormLr());
    }

    internal void ShiftLastEpoch(int delta) => LastEpoch += delta;

    /// <summary>Each group's learning rate from its options.</summary>
    protected double[] GroupLrs() => Optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>Writes the scheduler-specific values (hyper-parameters and counters) under PyTorch attribute names.</summary>
    protected virtual void SaveState(IDictionary<string, double> state) { }

    /// <summary>
    /// Reads what <see cref="SaveState"/> wrote. Hyper-parameters must equal this scheduler's (a mismatch is added to
    /// <paramref name="errors"/>: resuming with a different schedule is a mistake to report, not to follow);
    /// counters are restored only when <paramref name="apply"/> is true (after all checks passed).
    /// </summary>
    protected virtual void LoadState(IReadOnlyDictionary<string, double> state, List<string> errors, bool apply) { }

    /// <summary>Checks that the saved hyper-parameter <paramref name="key"/> equals <paramref name="expected"/>.</summary>
    protected static void Expect(IReadOnlyDictionary<string, double> state, string key, double expected, List<string> errors)
    {
        if (!state.TryGetValue(key, out double v)) errors.Add($"missing key '{key}'");
        else if (!v.Equals(expected)) errors.Add($"'{key}' is {v.ToString(CultureInfo.InvariantCulture)} in the state dict but {expected.ToString(CultureInfo.InvariantCulture)} in this scheduler");
    }

    /// <summary>Reads a saved value, adding an error when it is absent.</summary>
    protected static double Read(IReadOnlyDictionary<string, double> state, string key, List<string> errors)
    {
        if (state.TryGetValue(key, out double v)) return v;
        errors.Add($"missing key '{key}'");
        return 0;
    }

    /// <summary>
    /// The scheduler state as float64 scalars under PyTorch's attribute names: <c>last_epoch</c>, <c>_step_count</c>,
    /// <c>base_lrs.{g}</c>, <c>_last_lr.{g}</c>, and each schedule's own (<c>gamma</c>, <c>T_max</c>, <c>best</c>, ...).
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var s = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["last_epoch"] = LastEpoch,
            ["_step_count"] = StepCount,
        };
        for (int i = 0; i < BaseLrs.Count; i++) s[string.Create(CultureInfo.InvariantCulture, $"base_lrs.{i}")] = BaseLrs[i];
        for (int i = 0; i < _lastLr.Length; i++) s[string.Create(CultureInfo.InvariantCulture, $"_last_lr.{i}")] = _lastLr[i];
        SaveState(s);
        return s.ToDictionary(kv => kv.Key, kv => Tensor.Scalar(kv.Value, DType.Float64), StringComparer.Ordinal);
    }

    /// <summary>
    /// Restores a state from <see cref="StateDict"/>. Every problem (missing or unexpected key, non-scalar value,
    /// a hyper-parameter that differs from this scheduler's, wrong number of groups) is reported at once before
    /// anything changes. The optimizer's group lrs are not touched: load the optimizer state too.
    /// </summary>
    /// <exception cref="ArgumentException">The state does not fit this scheduler.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        var values = Validate(state);
        LastEpoch = (int)values["last_epoch"];
        StepCount = (int)values["_step_count"];
        BaseLrs = Enumerable.Range(0, BaseLrs.Count).Select(i => values[string.Create(CultureInfo.InvariantCulture, $"base_lrs.{i}")]).ToArray();
        _lastLr = Enumerable.Range(0, _lastLr.Length).Select(i => values[string.Create(CultureInfo.InvariantCulture, $"_last_lr.{i}")]).ToArray();
        LoadState(values, [], apply: true);
    }

    internal void CheckStateDict(IReadOnlyDictionary<string, Tensor> state) => Validate(state);

    internal void InitialStepPublic() => InitialStep();

    private Dictionary<string, double> Validate(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var errors = new List<string>();
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (k, t) in state)
        {
            if (t.Numel != 1) errors.Add($"'{k}': expected one value, got shape {ShapeUtil.Format(t.Shape)}");
            else values[k] = t.Item();
        }
        // the keys this scheduler writes are the keys it expects
        var expectedKeys = StateDict().Keys.ToHashSet(StringComparer.Ordinal);
        foreach (var k in values.Keys) if (!expectedKeys.Contains(k)) errors.Add($"unexpected key '{k}'");
        foreach (var k in expectedKeys) if (!state.ContainsKey(k)) errors.Add($"missing key '{k}'");
        double lastEpoch = values.GetValueOrDefault("last_epoch"), stepCount = values.GetValueOrDefault("_step_count");
        if (!IsCount(lastEpoch, -1)) errors.Add($"'last_epoch' must be a whole number ≥ −1, got {lastEpoch.ToString(CultureInfo.InvariantCulture)}");
        if (!IsCount(stepCount, 0)) errors.Add($"'_step_count' must be a whole number ≥ 0, got {stepCount.ToString(CultureInfo.InvariantCulture)}");
        foreach (var (k, v) in values)
            if ((k.StartsWith("base_lrs.", StringComparison.Ordinal) || k.StartsWith("_last_lr.", StringComparison.Ordinal)) && !(v >= 0 && double.IsFinite(v)))
                errors.Add($"'{k}' must be a finite lr ≥ 0, got {v.ToString(CultureInfo.InvariantCulture)}");
        if (errors.Count == 0) LoadState(values, errors, apply: false);
        if (errors.Count > 0)
            throw new ArgumentException($"{Name}.LoadStateDict: {errors.Count} problem(s): " + string.Join("; ", errors.Distinct()) + ".");
        return values;
    }

    private static bool IsCount(double v, double min) => v >= min && v <= int.MaxValue && v == Math.Floor(v);
}
