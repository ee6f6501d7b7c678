using System.Globalization;

namespace Nabla.Optim;

public abstract partial class Optimizer
{
    /// <summary>
    /// The optimizer's state as a flat dictionary with PyTorch's names, ready for <c>SafeTensors.Save</c>:
    /// <list type="bullet">
    /// <item><c>state.{i}.{name}</c>: per-parameter state (<c>step</c> as a float64 scalar; <c>exp_avg</c>, <c>exp_avg_sq</c>,
    /// <c>max_exp_avg_sq</c>, <c>momentum_buffer</c>, <c>square_avg</c>, <c>grad_avg</c>, <c>sum</c> with the parameter's shape and dtype),
    /// i = the parameter's position in <see cref="Params"/>; copies, not the live tensors.</item>
    /// <item><c>param_groups.{g}.{option}</c>: each group hyper-parameter under PyTorch's name as a float64 scalar (<c>lr</c>,
    /// <c>nesterov</c> 0/1, <c>initial_lr</c>, ...), <c>betas</c> as a float64 vector of 2. Files from before 2026-12 wrote
    /// <c>betas.0</c> and <c>betas.1</c> as scalars; <see cref="LoadStateDict"/> reads both forms.</item>
    /// <item><c>param_groups.{g}.params</c>: float64 vector of the group's parameter indices.</item>
    /// </list>
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        var dict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < _state.Count; i++)
            foreach (var (k, t) in _state[i]) dict[string.Create(CultureInfo.InvariantCulture, $"state.{i}.{k}")] = t.Detach().Clone();
        int index = 0;
        for (int g = 0; g < _groups.Count; g++)
        {
            foreach (var (k, v) in _groups[g].Options)
            {
                if (k == "betas.1") continue;
                dict[string.Create(CultureInfo.InvariantCulture, $"param_groups.{g}.{(k == "betas.0" ? "betas" : k)}")] = k == "betas.0"
                    ? Tensor.FromArray([v, _groups[g]["betas.1"]])   // PyTorch's key 'betas', the pair as a vector
                    : Tensor.Scalar(v, DType.Float64);
            }
            var ids = new double[_groups[g].Params.Count];
            for (int j = 0; j < ids.Length; j++) ids[j] = index++;
            dict[string.Create(CultureInfo.InvariantCulture, $"param_groups.{g}.params")] = Tensor.FromArray(ids);
        }
        return dict;
    }

    /// <summary>
    /// Restores a state from <see cref="StateDict"/> (keys may come from a checkpoint with its prefix removed).
    /// The group structure must match (same number of groups and of parameters in each); every group option and
    /// state tensor is checked (shape, required keys, finite values where they must be) and every problem is reported
    /// at once in one exception, before anything is changed. State tensors are converted to the parameter's dtype, as PyTorch does.
    /// </summary>
    /// <exception cref="ArgumentException">The state does not fit this optimizer; the message lists every problem.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var errors = new List<string>();
        var groupOptions = new Dictionary<string, double>[_groups.Count];
        for (int g = 0; g < groupOptions.Length; g++) groupOptions[g] = new(StringComparer.Ordinal);
        var newState = new Dictionary<string, Tensor>[_params.Count];
        for (int i = 0; i < newState.Length; i++) newState[i] = new(StringComparer.Ordinal);
        var groupParams = new Tensor?[_groups.Count];

        foreach (var (key, t) in state)
        {
            if (TrySplit(key, "state.", out int i, out string name))
            {
                if (i >= _params.Count) { errors.Add($"'{key}': parameter index {i} is out of range (the optimizer has {_params.Count} parameters)"); continue; }
                var p = _params[i];
                if (name == "step")
                {
                    if (t.Numel != 1) { errors.Add($"'{key}': step must have one element, got shape {ShapeUtil.Format(t.Shape)}"); continue; }
                    double s = t.Item();
                    if (!(s >= 0 && double.IsFinite(s) && s == Math.Floor(s))) { errors.Add($"'{key}': step must be a whole number ≥ 0, got {s.ToString(CultureInfo.InvariantCulture)}"); continue; }
                    newState[i][name] = Tensor.Scalar(s, DType.Float64);
                }
                else if (!ShapeUtil.SameShape(t.Shape, p.Shape))
                    errors.Add($"'{key}': shape {ShapeUtil.Format(t.Shape)} in the state dict, parameter {i} has {ShapeUtil.Format(p.Shape)}");
                else
                    newState[i][name] = t.Detach().To(p.DType).Contiguous().Clone();
            }
            else if (TrySplit(key, "param_groups.", out int g, out string option))
            {
                if (g >= _groups.Count) { errors.Add($"'{key}': group {g} is out of range (the optimizer has {_groups.Count} groups)"); continue; }
                if (option == "params") { groupParams[g] = t; continue; }
                if (option == "betas")
                {
                    if (t.Rank != 1 || t.Numel != 2) { errors.Add($"'{key}': betas must be a vector of 2, got shape {ShapeUtil.Format(t.Shape)}"); continue; }
                    var b = t.ToDoubleArray();
                    if (double.IsNaN(b[0]) || double.IsNaN(b[1])) { errors.Add($"'{key}': NaN"); continue; }
                    (groupOptions[g]["betas.0"], groupOptions[g]["betas.1"]) = (b[0], b[1]);
                    continue;
                }
                if (t.Numel != 1) { errors.Add($"'{key}': a hyper-parameter must have one element, got shape {ShapeUtil.Format(t.Shape)}"); continue; }
                double v = t.Item();
                if (double.IsNaN(v)) { errors.Add($"'{key}': NaN"); continue; }
                groupOptions[g][option] = v;
            }
            else errors.Add($"unexpected key '{key}' (expected state.{{i}}.{{name}} or param_groups.{{g}}.{{option}})");
        }

        for (int g = 0; g < _groups.Count; g++)
        {
            if (groupParams[g] is not { } ids) errors.Add($"missing key 'param_groups.{g}.params'");
            else if (ids.Rank != 1 || ids.Numel != _groups[g].Params.Count)
                errors.Add($"'param_groups.{g}.params': group {g} has {_groups[g].Params.Count} parameters, the state dict lists shape {ShapeUtil.Format(ids.Shape)}");
            foreach (var k in _defaults.Keys)
                if (!groupOptions[g].ContainsKey(k)) errors.Add($"missing key 'param_groups.{g}.{(k.StartsWith("betas.", StringComparison.Ordinal) ? "betas" : k)}'");
        }

        if (errors.Count == 0)
        {
            // validate the group options and per-parameter state keys against a trial group
            int index = 0;
            for (int g = 0; g < _groups.Count; g++)
            {
                var trial = new ParamGroup(_groups[g].Params, groupOptions[g]);
                try { ValidateGroup(trial); }
                catch (ArgumentException e) { errors.Add($"param_groups.{g}: {e.Message}"); }
                var required = StateKeys(trial).ToHashSet(StringComparer.Ordinal);
                for (int j = 0; j < _groups[g].Params.Count; j++, index++)
                {
                    var have = newState[index];
                    if (have.Count == 0 && AllowsEmptyState) continue;
                    foreach (var k in required) if (!have.ContainsKey(k)) errors.Add($"missing key 'state.{index}.{k}'");
                    foreach (var k in have.Keys) if (!required.Contains(k)) errors.Add($"unexpected key 'state.{index}.{k}' for {Name} with these options");
                }
            }
        }

        if (errors.Count > 0)
            throw new ArgumentException($"{Name}.LoadStateDict: {errors.Count} problem(s): " + string.Join("; ", errors) + ".");

        for (int g = 0; g < _groups.Count; g++) _groups[g].ReplaceOptions(groupOptions[g]);
        for (int i = 0; i < _params.Count; i++)
        {
            _state[i].Clear();
            foreach (var (k, t) in newState[i]) _state[i][k] = t;
        }
    }

    // "prefix{int}.{rest}" → (int, rest)
    private static bool TrySplit(string key, string prefix, out int index, out string rest)
    {
        index = -1;
        rest = "";
        if (!key.StartsWith(prefix, StringComparison.Ordinal)) return false;
        int dot = key.IndexOf('.', prefix.Length);
        if (dot < 0 || dot == key.Length - 1) return false;
        var num = key.AsSpan(prefix.Length, dot - prefix.Length);
        if (num.Length == 0 || num.Length > 9 || (num.Length > 1 && num[0] == '0')) return false;
        foreach (char c in num) if (c is < '0' or > '9') return false;
        index = int.Parse(num, CultureInfo.InvariantCulture);
        rest = key[(dot + 1)..];
        return true;
    }
}
