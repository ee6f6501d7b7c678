using System.Globalization;
using Nabla.NN;

namespace Nabla.Optim;

/// <summary>
/// A group of parameters sharing hyper-parameters, as an entry of PyTorch's <c>optimizer.param_groups</c>.
/// Hyper-parameters are doubles under PyTorch's names: <c>lr</c>, <c>momentum</c>, <c>dampening</c>,
/// <c>weight_decay</c>, <c>eps</c>, <c>alpha</c>, <c>lr_decay</c>, <c>initial_accumulator_value</c>, <c>initial_lr</c>
/// (set by schedulers); booleans are 0/1 (<c>nesterov</c>, <c>amsgrad</c>, <c>centered</c>, <c>maximize</c>); tuples are
/// flattened by position (<c>betas.0</c>, <c>betas.1</c>). Options not given take the optimizer's defaults.
/// </summary>
public sealed class ParamGroup
{
    private readonly Dictionary<string, double> _options;

    /// <summary>Creates a group of <paramref name="parameters"/> with optional per-group hyper-parameters.</summary>
    /// <param name="parameters">The parameters (each at most once across all groups of an optimizer).</param>
    /// <param name="options">Hyper-parameters overriding the optimizer's defaults, e.g. <c>{ ["lr"] = 0.01 }</c>.</param>
    public ParamGroup(IEnumerable<Parameter> parameters, IReadOnlyDictionary<string, double>? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Params = parameters.ToList();
        _options = options is null ? new(StringComparer.Ordinal) : new(options, StringComparer.Ordinal);
    }

    /// <summary>The parameters of this group, in order.</summary>
    public IReadOnlyList<Parameter> Params { get; }

    /// <summary>All hyper-parameters of the group by PyTorch name (live: schedules write <c>lr</c> here).</summary>
    public IReadOnlyDictionary<string, double> Options => _options;

    /// <summary>A hyper-parameter by PyTorch name; throws naming the key when it is absent.</summary>
    public double this[string name]
    {
        get => _options.TryGetValue(name, out double v) ? v
            : throw new KeyNotFoundException($"ParamGroup: no hyper-parameter '{name}' (has: {string.Join(", ", _options.Keys)}).");
        set
        {
            if (double.IsNaN(value)) throw new ArgumentOutOfRangeException(name, $"ParamGroup: hyper-parameter '{name}' cannot be NaN.");
            _options[name] = value;
        }
    }

    /// <summary>Whether the group has the hyper-parameter <paramref name="name"/>.</summary>
    public bool Has(string name) => _options.ContainsKey(name);

    /// <summary>The learning rate <c>lr</c> of this group (schedules change it between steps). Must be finite and ≥ 0.</summary>
    public double LearningRate
    {
        get => this["lr"];
        set => this["lr"] = value >= 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), $"ParamGroup: lr must be a finite value ≥ 0, got {value.ToString(CultureInfo.InvariantCulture)}.");
    }

    internal void SetDefault(string name, double value) => _options.TryAdd(name, value);

    internal void ReplaceOptions(IEnumerable<KeyValuePair<string, double>> options)
    {
        _options.Clear();
        foreach (var (k, v) in options) _options[k] = v;
    }
}
