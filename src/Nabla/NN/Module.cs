using System.Text;

namespace Nabla.NN;

/// <summary>
/// A layer or a model: it answers the text's three questions through the ops its <see cref="Forward"/> runs.
/// Parameters, buffers and sub-modules are registered explicitly (no reflection), in order, under the names that
/// make PyTorch's state-dict keys (<c>0.weight</c>, <c>fc1.bias</c>, <c>bn.running_mean</c>).
/// </summary>
public abstract partial class Module
{
    private readonly List<KeyValuePair<string, Parameter?>> _parameters = [];
    private readonly List<KeyValuePair<string, Tensor?>> _buffers = [];
    private readonly List<KeyValuePair<string, Module>> _modules = [];

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>Computes the module's output. Shape: documented by each module.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Registers a parameter under <paramref name="name"/> (null keeps the slot, as PyTorch's bias=None).</summary>
    protected Parameter? RegisterParameter(string name, Parameter? parameter)
    {
        CheckName(name);
        _parameters.Add(new(name, parameter));
        return parameter;
    }

    /// <summary>
    /// Points the registered parameter <paramref name="name"/> at <paramref name="parameter"/> (PyTorch's
    /// <c>module.weight = other.weight</c>): weight tying shares one <see cref="Parameter"/> between modules.
    /// </summary>
    protected void SetParameter(string name, Parameter? parameter)
    {
        int i = _parameters.FindIndex(kv => kv.Key == name);
        if (i < 0) throw new ArgumentException($"{GetType().Name}: no parameter named '{name}'.");
        _parameters[i] = new(name, parameter);
    }

    /// <summary>Registers a state tensor that is saved in the state dict but not trained (e.g. running statistics).</summary>
    protected Tensor? RegisterBuffer(string name, Tensor? buffer)
    {
        CheckName(name);
        _buffers.Add(new(name, buffer));
        return buffer;
    }

    /// <summary>Replaces a registered buffer's tensor (e.g. a running mean updated out of place).</summary>
    protected void SetBuffer(string name, Tensor buffer)
    {
        int i = _buffers.FindIndex(kv => kv.Key == name);
        if (i < 0) throw new ArgumentException($"{GetType().Name}: no buffer named '{name}'.");
        _buffers[i] = new(name, buffer);
    }

    /// <summary>Registers a sub-module; its parameters appear under <c>name.</c>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(module);
        _modules.Add(new(name, module));
        return module;
    }

    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid name '{name}' (non-empty, no dots).");
        if (_parameters.Any(p => p.Key == name) || _buffers.Any(b => b.Key == name) || _modules.Any(m => m.Key == name))
            throw new ArgumentException($"{GetType().Name}: the name '{name}' is already registered.");
    }

    /// <summary>
    /// Runs a registered sub-module's <see cref="Forward"/> inside its <see cref="ModuleScope"/> (its name below the
    /// current path), so the ops it records are attributed to it in a drawn autograd graph.
    /// </summary>
    protected Tensor ForwardChild(Module child, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(child);
        foreach (var (name, m) in _modules)
        {
            if (!ReferenceEquals(m, child)) continue;
            using (ModuleScope.Enter(name)) return child.Forward(input);
        }
        throw new ArgumentException($"{GetType().Name}.ForwardChild: {child.GetType().Name} is not a registered sub-module of this module.");
    }

    /// <summary>The direct sub-modules with their names.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedChildren() => _modules;

    /// <summary>
    /// All parameters of this module and its sub-modules, with dotted names, in registration order. A parameter
    /// shared by several modules (weight tying) appears once, under its first name, as PyTorch's named_parameters:
    /// so an optimizer steps it once and <see cref="ParameterCount"/> counts it once (the state dict keeps every key).
    /// </summary>
    public IEnumerable<KeyValuePair<string, Parameter>> NamedParameters(string prefix = "")
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var kv in AllNamedParameters(prefix))
            if (seen.Add(kv.Value)) yield return kv;
    }

    private IEnumerable<KeyValuePair<string, Parameter>> AllNamedParameters(string prefix)
    {
        foreach (var (name, p) in _parameters)
            if (p is not null) yield return new(prefix + name, p);
        foreach (var (name, m) in _modules)
            foreach (var kv in m.AllNamedParameters(prefix + name + ".")) yield return kv;
    }

    /// <summary>All parameters, in registration order.</summary>
    public IEnumerable<Parameter> Parameters() => NamedParameters().Select(kv => kv.Value);

    /// <summary>All buffers with dotted names.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers(string prefix = "")
    {
        foreach (var (name, b) in _buffers)
            if (b is not null) yield return new(prefix + name, b);
        foreach (var (name, m) in _modules)
            foreach (var kv in m.NamedBuffers(prefix + name + ".")) yield return kv;
    }

    /// <summary>Switches this module and every sub-module to training mode (or evaluation mode with false).</summary>
    public Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var (_, m) in _modules) m.Train(mode);
        return this;
    }

    /// <summary>Switches this module and every sub-module to evaluation mode.</summary>
    public Module Eval() => Train(false);

    /// <summary>Clears every parameter's gradient (sets it to null, as PyTorch's zero_grad(set_to_none=True)).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.DropGrad();
    }

    /// <summary>The number of parameter elements.</summary>
    public long ParameterCount() => Parameters().Sum(p => (long)p.Numel);

    /// <summary>
    /// Every parameter and buffer under its PyTorch key, in PyTorch's order (each module's own parameters, then
    /// its buffers, then its children). The tensors are the live ones: clone them to keep a snapshot.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>();
        AddState(dict, "");
        return dict;
    }

    private void AddState(Dictionary<string, Tensor> dict, string prefix)
    {
        foreach (var (name, p) in _parameters) if (p is not null) dict[prefix + name] = p;
        foreach (var (name, b) in _buffers) if (b is not null) dict[prefix + name] = b;
        foreach (var (name, m) in _modules) m.AddState(dict, prefix + name + ".");
    }

    /// <summary>
    /// Copies values from <paramref name="state"/> into the parameters and buffers. Every missing key, unexpected
    /// key (when <paramref name="strict"/>), shape mismatch and dtype mismatch is reported at once in one exception.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = StateDict();
        var errors = new List<string>();
        foreach (var (key, t) in own)
        {
            if (!state.TryGetValue(key, out var src)) { if (strict) errors.Add($"missing key '{key}'"); continue; }
            if (!ShapeUtil.SameShape(src.Shape, t.Shape))
                errors.Add($"'{key}': shape {ShapeUtil.Format(src.Shape)} in the state dict, {ShapeUtil.Format(t.Shape)} in the model");
            // an int64 buffer (num_batches_tracked) also takes the whole-number floats older Nabla files stored
            if (src.DType != t.DType && !(t.DType == DType.Int64 && src.DType.IsFloatingPoint() && src.ToDoubleArray().All(v => v == Math.Floor(v) && Math.Abs(v) <= 1L << 53)))
                errors.Add($"'{key}': dtype {src.DType.Name()} in the state dict, {t.DType.Name()} in the model");
        }
        if (strict) foreach (var key in state.Keys) if (!own.ContainsKey(key)) errors.Add($"unexpected key '{key}'");
        if (errors.Count > 0)
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: {errors.Count} problem(s): " + string.Join("; ", errors) + ".");
        foreach (var (key, t) in own)
            if (state.TryGetValue(key, out var src)) t.CopyFrom(src);
    }

    /// <summary>Extra details shown in <see cref="ToString"/> (e.g. <c>in_features=784, out_features=512, bias=True</c>).</summary>
    protected virtual string ExtraRepr() => "";

    /// <summary>A PyTorch-style printout of the module tree.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(GetType().Name).Append('(').Append(ExtraRepr());
        if (_modules.Count > 0)
        {
            sb.AppendLine();
            foreach (var (name, m) in _modules)
                sb.Append("  (").Append(name).Append("): ").AppendLine(m.ToString().Replace("\n", "\n  "));
        }
        return sb.Append(')').ToString();
    }
}
