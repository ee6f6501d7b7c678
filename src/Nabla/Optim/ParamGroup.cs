using System.Globalization;

namespace Nabla.Optim;

/// <summary>
/// A group of parameters sharing hyper-parameters, as an entry of PyTorch's <c>optimizer.param_groups</c>. Set the
/// hyper-parameters through the typed properties (<c>new ParamGroup(head) { Lr = 0.01, Betas = (0.8, 0.99) }</c>);
/// options not given take the optimizer's defaults when the group is added. Each property reads and writes the
/// option under PyTorch's name (<see cref="Options"/>): <c>lr</c>, <c>betas</c> (stored as <c>betas.0</c>,
/// <c>betas.1</c>), <c>eps</c>, <c>weight_decay</c>, <c>momentum</c>, <c>dampening</c>, <c>nesterov</c>,
/// <c>amsgrad</c>, <c>centered</c>, <c>maximize</c> (booleans as 0/1), <c>alpha</c>, <c>lr_decay</c>,
/// <c>initial_accumulator_value</c>; schedulers add <c>initial_lr</c>. Reading an option the group lacks throws.
/// </summary>
public sealed class ParamGroup
{
    private readonly Dictionary<string, double> _options;

    /// <summary>Creates a group of <paramref name="parameters"/> (<see cref="NN.Parameter"/>s or leaf tensors).</summary>
    /// <param name="parameters">The parameters (each at most once across all groups of an optimizer).</param>
    /// <param name="options">Hyper-parameters by PyTorch name overriding the optimizer's defaults; the typed properties are the usual way.</param>
    public ParamGroup(IEnumerable<Tensor> parameters, IReadOnlyDictionary<string, double>? options = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Params = parameters.ToList();
        _options = new(StringComparer.Ordinal);
        if (options is null) return;
        foreach (var (k, v) in options) this[k] = v;
    }

    /// <summary>The parameters of this group, in order.</summary>
    public IReadOnlyList<Tensor> Params { get; }

    /// <summary>All hyper-parameters of the group by PyTorch name, tuples flattened (live: schedules write <c>lr</c> here).</summary>
    public IReadOnlyDictionary<string, double> Options => _options;

    /// <summary>A hyper-parameter by PyTorch name (<c>betas</c> as <c>betas.0</c>/<c>betas.1</c>); throws naming the key when it is absent.</summary>
    public double this[string name]
    {
        get => _options.TryGetValue(name, out double v) ? v
            : throw new KeyNotFoundException($"ParamGroup: no hyper-parameter '{name}' (has: {string.Join(", ", _options.Keys)}).");
        set
        {
            ArgumentNullException.ThrowIfNull(name);
            if (double.IsNaN(value)) throw new ArgumentOutOfRangeException(name, $"ParamGroup: hyper-parameter '{name}' cannot be NaN.");
            if (name == "betas") throw new ArgumentException("ParamGroup: 'betas' is a pair: set Betas, or 'betas.0' and 'betas.1'.", nameof(name));
            _options[name] = value;
        }
    }

    /// <summary>Whether the group has the hyper-parameter <paramref name="name"/> (<c>"betas"</c>: both of its entries).</summary>
    public bool Has(string name) => name == "betas" ? _options.ContainsKey("betas.0") && _options.ContainsKey("betas.1") : _options.ContainsKey(name);

    /// <summary>The learning rate <c>lr</c> of this group (schedules change it between steps). Must be finite and ≥ 0.</summary>
    public double LearningRate
    {
        get => this["lr"];
        set => this["lr"] = value >= 0 && double.IsFinite(value) ? value
            : throw new ArgumentOutOfRangeException(nameof(value), $"ParamGroup: lr must be a finite value ≥ 0, got {value.ToString(CultureInfo.InvariantCulture)}.");
    }

    /// <summary>The learning rate <c>lr</c> (PyTorch's name; the same as <see cref="LearningRate"/>).</summary>
    public double Lr { get => LearningRate; set => LearningRate = value; }

    /// <summary>Adam's/AdamW's <c>betas</c>: the decay rates of the first and second moment averages.</summary>
    public (double Beta1, double Beta2) Betas
    {
        get => (this["betas.0"], this["betas.1"]);
        set
        {
            this["betas.0"] = value.Beta1;
            this["betas.1"] = value.Beta2;
        }
    }

    /// <summary>The term <c>eps</c> added to denominators (Adam, AdamW, RMSprop, Adagrad).</summary>
    public double Eps { get => this["eps"]; set => this["eps"] = value; }

    /// <summary>The L2 penalty <c>weight_decay</c> (decoupled for AdamW).</summary>
    public double WeightDecay { get => this["weight_decay"]; set => this["weight_decay"] = value; }

    /// <summary>The <c>momentum</c> factor (SGD, RMSprop).</summary>
    public double Momentum { get => this["momentum"]; set => this["momentum"] = value; }

    /// <summary>SGD's <c>dampening</c> of the momentum.</summary>
    public double Dampening { get => this["dampening"]; set => this["dampening"] = value; }

    /// <summary>SGD's <c>nesterov</c> momentum.</summary>
    public bool Nesterov { get => Flag("nesterov"); set => this["nesterov"] = value ? 1 : 0; }

    /// <summary>Adam's/AdamW's <c>amsgrad</c> variant.</summary>
    public bool Amsgrad { get => Flag("amsgrad"); set => this["amsgrad"] = value ? 1 : 0; }

    /// <summary>RMSprop's <c>centered</c> variant.</summary>
    public bool Centered { get => Flag("centered"); set => this["centered"] = value ? 1 : 0; }

    /// <summary>Whether to maximise the objective (<c>maximize</c>).</summary>
    public bool Maximize { get => Flag("maximize"); set => this["maximize"] = value ? 1 : 0; }

    /// <summary>RMSprop's smoothing constant <c>alpha</c>.</summary>
    public double Alpha { get => this["alpha"]; set => this["alpha"] = value; }

    /// <summary>Adagrad's learning-rate decay <c>lr_decay</c>.</summary>
    public double LrDecay { get => this["lr_decay"]; set => this["lr_decay"] = value; }

    /// <summary>Adagrad's starting value of the sum of squares, <c>initial_accumulator_value</c>.</summary>
    public double InitialAccumulatorValue { get => this["initial_accumulator_value"]; set => this["initial_accumulator_value"] = value; }

    /// <summary>The learning rate a scheduler started from (<c>initial_lr</c>; set by the first scheduler).</summary>
    public double InitialLr { get => this["initial_lr"]; set => this["initial_lr"] = value; }

    private bool Flag(string name) => this[name] != 0;

    internal void SetDefault(string name, double value) => _options.TryAdd(name, value);

    internal void ReplaceOptions(IEnumerable<KeyValuePair<string, double>> options)
    {
        _options.Clear();
        foreach (var (k, v) in options) _options[k] = v;
    }
}
