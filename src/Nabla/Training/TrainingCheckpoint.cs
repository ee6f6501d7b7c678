using System.Globalization;
using Nabla.IO;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;

namespace Nabla.Training;

/// <summary>
/// Everything a training run needs to continue bit-identically, in one safetensors file of format
/// <c>nabla.training/2</c> (<see cref="Format"/>, the only one Nabla writes and reads; docs/training.md lists every key):
/// <list type="bullet">
/// <item>tensors <c>model.{key}</c> (the model's state dict), <c>optimizer.{key}</c> (<see cref="Optim.Optimizer.StateDict"/>:
/// <c>optimizer.state.0.exp_avg</c>, <c>optimizer.param_groups.0.lr</c>, ...), <c>scheduler.{key}</c> (<see cref="LRScheduler.StateDict"/>);</item>
/// <item>metadata <c>nabla.format</c>, <c>nabla.epoch</c>, <c>nabla.step</c>, <c>nabla.batch</c> and <c>nabla.partial.*</c>
/// (the position inside an interrupted epoch), <c>nabla.optimizer</c>, <c>nabla.generator.{name}</c>,
/// <c>nabla.callback.{i}.{key}</c>, <c>nabla.history</c>, and the user's own keys (which must not start with <c>nabla.</c>).</item>
/// </list>
/// <see cref="Trainer.SaveCheckpoint"/> writes one; a loop of your own can <see cref="Capture"/> one at an epoch
/// boundary (after the scheduler step, with every generator the run draws from), then on resume build the same model,
/// optimizer and scheduler, call <see cref="Restore"/> and continue from epoch <see cref="Epoch"/> + 1.
/// <see cref="Load"/> treats the file as hostile: every field is checked for presence, type, range and consistency.
/// </summary>
public sealed partial class TrainingCheckpoint
{
    /// <summary>The format tag stored in <c>nabla.format</c>.</summary>
    public const string Format = "nabla.training/2";

    /// <summary>The model's state dict (PyTorch keys).</summary>
    public Dictionary<string, Tensor> Model { get; } = new(StringComparer.Ordinal);

    /// <summary>The optimizer's state dict (empty when none was captured).</summary>
    public Dictionary<string, Tensor> Optimizer { get; } = new(StringComparer.Ordinal);

    /// <summary>The optimizer's <see cref="Optim.Optimizer.Name"/> (null when none was captured).</summary>
    public string? OptimizerName { get; set; }

    /// <summary>The scheduler's state dict (empty when none was captured).</summary>
    public Dictionary<string, Tensor> Scheduler { get; } = new(StringComparer.Ordinal);

    /// <summary>The last completed epoch.</summary>
    public int Epoch { get; set; }

    /// <summary>The number of optimizer steps taken so far.</summary>
    public long Step { get; set; }

    /// <summary>Batches of the epoch in progress already trained on (0 at an epoch boundary).</summary>
    public int Batch { get; set; }

    /// <summary>The running sums of the epoch in progress (all zero at an epoch boundary).</summary>
    internal EpochSums Partial { get; set; }

    /// <summary>Generator states by name (each the 6 words of <see cref="Generator.GetState"/>).</summary>
    public Dictionary<string, ulong[]> Generators { get; } = new(StringComparer.Ordinal);

    /// <summary>The state of each callback that has one (<see cref="ITrainingCallback.GetState"/>), by its index in <see cref="Trainer.Callbacks"/>.</summary>
    public SortedDictionary<int, Dictionary<string, double>> Callbacks { get; } = [];

    /// <summary>The metrics of every completed epoch (null when not recorded, as in <see cref="Capture"/>).</summary>
    public List<EpochMetrics>? History { get; set; }

    /// <summary>The file it was read from (<see cref="Load"/>; null when captured), named in errors.</summary>
    public string? Source { get; private set; }

    /// <summary>User metadata (keys must not start with <c>nabla.</c>).</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>Snapshots (copies) the state of a training run.</summary>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">The optimizer, or null.</param>
    /// <param name="scheduler">The learning-rate scheduler, or null.</param>
    /// <param name="epoch">The last completed epoch.</param>
    /// <param name="step">The optimizer steps taken so far.</param>
    /// <param name="generators">The generators the run draws from, by name (e.g. <c>"loader"</c>, <c>"default"</c>).</param>
    /// <param name="metadata">User metadata.</param>
    public static TrainingCheckpoint Capture(Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, int epoch = 0, long step = 0,
        IReadOnlyDictionary<string, Generator>? generators = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var c = new TrainingCheckpoint { Epoch = epoch, Step = step, OptimizerName = optimizer?.Name };
        foreach (var (k, t) in model.StateDict()) c.Model[k] = t.Detach().Clone();
        if (optimizer is not null) foreach (var (k, t) in optimizer.StateDict()) c.Optimizer[k] = t;
        if (scheduler is not null) foreach (var (k, t) in scheduler.StateDict()) c.Scheduler[k] = t;
        if (generators is not null) foreach (var (k, g) in generators) c.Generators[k] = g.GetState();
        if (metadata is not null) foreach (var (k, v) in metadata) c.Metadata[k] = v;
        return c;
    }

