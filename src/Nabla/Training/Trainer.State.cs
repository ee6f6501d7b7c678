using System.Globalization;

namespace Nabla.Training;

/// <summary>
/// Everything a <see cref="Trainer"/> needs to continue a run exactly: tensors under PyTorch-style checkpoint keys
/// (<c>model.0.weight</c>, <c>optimizer.state.0.momentum_buffer</c>, <c>optimizer.param_groups.0.lr</c>,
/// <c>scheduler.last_epoch</c>) and text
/// metadata (epoch, step, generator states, schedule and callback state, metrics history), as a safetensors file holds them.
/// </summary>
public sealed class TrainingState
{
    /// <summary>The format name stored under the <c>format</c> metadata key.</summary>
    public const string FormatName = "nabla-training-checkpoint";

    /// <summary>Creates an empty state.</summary>
    public TrainingState(Dictionary<string, Tensor>? tensors = null, Dictionary<string, string>? metadata = null)
    {
        Tensors = tensors ?? new(StringComparer.Ordinal);
        Metadata = metadata ?? new(StringComparer.Ordinal);
    }

    /// <summary>The tensors by key.</summary>
    public Dictionary<string, Tensor> Tensors { get; }

    /// <summary>The metadata by key.</summary>
    public Dictionary<string, string> Metadata { get; }

    /// <summary>The tensors whose key starts with <paramref name="prefix"/>, with the prefix removed.</summary>
    public Dictionary<string, Tensor> WithPrefix(string prefix) =>
        Tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);

    /// <summary>A metadata value, or an <see cref="InvalidDataException"/> naming the missing key.</summary>
    public string Get(string key) => Metadata.TryGetValue(key, out var v) ? v
        : throw new InvalidDataException($"training checkpoint: missing metadata key '{key}'.");

    internal double GetDouble(string key) => double.TryParse(Get(key), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
        : throw new InvalidDataException($"training checkpoint: metadata '{key}' is not a number: '{Get(key)}'.");

    internal long GetLong(string key) => long.TryParse(Get(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) && v >= 0 ? v
        : throw new InvalidDataException($"training checkpoint: metadata '{key}' is not a count: '{Get(key)}'.");

    internal ulong[] GetWords(string key)
    {
        var parts = Get(key).Split(',');
        var words = new ulong[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!ulong.TryParse(parts[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out words[i]))
                throw new InvalidDataException($"training checkpoint: metadata '{key}' is not a generator state: '{Get(key)}'.");
        if (words.Length != 6) throw new InvalidDataException($"training checkpoint: metadata '{key}' holds {words.Length} words, a generator state has 6.");
        return words;
    }

    internal static string Words(ulong[] words) => string.Join(",", words.Select(w => w.ToString("X16", CultureInfo.InvariantCulture)));

    internal static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

public sealed partial class Trainer
{
    /// <summary>
    /// Captures the state that decides the rest of the run: model and optimizer tensors, epoch, step, the position
    /// inside an interrupted epoch, the training loader's generator (as it was at the start of the epoch in progress),
    /// the <see cref="Generators"/>, the scheduler, the callbacks' counters and the metrics history.
    /// </summary>
    public TrainingState CaptureState()
    {
        var s = new TrainingState();
        foreach (var (k, t) in Model.StateDict()) s.Tensors["model." + k] = Copy(t);
        foreach (var (k, t) in Optimizer.StateDict()) s.Tensors["optimizer." + k] = t;
        var m = s.Metadata;
        m["format"] = TrainingState.FormatName;
        m["version"] = "1";
        m["optimizer"] = Optimizer.Name;
        m["epoch"] = Epoch.ToString(CultureInfo.InvariantCulture);
        m["step"] = Step.ToString(CultureInfo.InvariantCulture);
        m["batch_in_epoch"] = _batchInEpoch.ToString(CultureInfo.InvariantCulture);
        m["partial.loss"] = TrainingState.Number(_partialLoss);
        m["partial.seconds"] = TrainingState.Number(_partialSeconds);
        m["partial.correct"] = _partialCorrect.ToString(CultureInfo.InvariantCulture);
        m["partial.seen"] = _partialSeen.ToString(CultureInfo.InvariantCulture);
        var loaderState = _batchInEpoch > 0 ? _epochLoaderState : _trainLoader?.Generator.GetState() ?? _pendingLoaderState;
        if (loaderState is not null) m["generator.loader"] = TrainingState.Words(loaderState);
        foreach (var (name, g) in Generators) m["generator." + name] = TrainingState.Words(g.GetState());
        if (Scheduler is not null)
            foreach (var (k, t) in Scheduler.StateDict()) s.Tensors["scheduler." + k] = t;
        for (int i = 0; i < Callbacks.Count; i++)
            if (Callbacks[i].GetState() is { } cs)
                foreach (var (k, v) in cs) m[string.Create(CultureInfo.InvariantCulture, $"callback.{i}.{k}")] = TrainingState.Number(v);
        m["history"] = MetricsCsv.Format(History, exact: true);
        return s;
    }

    /// <summary>
    /// Restores a state from <see cref="CaptureState"/> into this trainer, whose model, optimizer, schedule,
    /// callbacks and generators must be set up as for the original run. The next <see cref="Fit"/> continues where
    /// the captured run was (at the start of the next epoch, or inside the interrupted one).
    /// </summary>
    /// <exception cref="InvalidDataException">A key is missing or malformed.</exception>
    /// <exception cref="ArgumentException">The tensors do not fit the model or the optimizer.</exception>
    public void RestoreState(TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Get("format") != TrainingState.FormatName)
            throw new InvalidDataException($"training checkpoint: format '{state.Get("format")}', expected '{TrainingState.FormatName}'.");
        if (state.Get("optimizer") != Optimizer.Name)
            throw new ArgumentException($"training checkpoint: it was written by a {state.Get("optimizer")} optimizer, this run uses {Optimizer.Name}.");
        Model.LoadStateDict(state.WithPrefix("model."));
        Optimizer.LoadStateDict(state.WithPrefix("optimizer."));
        Epoch = checked((int)state.GetLong("epoch"));
        Step = state.GetLong("step");
        _batchInEpoch = checked((int)state.GetLong("batch_in_epoch"));
        _partialLoss = state.GetDouble("partial.loss");
        _partialSeconds = state.GetDouble("partial.seconds");
        _partialCorrect = state.GetLong("partial.correct");
        _partialSeen = state.GetLong("partial.seen");
        _pendingLoaderState = state.GetWords("generator.loader");
        _epochLoaderState = _batchInEpoch > 0 ? _pendingLoaderState : null;
        foreach (var (name, g) in Generators) g.SetState(state.GetWords("generator." + name));
        Scheduler?.LoadStateDict(state.WithPrefix("scheduler."));
        for (int i = 0; i < Callbacks.Count; i++)
        {
            var cs = Section(state, string.Create(CultureInfo.InvariantCulture, $"callback.{i}."));
            if (cs.Count > 0) Callbacks[i].SetState(cs);
        }
        History.Clear();
        History.AddRange(MetricsCsv.Parse(state.Get("history"), "training checkpoint history"));
        StopRequested = false;
        StopReason = null;
    }

    private static Dictionary<string, double> Section(TrainingState state, string prefix)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var k in state.Metadata.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
            d[k[prefix.Length..]] = state.GetDouble(k);
        return d;
    }

    private static Tensor Copy(Tensor t)
    {
        var c = Tensor.ZerosLike(t);
        c.CopyFrom(t);
        return c;
    }
}
