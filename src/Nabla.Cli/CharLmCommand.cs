using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nabla.Kernels;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// A character-level language model: Embedding → LSTM → connection layer to the vocabulary, trained with
/// cross-entropy to predict every next character of random windows of a text (truncated backpropagation through
/// time over the window), then sampled one character at a time, carrying (h, c) from step to step.
/// Parameter keys: <c>embed.weight</c>, <c>lstm.weight_ih_l0</c>, …, <c>fc.weight</c>, <c>fc.bias</c>.
/// </summary>
internal sealed class CharLm : Module
{
    private readonly Embedding _embed;
    private readonly LSTM _lstm;
    private readonly Linear _fc;

    public CharLm(int vocab, int embed, int hidden, int layers, Generator g)
    {
        _embed = RegisterModule("embed", new Embedding(vocab, embed, generator: g));
        _lstm = RegisterModule("lstm", new LSTM(embed, hidden, layers, batchFirst: true, generator: g));
        _fc = RegisterModule("fc", new Linear(hidden, vocab, generator: g));
    }

    /// <summary>Logits of the next character at every position. Shape: (B, T) indices → (B, T, vocab).</summary>
    public override Tensor Forward(Tensor input) => Step(input, null).Logits;

    /// <summary>Logits and the final state, from <paramref name="state"/> (null: zeros).</summary>
    public (Tensor Logits, (Tensor H, Tensor C) State) Step(Tensor input, (Tensor H, Tensor C)? state)
    {
        var o = _lstm.Forward(_embed.Forward(input), state);
        return (_fc.Forward(o.Output), (o.HN, o.CN));
    }
}

/// <summary>`nabla charlm --text FILE`: train a character-level LSTM language model on a text and sample from it.</summary>
internal static class CharLmCommand
{
    private const string Description = """
        a character-level LSTM language model trained on a text file, then sampled

        Trains a character-level language model on the text in FILE (UTF-8): Embedding → LSTM → connection layer, cross-entropy on the next character of random windows (backpropagation through time over each window), Adam with the gradient norm clipped at 1. The last 10% of the text is held out for validation. Prints the training and validation loss (nats and bits per character), then samples text from the model.

        Example: nabla charlm --text README.md --steps 500
        """;

    public static Command Create(SharedOptions shared)
    {
        var textOpt = CliOptions.Text("--text", "FILE", "the training text (required)");
        var stepsOpt = CliOptions.Int("--steps", "N", "training steps (default 1000)", min: 1);
        var seqLenOpt = CliOptions.Int("--seq-len", "T", "characters per window (default 64)", min: 1);
        var batchOpt = CliOptions.Int("--batch-size", "N", "windows per step (default 32)", min: 1);
        var embedOpt = CliOptions.Int("--embed", "E", "embedding size (default 32)", min: 1);
        var hiddenOpt = CliOptions.Int("--hidden", "H", "LSTM hidden size (default 128)", min: 1);
        var layersOpt = CliOptions.Int("--layers", "L", "LSTM layers (default 1)", min: 1);
        var lrOpt = CliOptions.Double("--lr", "X", "Adam learning rate (default 0.003)", min: 0, exclusiveMin: true);
        var sampleOpt = CliOptions.Int("--sample", "N", "characters to generate at the end (default 300; 0 = none)", min: 0);
        var temperatureOpt = CliOptions.Double("--temperature", "X", "sampling temperature (default 0.8)", min: 0, exclusiveMin: true);
        var promptOpt = CliOptions.Text("--prompt", "TEXT", "text to start the sample from (default: the text's first character)");
        var command = new Command("charlm", Description)
        {
            textOpt, stepsOpt, seqLenOpt, batchOpt, embedOpt, hiddenOpt, layersOpt, lrOpt, sampleOpt, temperatureOpt, promptOpt, shared.Seed, shared.Threads,
        };
        command.SetAction(r =>
        {
            shared.ApplyThreads(r);
            string path = r.GetValue(textOpt) ?? throw new CliException("nabla charlm: --text FILE is required (the text to learn from).");
            if (!File.Exists(path)) throw new CliException($"nabla charlm: text file '{path}' does not exist.");
            if (r.GetValue(promptOpt) is { Length: 0 }) throw new CliException("nabla charlm: --prompt must not be empty (leave it out to start from the text's first character).");
            return Run(path, r.GetValue(stepsOpt) ?? 1000, r.GetValue(seqLenOpt) ?? 64, r.GetValue(batchOpt) ?? 32, r.GetValue(embedOpt) ?? 32, r.GetValue(hiddenOpt) ?? 128,
                r.GetValue(layersOpt) ?? 1, r.GetValue(lrOpt) ?? 0.003, r.GetValue(sampleOpt) ?? 300, r.GetValue(temperatureOpt) ?? 0.8, r.GetValue(promptOpt),
                r.GetValue(shared.Seed) ?? 1, r.InvocationConfiguration.Output);
        });
        return command;
    }