    /// <summary>
    /// Puts the captured state back into freshly built objects of the same configuration. The model, optimizer and
    /// scheduler each check everything before changing anything and report all problems at once; restore into new
    /// objects, since an error in a later part (say the scheduler) leaves the earlier ones (model, optimizer) restored.
    /// </summary>
    /// <exception cref="ArgumentException">A part does not fit, or an object was passed whose state the checkpoint lacks.</exception>
    public void Restore(Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, IReadOnlyDictionary<string, Generator>? generators = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var errors = new List<string>();
        if (optimizer is not null && Optimizer.Count == 0) errors.Add("an optimizer was given but the checkpoint holds no optimizer state");
        else if (optimizer is not null && OptimizerName != optimizer.Name) errors.Add($"it was written by a {Untrusted.Quote(OptimizerName)} optimizer, this run uses {optimizer.Name}");
        if (scheduler is not null && Scheduler.Count == 0) errors.Add("a scheduler was given but the checkpoint holds no scheduler state");
        if (generators is not null)
            foreach (var name in generators.Keys)
                if (!Generators.TryGetValue(name, out var s)) errors.Add($"the checkpoint holds no generator '{name}' (it has: {string.Join(", ", Generators.Keys.Select(Untrusted.Quote))})");
                else if (s.Length != 6) errors.Add($"generator '{name}' has {s.Length} state words instead of 6");
        if (errors.Count > 0) throw new ArgumentException("TrainingCheckpoint.Restore: " + string.Join("; ", errors) + ".");
        model.LoadStateDict(Model);
        optimizer?.LoadStateDict(Optimizer);
        scheduler?.LoadStateDict(Scheduler);
        if (generators is not null) foreach (var (name, g) in generators) g.SetState(Generators[name]);
    }

    /// <summary>Writes the checkpoint to <paramref name="path"/> atomically (see <see cref="SafeTensors.Save"/>), creating its folder.</summary>
    /// <exception cref="ArgumentException">A user metadata key starts with <c>nabla.</c>, or a generator or callback key is malformed.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, t) in Model) tensors["model." + k] = t;
        foreach (var (k, t) in Optimizer) tensors["optimizer." + k] = t;
        foreach (var (k, t) in Scheduler) tensors["scheduler." + k] = t;
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in Metadata)
        {
            if (k.StartsWith(Prefix, StringComparison.Ordinal)) throw new ArgumentException($"TrainingCheckpoint.Save: metadata key '{k}' uses the reserved prefix '{Prefix}'.");
            meta[k] = v;
        }
        var inv = CultureInfo.InvariantCulture;
        meta[FormatKey] = Format;
        meta[EpochKey] = Epoch.ToString(inv);
        meta[StepKey] = Step.ToString(inv);
        meta[BatchKey] = Batch.ToString(inv);
        meta[LossSumKey] = Partial.Loss.ToString("R", inv);
        meta[CorrectKey] = Partial.Correct.ToString(inv);
        meta[SeenKey] = Partial.Seen.ToString(inv);
        meta[SecondsKey] = Partial.Seconds.ToString("R", inv);
        if (OptimizerName is not null) meta[OptimizerKey] = OptimizerName;
        foreach (var (name, words) in Generators)
        {
            if (name.Length == 0 || words.Length != 6) throw new ArgumentException($"TrainingCheckpoint.Save: generator '{name}' needs a name and 6 state words, has {words.Length}.");
            meta[GeneratorPrefix + name] = string.Join(",", words.Select(w => w.ToString("x16", inv)));
        }
        foreach (var (i, state) in Callbacks)
            foreach (var (k, v) in state)
            {
                if (i < 0 || k.Length == 0) throw new ArgumentException($"TrainingCheckpoint.Save: callback state {i}.'{k}' needs an index ≥ 0 and a name.");
                meta[string.Create(inv, $"{CallbackPrefix}{i}.{k}")] = v.ToString("R", inv);
            }
        if (History is not null) meta[HistoryKey] = MetricsCsv.Format(History, exact: true);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        SafeTensors.Save(path, tensors, meta);
    }
}

/// <summary>The running sums of an epoch in progress: loss × samples, correct answers, samples seen, seconds spent.</summary>
internal readonly record struct EpochSums(double Loss, long Correct, long Seen, double Seconds);
