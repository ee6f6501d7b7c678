using System.Globalization;
using System.Numerics;
using Nabla.NN;

namespace Nabla.Optim;

/// <summary>
/// Updates parameters from their gradients, as PyTorch's <c>torch.optim.Optimizer</c>: parameters live in
/// <see cref="ParamGroups"/> with their own hyper-parameters, per-parameter state (moment buffers, step counts) is
/// indexed by the parameter's position across all groups, and <see cref="StateDict"/> flattens both under PyTorch's
/// names (<c>state.0.exp_avg</c>, <c>param_groups.0.lr</c>) so a checkpoint can hold them. <see cref="Step"/> applies
/// one update to every parameter that has a gradient; <see cref="ZeroGrad"/> clears gradients.
/// </summary>
public abstract partial class Optimizer
{
    private readonly List<ParamGroup> _groups = [];
    private readonly List<Tensor> _params = [];
    private readonly List<Dictionary<string, Tensor>> _state = [];
    private readonly Dictionary<string, double> _defaults;
    private float[] _scratchF = [];
    private double[] _scratchD = [];

    /// <summary>Creates an optimizer over <paramref name="groups"/>; options a group lacks take <paramref name="defaults"/>.</summary>
    /// <param name="groups">The parameter groups (every parameter at most once across them).</param>
    /// <param name="defaults">Every hyper-parameter this optimizer reads, with its default value, under PyTorch names.</param>
    /// <param name="name">The optimizer's name for messages (<c>"Adam"</c>).</param>
    protected Optimizer(IEnumerable<ParamGroup> groups, IReadOnlyDictionary<string, double> defaults, string name)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentNullException.ThrowIfNull(defaults);
        Name = name;
        _defaults = new(defaults, StringComparer.Ordinal);
        var list = groups.ToList();
        if (list.Count == 0) throw new ArgumentException($"{name}: got an empty list of parameter groups.");
        foreach (var g in list) AddParamGroup(g);
    }

    /// <summary>The optimizer's name (<c>SGD</c>, <c>Adam</c>, ...).</summary>
    public string Name { get; }

    /// <summary>The default hyper-parameters (PyTorch's <c>optimizer.defaults</c>).</summary>
    public IReadOnlyDictionary<string, double> Defaults => _defaults;

    /// <summary>The parameter groups, in order; change <c>ParamGroups[i].LearningRate</c> between steps.</summary>
    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>Every parameter (a <see cref="Parameter"/> or leaf tensor) being optimised, group after group; a parameter's position here is its state index.</summary>
    public IReadOnlyList<Tensor> Params => _params;

    /// <summary>
    /// The learning rate of the first group; setting it sets every group's (the single-group shorthand).
    /// </summary>
    public double LearningRate
    {
        get => _groups[0].LearningRate;
        set
        {
            foreach (var g in _groups) g.LearningRate = value;
        }
    }

    /// <summary>Adds a group (PyTorch's <c>add_param_group</c>); its missing options take the defaults.</summary>
    /// <exception cref="ArgumentException">The group is empty, repeats a parameter, or a hyper-parameter is out of range.</exception>
    public void AddParamGroup(ParamGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (group.Params.Count == 0) throw new ArgumentException($"{Name}: parameter group {_groups.Count} is empty.");
        var seen = new HashSet<Tensor>(_params, ReferenceEqualityComparer.Instance);
        foreach (var p in group.Params)
        {
            ArgumentNullException.ThrowIfNull(p);
            if (!p.IsLeaf)
                throw new ArgumentException($"{Name}: can't optimise a non-leaf tensor (made by {p.GradFn!.Name}); pass parameters or leaf tensors (x.Detach().RequireGrad()), as PyTorch.");
            if (!seen.Add(p)) throw new ArgumentException($"{Name}: a parameter appears more than once in the parameter groups.");
        }
        foreach (var (k, v) in _defaults) group.SetDefault(k, v);
        ValidateGroup(group);
        _groups.Add(group);
        foreach (var p in group.Params)
        {
            _params.Add(p);
            _state.Add(new Dictionary<string, Tensor>(StringComparer.Ordinal));
            InitState(group, _params.Count - 1, p);
        }
    }

    /// <summary>The live state of parameter <paramref name="index"/> (position in <see cref="Params"/>): empty before its first step.</summary>
    public IReadOnlyDictionary<string, Tensor> State(int index) => _state[index];

    private string? _stepEvent;   // the profiler's event name, "SGD.Step"

    /// <summary>Applies one update to every parameter that has a gradient (same shape and dtype as the parameter).</summary>
    public void Step()
    {
        using var scope = Diagnostics.Profiler.IsActive ? Diagnostics.Profiler.Scope(_stepEvent ??= Name + ".Step") : default;
        int index = 0;
        foreach (var group in _groups)
        {
            foreach (var p in group.Params)
            {
                int i = index++;
                if (p.GradInternal is not { } grad) continue;
                if (grad.DType != p.DType || !ShapeUtil.SameShape(grad.Shape, p.Shape))
                    throw new InvalidOperationException($"{Name}.Step: parameter {i} is {p.DType.Name()} {ShapeUtil.Format(p.Shape)} but its gradient is {grad.DType.Name()} {ShapeUtil.Format(grad.Shape)}.");
                if (!p.IsContiguous) throw new InvalidOperationException($"{Name}.Step: parameter {i} is not contiguous.");
                var g = grad.Contiguous();
                if (p.DType == DType.Float32) Update(group, i, p, p.Span<float>(), g.Span<float>());
                else Update(group, i, p, p.Span<double>(), g.Span<double>());
            }
        }
    }

    /// <summary>Clears the gradients (sets them to null, as PyTorch's <c>zero_grad(set_to_none=True)</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _params) p.DropGrad();
    }

    /// <summary>
    /// Updates one parameter in place. <paramref name="param"/> and <paramref name="grad"/> are its values and
    /// gradient as spans (float or double); state lives in <see cref="MutableState"/>(<paramref name="index"/>).
    /// </summary>
    protected abstract void Update<T>(ParamGroup group, int index, Tensor parameter, Span<T> param, ReadOnlySpan<T> grad)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Checks a group's hyper-parameters (after defaults are filled in), throwing a message naming the optimizer.</summary>
    protected abstract void ValidateGroup(ParamGroup group);

    /// <summary>
    /// The state keys parameter state must hold under <paramref name="group"/>'s options once it has taken a step
    /// (checked by <see cref="LoadStateDict"/>).
    /// </summary>
    protected abstract IEnumerable<string> StateKeys(ParamGroup group);

    /// <summary>Creates state at construction for optimizers that have it before the first step (Adagrad). Default: none.</summary>
    protected virtual void InitState(ParamGroup group, int index, Tensor parameter) { }

    /// <summary>Whether a parameter may have no state (true until its first step, for most optimizers).</summary>
    protected virtual bool AllowsEmptyState => true;

    /// <summary>The mutable state dictionary of parameter <paramref name="index"/>.</summary>
    protected Dictionary<string, Tensor> MutableState(int index) => _state[index];

    /// <summary>The state tensor <paramref name="key"/> of parameter <paramref name="index"/>, created filled with <paramref name="fill"/> (shape and dtype of the parameter) when absent.</summary>
    protected internal Tensor GetOrCreateState(int index, string key, Tensor parameter, double fill = 0)
    {
        var s = _state[index];
        if (!s.TryGetValue(key, out var t))
        {
            t = fill == 0 ? Tensor.ZerosLike(parameter) : Tensor.Full(parameter.Shape.ToArray(), fill, parameter.DType);
            s[key] = t;
        }
        return t;
    }

    /// <summary>Adds one to the <c>step</c> state (a float64 scalar, created at 0) and returns the new count.</summary>
    protected internal double IncrementStep(int index)
    {
        var s = _state[index];
        if (!s.TryGetValue("step", out var t)) s["step"] = t = Tensor.Scalar(0, DType.Float64);
        double step = t.Item() + 1;
        t.Buffer<double>()[t._offset] = step;
        return step;
    }

    /// <summary>A scratch span of <paramref name="n"/> elements, reused across calls (slot 0 or 1: two at once).</summary>
    protected Span<T> Scratch<T>(int n, int slot) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
        {
            if (_scratchF.Length < 2 * n) _scratchF = new float[2 * n];
            return System.Runtime.InteropServices.MemoryMarshal.Cast<float, T>(_scratchF.AsSpan(slot * n, n));
        }
        if (_scratchD.Length < 2 * n) _scratchD = new double[2 * n];
        return System.Runtime.InteropServices.MemoryMarshal.Cast<double, T>(_scratchD.AsSpan(slot * n, n));
    }

    /// <summary>Checks a hyper-parameter is finite and non-negative, naming the optimizer.</summary>
    protected static double NonNegative(string optimizer, string name, double value) =>
        value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(name, $"{optimizer}: {name} must be a finite value ≥ 0, got {value.ToString(CultureInfo.InvariantCulture)}.");

    /// <summary>Checks <c>group[name]</c> is finite and non-negative (and &lt; <paramref name="below"/> when given).</summary>
    protected internal void CheckRange(ParamGroup group, string name, double below = double.PositiveInfinity)
    {
        double v = group[name];
        if (!(v >= 0 && double.IsFinite(v) && v < below))
            throw new ArgumentOutOfRangeException(name, $"{Name}: {name} must be finite, ≥ 0{(double.IsFinite(below) ? $" and < {below.ToString(CultureInfo.InvariantCulture)}" : "")}, got {v.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>Checks <c>group[name]</c> is 0 or 1 (a boolean option).</summary>
    protected internal void CheckFlag(ParamGroup group, string name)
    {
        double v = group[name];
        if (v != 0 && v != 1) throw new ArgumentOutOfRangeException(name, $"{Name}: {name} is a boolean option (0 or 1), got {v.ToString(CultureInfo.InvariantCulture)}.");
    }
}