    private static int Run(string path, int steps, int seqLen, int batch, int embed, int hidden, int layers, double lr, int sample, double temperature, string? promptText, int seed, TextWriter stdout)
    {
        string text = File.ReadAllText(path, Encoding.UTF8);
        int split = (int)(text.Length * 0.9);
        if (split < seqLen + 1 || text.Length - split < seqLen + 1)
            throw new CliException($"nabla charlm: '{path}' has {text.Length} characters; with --seq-len {seqLen} it needs at least {10 * (seqLen + 1)} (90% to train on, 10% to validate).");
        var vocab = text.Distinct().Order().ToArray();
        var index = new Dictionary<char, int>();
        for (int i = 0; i < vocab.Length; i++) index[vocab[i]] = i;
        var ids = text.Select(ch => index[ch]).ToArray();
        string prompt = promptText ?? text[..1];
        foreach (char ch in prompt)
            if (!index.ContainsKey(ch)) throw new CliException($"nabla charlm: the prompt's character '{ch}' does not occur in the text.");

        var g = new Generator((ulong)seed);
        var model = new CharLm(vocab.Length, embed, hidden, layers, g);
        var ce = new CrossEntropyLoss();
        var trainer = new Trainer(model, new Adam(model.Parameters(), lr), (logits, y) => ce.Forward(logits.Reshape(-1, vocab.Length), y.Reshape(-1))) { MaxGradNorm = 1.0 };
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(inv, $"text: {path} ({text.Length:N0} characters, {vocab.Length} distinct; {split:N0} to train, {text.Length - split:N0} to validate)"));
        stdout.WriteLine(string.Create(inv, $"model: Embedding({vocab.Length}, {embed}) → LSTM({embed}→{hidden}, {layers} layer(s)) → fc {hidden}→{vocab.Length} ({model.ParameterCount():N0} parameters), Adam lr={lr}, {steps} steps of {batch}x{seqLen}, seed {seed}, {Threading.MaxThreads} threads"));
        var sw = Stopwatch.StartNew();
        double running = 0;
        int seen = 0, report = Math.Max(1, steps / 10);
        for (int step = 1; step <= steps; step++)
        {
            var (x, y) = Windows(ids, 0, split, batch, seqLen, g);
            running += TrainCommand.Step(trainer, x, y, "charlm", lr);
            seen++;
            if (step % report == 0 || step == steps)
            {
                double val = Validate(model, ids, split, batch, seqLen, vocab.Length, seed);
                stdout.WriteLine(string.Create(inv,
                    $"step {step,6}/{steps}  train loss {running / seen:F4} ({running / seen / Math.Log(2):F3} bits/char)  val loss {val:F4} ({val / Math.Log(2):F3} bits/char)  {sw.Elapsed.TotalSeconds:F1} s"));
                running = 0;
                seen = 0;
            }
        }
        if (sample > 0)
        {
            stdout.WriteLine(string.Create(inv, $"sample ({sample} characters, temperature {temperature}):"));
            stdout.WriteLine(Sample(model, prompt, sample, temperature, index, vocab, new Generator((ulong)seed + 7)));
        }
        return 0;
    }

    /// <summary>Random windows of the ids in [from, to): x (B, T) and the next characters y (B, T).</summary>
    internal static (Tensor X, Tensor Y) Windows(int[] ids, int from, int to, int batch, int seqLen, Generator g)
    {
        var x = new float[batch * seqLen];
        var y = new float[batch * seqLen];
        for (int b = 0; b < batch; b++)
        {
            int start = (int)g.NextInt64(from, to - seqLen);
            for (int t = 0; t < seqLen; t++)
            {
                x[b * seqLen + t] = ids[start + t];
                y[b * seqLen + t] = ids[start + t + 1];
            }
        }
        return (Tensor.FromArray(x, batch, seqLen), Tensor.FromArray(y, batch, seqLen));
    }

    // mean cross-entropy over a fixed set of validation windows (the same every call)
    private static double Validate(CharLm model, int[] ids, int split, int batch, int seqLen, int vocab, int seed)
    {
        using var _ = Tensor.NoGrad();
        model.Eval();
        var (x, y) = Windows(ids, split, ids.Length, batch, seqLen, new Generator((ulong)seed + 99));
        double v = new CrossEntropyLoss().Forward(model.Forward(x).Reshape(-1, vocab), y.Reshape(-1)).Item();
        model.Train();
        return v;
    }

    /// <summary>Feeds the prompt, then draws each next character from softmax(logits / temperature), carrying the state.</summary>
    internal static string Sample(CharLm model, string prompt, int count, double temperature, Dictionary<char, int> index, char[] vocab, Generator g)
    {
        using var _ = Tensor.NoGrad();
        model.Eval();
        var sb = new StringBuilder(prompt);
        var input = Tensor.FromArray(prompt.Select(ch => (float)index[ch]).ToArray(), 1, prompt.Length);
        (Tensor H, Tensor C)? state = null;
        for (int n = 0; n < count; n++)
        {
            var (logits, st) = model.Step(input, state);
            state = st;
            var p = (logits.Select(1, -1).Select(0, 0) * (1 / temperature)).Softmax(0).ToDoubleArray();
            double u = g.NextDouble(), acc = 0;
            int next = p.Length - 1;
            for (int i = 0; i < p.Length; i++)
            {
                acc += p[i];
                if (u < acc) { next = i; break; }
            }
            sb.Append(vocab[next]);
            input = Tensor.FromArray(new[] { (float)next }, 1, 1);
        }
        model.Train();
        return sb.ToString();
    }
}
