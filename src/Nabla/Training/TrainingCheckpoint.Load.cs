using System.Globalization;
using Nabla.IO;

namespace Nabla.Training;

public sealed partial class TrainingCheckpoint
{
    private const string Prefix = "nabla.", FormatKey = "nabla.format", EpochKey = "nabla.epoch", StepKey = "nabla.step", BatchKey = "nabla.batch",
        LossSumKey = "nabla.partial.loss_sum", CorrectKey = "nabla.partial.correct", SeenKey = "nabla.partial.seen", SecondsKey = "nabla.partial.seconds",
        OptimizerKey = "nabla.optimizer", HistoryKey = "nabla.history", GeneratorPrefix = "nabla.generator.", CallbackPrefix = "nabla.callback.";

    private static readonly HashSet<string> s_known = [FormatKey, EpochKey, StepKey, BatchKey, LossSumKey, CorrectKey, SeenKey, SecondsKey, OptimizerKey, HistoryKey];

    /// <summary>
    /// Reads a checkpoint written by <see cref="Save"/>, checking every field: the format and version, each number's
    /// type and range (epoch and batch fit an <see cref="int"/>, counts are ≥ 0, sums finite), the generator states
    /// (6 hex words, not the all-zero state that never changes), the history (one row per completed epoch), and their
    /// consistency (no partial sums at an epoch boundary, no more correct answers than samples). Error messages are one
    /// line and quote the file's values only up to 80 characters.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file or not a valid Nabla training checkpoint.</exception>
    public static TrainingCheckpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(SafeTensors.Load(path), path);
    }

    /// <summary>A checkpoint file's bytes, read into memory elsewhere (rank 0 of a distributed run reads the file and broadcasts them); <paramref name="path"/> names it in messages.</summary>
    internal static TrainingCheckpoint Deserialize(byte[] bytes, string path)
    {
        using var ms = new MemoryStream(bytes, writable: false);
        return Parse(SafeTensors.Read(ms, bytes.Length, path), path);
    }

    private static TrainingCheckpoint Parse(SafeTensorsFile file, string path)
    {
        var meta = file.Metadata;
        InvalidDataException Bad(string why) => new($"training checkpoint '{path}': {why}.");

        if (!meta.TryGetValue(FormatKey, out var format))
            throw Bad($"it has no '{FormatKey}' metadata, so it is not a Nabla training checkpoint (or one older than {Format})");
        if (format != Format) throw Bad($"its format is {Untrusted.Quote(format)}; this version of Nabla reads '{Format}' only");

        long Integer(string key, long min, long max)
        {
            if (!meta.TryGetValue(key, out var s)) throw Bad($"metadata '{key}' is missing");
            if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) || v < min || v > max)
                throw Bad($"metadata '{key}' is {Untrusted.Quote(s)}, expected an integer from {min} to {max}");
            return v;
        }
        double Finite(string key, double min)
        {
            if (!meta.TryGetValue(key, out var s)) throw Bad($"metadata '{key}' is missing");
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || v < min)
                throw Bad($"metadata '{key}' is {Untrusted.Quote(s)}, expected a finite number{(min > double.MinValue ? " ≥ " + min.ToString(CultureInfo.InvariantCulture) : "")}");
            return v;
        }

        var c = new TrainingCheckpoint
        {
            Source = path,
            Epoch = (int)Integer(EpochKey, 0, int.MaxValue),
            Step = Integer(StepKey, 0, long.MaxValue),
            Batch = (int)Integer(BatchKey, 0, int.MaxValue),
            Partial = new EpochSums(Finite(LossSumKey, double.MinValue), Integer(CorrectKey, 0, long.MaxValue), Integer(SeenKey, 0, long.MaxValue), Finite(SecondsKey, 0)),
            OptimizerName = meta.GetValueOrDefault(OptimizerKey),
        };
        var p = c.Partial;
        if (c.Batch == 0 && p != default) throw Bad($"it is at an epoch boundary ('{BatchKey}' 0) but its 'nabla.partial.*' sums are not zero");
        if (c.Batch > 0 && p.Seen < c.Batch) throw Bad($"'{SeenKey}' is {p.Seen}, fewer samples than the {c.Batch} batches of '{BatchKey}'");
        if (p.Correct > p.Seen) throw Bad($"'{CorrectKey}' ({p.Correct}) is larger than '{SeenKey}' ({p.Seen})");
        if (c.Step < c.Batch) throw Bad($"'{StepKey}' ({c.Step}) is smaller than '{BatchKey}' ({c.Batch}), but every batch is a step");

        foreach (var (k, t) in file.Tensors)
        {
            if (k.StartsWith("model.", StringComparison.Ordinal)) c.Model[k["model.".Length..]] = t;
            else if (k.StartsWith("optimizer.", StringComparison.Ordinal)) c.Optimizer[k["optimizer.".Length..]] = t;
            else if (k.StartsWith("scheduler.", StringComparison.Ordinal)) c.Scheduler[k["scheduler.".Length..]] = t;
            else throw Bad($"it holds a tensor {Untrusted.Quote(k)} outside the model./optimizer./scheduler. prefixes");
        }
        if (c.Model.Count == 0) throw Bad("it holds no model tensors");
        if ((c.OptimizerName is null) != (c.Optimizer.Count == 0))
            throw Bad(c.OptimizerName is null ? $"it holds optimizer tensors but no '{OptimizerKey}' name" : $"'{OptimizerKey}' is {Untrusted.Quote(c.OptimizerName)} but it holds no optimizer tensors");

        foreach (var (k, v) in meta)
        {
            if (!k.StartsWith(Prefix, StringComparison.Ordinal)) c.Metadata[k] = v;
            else if (k.StartsWith(GeneratorPrefix, StringComparison.Ordinal)) c.Generators[k[GeneratorPrefix.Length..]] = GeneratorState(k, v, Bad);
            else if (k.StartsWith(CallbackPrefix, StringComparison.Ordinal)) AddCallbackState(c, k, v, Bad);
            else if (!s_known.Contains(k)) throw Bad($"it has an unknown metadata key {Untrusted.Quote(k)}");
        }

        if (meta.TryGetValue(HistoryKey, out var history))
        {
            try { c.History = MetricsCsv.Parse(history, $"metadata '{HistoryKey}'"); }
            catch (InvalidDataException e) { throw Bad(e.Message.TrimEnd('.')); }
            if (c.History.Count != c.Epoch) throw Bad($"'{HistoryKey}' has {c.History.Count} epoch(s) but '{EpochKey}' is {c.Epoch}");
            for (int i = 0; i < c.History.Count; i++)
                if (c.History[i].Epoch != i + 1) throw Bad($"row {i + 1} of '{HistoryKey}' is epoch {c.History[i].Epoch}, expected {i + 1}");
        }
        return c;
    }

    private static ulong[] GeneratorState(string key, string value, Func<string, InvalidDataException> bad)
    {
        var parts = value.Split(',');
        var words = new ulong[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (parts.Length != 6 || parts[i].Length != 16 || !ulong.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out words[i]))
                throw bad($"metadata '{key}' is {Untrusted.Quote(value)}, expected 6 comma-separated 16-digit hex words");
        // xoshiro256**'s all-zero state only ever yields zeros; words 4-5 are the cached normal (value, present flag)
        if ((words[0] | words[1] | words[2] | words[3]) == 0) throw bad($"metadata '{key}' is the all-zero generator state, which never changes");
        bool spare = words[5] == 1;
        if (words[5] > 1 || (!spare && words[4] != 0) || (spare && !double.IsFinite(BitConverter.Int64BitsToDouble((long)words[4]))))
            throw bad($"metadata '{key}' holds a malformed cached normal (words 5-6: {parts[4]}, {parts[5]})");
        return words;
    }

    private static void AddCallbackState(TrainingCheckpoint c, string key, string value, Func<string, InvalidDataException> bad)
    {
        string rest = key[CallbackPrefix.Length..];
        int dot = rest.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || dot == rest.Length - 1 || !int.TryParse(rest.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index > 1000)
            throw bad($"metadata key {Untrusted.Quote(key)} is not '{CallbackPrefix}INDEX.NAME'");
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
            throw bad($"metadata {Untrusted.Quote(key)} is {Untrusted.Quote(value)}, expected a number");
        if (!c.Callbacks.TryGetValue(index, out var state)) c.Callbacks[index] = state = new(StringComparer.Ordinal);
        state[rest[(dot + 1)..]] = v;
    }
}
