using System.Globalization;
using Nabla.IO;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;

namespace Nabla.Cli;

/// <summary>
/// The options of a `nabla train --model gpt` run: everything that rebuilds it (run.json; read back by --resume and
/// generate). An epoch is one pass over the training characters: ⌊train characters / (batch · context)⌋ steps, each
/// on <see cref="BatchSize"/> windows at random offsets.
/// </summary>
internal sealed record GptConfig(string Text, string Vocab, int TextChars, int Context, int Dim, int Layers, int Heads, double Dropout,
    int Epochs, int BatchSize, string Optimizer, double Lr, double WeightDecay, string Schedule, int Warmup, int Seed)
{
    public const string ModelName = "gpt";

    /// <summary>The --model line of --help.</summary>
    public const string Description = "a character-level decoder-only transformer language model, trained on --text FILE (default: the bundled KJV Genesis and Exodus); sample it with nabla generate";

    /// <summary>Defaults: a model of about 0.35 M parameters, small enough to learn words and verse numbers in minutes on two cores.</summary>
    public const int DefaultContext = 64, DefaultDim = 96, DefaultLayers = 3, DefaultHeads = 4, DefaultEpochs = 3, DefaultBatch = 32;

    public const double DefaultLr = 3e-3, DefaultWeightDecay = 0.1;

    /// <summary>The gradients' global norm is clipped to this before each step.</summary>
    public const double MaxGradNorm = 1.0;

    public static readonly string[] Optimizers = ["adamw", "adam"];
    public static readonly string[] Schedules = ["cosine", "constant"];

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>Optimizer steps per epoch for a text of <see cref="TextChars"/> characters.</summary>
    public int StepsPerEpoch => Math.Max(1, (int)(TextChars * GptText.TrainFraction) / (BatchSize * Context));

    public Dictionary<string, string> ToDictionary() => new(StringComparer.Ordinal)
    {
        ["model"] = ModelName,
        ["text"] = Text,
        ["vocab"] = Vocab,
        ["text_chars"] = TextChars.ToString(s_inv),
        ["context"] = Context.ToString(s_inv),
        ["dim"] = Dim.ToString(s_inv),
        ["layers"] = Layers.ToString(s_inv),
        ["heads"] = Heads.ToString(s_inv),
        ["dropout"] = Dropout.ToString("R", s_inv),
        ["epochs"] = Epochs.ToString(s_inv),
        ["batch_size"] = BatchSize.ToString(s_inv),
        ["optimizer"] = Optimizer,
        ["lr"] = Lr.ToString("R", s_inv),
        ["weight_decay"] = WeightDecay.ToString("R", s_inv),
        ["schedule"] = Schedule,
        ["warmup"] = Warmup.ToString(s_inv),
        ["seed"] = Seed.ToString(s_inv),
        ["steps_per_epoch"] = StepsPerEpoch.ToString(s_inv),
    };

    /// <summary>Whether run.json describes a gpt run.</summary>
    public static bool IsGpt(IReadOnlyDictionary<string, string> d) => d.TryGetValue("model", out var m) && m == ModelName;

    public static GptConfig FromDictionary(IReadOnlyDictionary<string, string> d, string source)
    {
        string S(string k) => d.TryGetValue(k, out var v) ? v : throw new InvalidDataException($"{source}: missing '{k}'.");
        int I(string k, int min) => int.TryParse(S(k), NumberStyles.Integer, s_inv, out int v) && v >= min ? v
            : throw new InvalidDataException($"{source}: '{k}' must be an integer ≥ {min}, got {Untrusted.Quote(S(k))}.");
        double D(string k) => double.TryParse(S(k), NumberStyles.Float, s_inv, out double v) && double.IsFinite(v) && v >= 0 ? v
            : throw new InvalidDataException($"{source}: '{k}' must be a number ≥ 0, got {Untrusted.Quote(S(k))}.");
        string vocab = S("vocab");
        if (vocab.Length == 0 || vocab.Distinct().Count() != vocab.Length)
            throw new InvalidDataException($"{source}: 'vocab' must list distinct characters, got {vocab.Length} characters with {vocab.Length - vocab.Distinct().Count()} repeated.");
        var c = new GptConfig(S("text"), vocab, I("text_chars", 2), I("context", 1), I("dim", 1), I("layers", 1), I("heads", 1), D("dropout"),
            I("epochs", 1), I("batch_size", 1), S("optimizer"), D("lr"), D("weight_decay"), S("schedule"), I("warmup", 0), I("seed", 0));
        if (c.Dim % c.Heads != 0) throw new InvalidDataException($"{source}: 'dim' ({c.Dim}) must be divisible by 'heads' ({c.Heads}).");
        if (!Optimizers.Contains(c.Optimizer)) throw new InvalidDataException($"{source}: 'optimizer' must be one of {string.Join(", ", Optimizers)}, got {Untrusted.Quote(c.Optimizer)}.");
        if (!Schedules.Contains(c.Schedule)) throw new InvalidDataException($"{source}: 'schedule' must be one of {string.Join(", ", Schedules)}, got {Untrusted.Quote(c.Schedule)}.");
        return c;
    }

    /// <summary>The model, initialised from <paramref name="init"/>, which dropout (when on) then draws its masks from.</summary>
    public Gpt BuildModel(Generator init) => new(Vocab.Length, Context, Dim, Layers, Heads, Dropout, init);

    /// <summary>AdamW (or Adam) with weight decay on the matrices only: embeddings and weights, not biases or LayerNorm's gains (as GPT-2).</summary>
    public Optimizer BuildOptimizer(Module model)
    {
        var named = model.NamedParameters().ToList();
        var decay = new ParamGroup(named.Where(p => p.Value.Rank >= 2).Select(p => (Tensor)p.Value), new Dictionary<string, double> { ["weight_decay"] = WeightDecay });
        var noDecay = new ParamGroup(named.Where(p => p.Value.Rank < 2).Select(p => (Tensor)p.Value), new Dictionary<string, double> { ["weight_decay"] = 0 });
        return Optimizer == "adam" ? new Adam([decay, noDecay], Lr) : new AdamW([decay, noDecay], Lr);
    }

    /// <summary>Per step: a linear warm-up from λ/10 over the first <see cref="Warmup"/> epochs, then cosine decay to 0 (or constant).</summary>
    public LRScheduler? BuildScheduler(Optimizer optimizer)
    {
        int total = Epochs * StepsPerEpoch, warm = Warmup * StepsPerEpoch;
        LRScheduler? main = Schedule == "cosine" ? new CosineAnnealingLR(optimizer, total - warm) : null;
        if (warm == 0) return main;
        var ramp = new LinearLR(optimizer, startFactor: 0.1, endFactor: 1, totalIters: warm);
        main ??= new LinearLR(optimizer, startFactor: 1, endFactor: 1, totalIters: 1);
        return new SequentialLR(optimizer, [ramp, main], [warm]);
    }

    public string Describe(long parameters, int threads) => string.Create(s_inv,
        $"model: gpt, {Layers} layer(s), {Heads} head(s), dim {Dim}, context {Context}, vocab {Vocab.Length}{(Dropout > 0 ? $", dropout {Dropout}" : "")} ({parameters:N0} parameters), {Optimizer} lr={Lr} weight_decay={WeightDecay} ({Schedule}{(Warmup > 0 ? $", warm-up {Warmup} epoch(s)" : "")}), batch {BatchSize}, {Epochs} epochs of {StepsPerEpoch} steps, seed {Seed}, {threads} thread{(threads == 1 ? "" : "s")}");
}
