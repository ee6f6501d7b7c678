using System.Globalization;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;

namespace Nabla.IO;

/// <summary>
/// Everything a training run needs to continue bit-identically, in one safetensors file:
/// <list type="bullet">
/// <item>tensors <c>model.{key}</c> (the model's state dict), <c>optimizer.{key}</c> (<see cref="Optimizer.StateDict"/>:
/// <c>optimizer.state.0.exp_avg</c>, <c>optimizer.param_groups.0.lr</c>, ...), <c>scheduler.{key}</c> (<see cref="LRScheduler.StateDict"/>);</item>
/// <item>metadata <c>nabla.format</c> = <c>nabla.training/1</c>, <c>nabla.epoch</c>, <c>nabla.step</c> (decimal),
/// <c>nabla.generator.{name}</c> (the generator's <see cref="Generator.GetState"/> words as 16-digit hex, comma-separated),
/// and the user's own metadata keys (which must not start with <c>nabla.</c>).</item>
/// </list>
/// Capture at an epoch boundary (after the scheduler step) with every generator the run draws from (the DataLoader's,
/// <see cref="Generator.Default"/> if dropout or transforms use it), then on resume build the same model, optimizer and
/// scheduler, call <see cref="Restore"/>, and continue from epoch <see cref="Epoch"/> + 1.
/// </summary>
public sealed class TrainingCheckpoint
{
    /// <summary>The format tag stored in <c>nabla.format</c>.</summary>
    public const string Format = "nabla.training/1";

    /// <summary>The model's state dict (PyTorch keys).</summary>
    public Dictionary<string, Tensor> Model { get; } = new(StringComparer.Ordinal);

    /// <summary>The optimizer's state dict (empty when none was captured).</summary>
    public Dictionary<string, Tensor> Optimizer { get; } = new(StringComparer.Ordinal);

    /// <summary>The scheduler's state dict (empty when none was captured).</summary>
    public Dictionary<string, Tensor> Scheduler { get; } = new(StringComparer.Ordinal);

    /// <summary>The last completed epoch (the caller's convention; stored as is).</summary>
    public long Epoch { get; set; }

    /// <summary>The number of optimizer steps taken so far (the caller's convention; stored as is).</summary>
    public long Step { get; set; }

    /// <summary>Generator states by name (each the 6 words of <see cref="Generator.GetState"/>).</summary>
    public Dictionary<string, ulong[]> Generators { get; } = new(StringComparer.Ordinal);

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
    public static TrainingCheckpoint Capture(Module model, Optimizer? optimizer = null, LRScheduler? scheduler = null, long epoch = 0, long step = 0,
        IReadOnlyDictionary<string, Generator>? generators = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var c = new TrainingCheckpoint { Epoch = epoch, Step = step };
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
        if (scheduler is not null && Scheduler.Count == 0) errors.Add("a scheduler was given but the checkpoint holds no scheduler state");
        if (generators is not null)
            foreach (var name in generators.Keys)
                if (!Generators.TryGetValue(name, out var s)) errors.Add($"the checkpoint holds no generator '{name}' (it has: {string.Join(", ", Generators.Keys)})");
                else if (s.Length != 6) errors.Add($"generator '{name}' has {s.Length} state words instead of 6");
        if (errors.Count > 0) throw new ArgumentException("TrainingCheckpoint.Restore: " + string.Join("; ", errors) + ".");
        model.LoadStateDict(Model);
        optimizer?.LoadStateDict(Optimizer);
        scheduler?.LoadStateDict(Scheduler);
        if (generators is not null) foreach (var (name, g) in generators) g.SetState(Generators[name]);
    }

    /// <summary>Writes the checkpoint to <paramref name="path"/> atomically (see <see cref="SafeTensors.Save"/>).</summary>
    public void Save(string path)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, t) in Model) tensors["model." + k] = t;
        foreach (var (k, t) in Optimizer) tensors["optimizer." + k] = t;
        foreach (var (k, t) in Scheduler) tensors["scheduler." + k] = t;
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in Metadata)
        {
            if (k.StartsWith("nabla.", StringComparison.Ordinal)) throw new ArgumentException($"TrainingCheckpoint.Save: metadata key '{k}' uses the reserved prefix 'nabla.'.");
            meta[k] = v;
        }
        var inv = CultureInfo.InvariantCulture;
        meta["nabla.format"] = Format;
        meta["nabla.epoch"] = Epoch.ToString(inv);
        meta["nabla.step"] = Step.ToString(inv);
        foreach (var (name, words) in Generators)
            meta["nabla.generator." + name] = string.Join(",", words.Select(w => w.ToString("x16", inv)));
        SafeTensors.Save(path, tensors, meta);
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file or not a Nabla training checkpoint.</exception>
    public static TrainingCheckpoint Load(string path)
    {
        var file = SafeTensors.Load(path);
        var meta = file.Metadata;
        if (!meta.TryGetValue("nabla.format", out var format) || format != Format)
            throw new InvalidDataException($"TrainingCheckpoint: '{path}' is not a Nabla training checkpoint (nabla.format is '{format ?? "absent"}', expected '{Format}').");
        var c = new TrainingCheckpoint
        {
            Epoch = ParseLong(meta, "nabla.epoch", path),
            Step = ParseLong(meta, "nabla.step", path),
        };
        foreach (var (k, t) in file.Tensors)
        {
            if (k.StartsWith("model.", StringComparison.Ordinal)) c.Model[k["model.".Length..]] = t;
            else if (k.StartsWith("optimizer.", StringComparison.Ordinal)) c.Optimizer[k["optimizer.".Length..]] = t;
            else if (k.StartsWith("scheduler.", StringComparison.Ordinal)) c.Scheduler[k["scheduler.".Length..]] = t;
            else throw new InvalidDataException($"TrainingCheckpoint: '{path}' holds a tensor '{k}' outside the model./optimizer./scheduler. prefixes.");
        }
        foreach (var (k, v) in meta)
        {
            if (k.StartsWith("nabla.generator.", StringComparison.Ordinal))
            {
                var parts = v.Split(',');
                var words = new ulong[parts.Length];
                for (int i = 0; i < parts.Length; i++)
                    if (parts[i].Length != 16 || !ulong.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out words[i]))
                        throw new InvalidDataException($"TrainingCheckpoint: '{path}': metadata '{k}' is not a list of 16-digit hex words.");
                c.Generators[k["nabla.generator.".Length..]] = words;
            }
            else if (!k.StartsWith("nabla.", StringComparison.Ordinal)) c.Metadata[k] = v;
        }
        return c;
    }

    private static long ParseLong(Dictionary<string, string> meta, string key, string path) =>
        meta.TryGetValue(key, out var s) && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v
            : throw new InvalidDataException($"TrainingCheckpoint: '{path}': metadata '{key}' is missing or not an integer.");
}
