using System.CommandLine;
using System.Text;
using Nabla.IO;

namespace Nabla.Cli;

/// <summary>`nabla generate DIR`: text sampled one character at a time from a gpt run's model.</summary>
internal static class GenerateCommand
{
    private const string Description = """
        text sampled from a gpt run's model

        Loads a run trained with nabla train --model gpt (DIR/model.safetensors) and continues --prompt one character at a time: the model sees the last --context characters, its logits for the next one are divided by --temperature, all but the --top-k largest dropped, and the character drawn from their softmax. --temperature 0 takes the most likely character (greedy; no randomness). The same --seed gives the same text. Prints the prompt followed by the generated characters.

        Example: nabla generate runs/gpt-20260101-120000 --prompt "1:1 In the beginning" --length 300 --temperature 0.8
        """;


    public static Command Create(SharedOptions shared)
    {
        var dir = new Argument<string>("DIR") { Description = "the run folder (runs/NAME) of a gpt run" };
        var prompt = CliOptions.Text("--prompt", "TEXT", "the text to continue (default: a line break); every character must occur in the training text");
        var length = CliOptions.Int("--length", "N", "characters to generate (default 500)", min: 0);
        var temperature = CliOptions.Double("--temperature", "T", "divides the logits: below 1 more conservative, above 1 more varied; 0 = greedy (default 0.8)", min: 0);
        var topK = CliOptions.Int("--top-k", "K", "sample among the K most likely characters only (default: all)", min: 1);
        var command = new Command("generate", Description) { dir, prompt, length, temperature, topK, shared.Seed, shared.Threads };
        command.SetAction(r =>
        {
            shared.ApplyThreads(r);
            return Run(r.GetValue(dir)!, r.GetValue(prompt) ?? "\n", r.GetValue(length) ?? 500, r.GetValue(temperature) ?? 0.8, r.GetValue(topK),
                r.GetValue(shared.Seed) ?? 1, r.InvocationConfiguration.Output);
        });
        return command;
    }

    private static int Run(string dir, string prompt, int length, double temperature, int? topK, int seed, TextWriter stdout)
    {
        if (prompt.Length == 0) throw new CliException("nabla generate: --prompt must not be empty (leave it out to start from a line break).");
        var run = RunFolder.Open("generate", dir);
        var raw = run.ReadConfig();
        if (!GptConfig.IsGpt(raw))
            throw new CliException($"nabla generate: '{run.Path}' holds a '{(raw.TryGetValue("model", out var m) ? m : "?")}' model, not a gpt language model (train one with nabla train --model gpt).");
        var c = GptConfig.FromDictionary(raw, run.ConfigFile);
        var ids = GptText.Encode(prompt.ReplaceLineEndings("\n"), c.Vocab, "prompt", "generate");
        if (!File.Exists(run.ModelFile)) throw new CliException($"nabla generate: '{run.Path}' has no model.safetensors yet (train it first).");
        var model = c.BuildModel(new Generator((ulong)c.Seed));
        model.LoadStateDict(SafeTensors.Load(run.ModelFile).Tensors);
        model.Eval();
        stdout.Write(prompt);
        var sb = new StringBuilder();
        foreach (int id in Sample(model, ids, length, temperature, topK, new Generator((ulong)seed)))
        {
            sb.Append(c.Vocab[id]);
            if (sb.Length >= 64) { stdout.Write(sb.ToString()); stdout.Flush(); sb.Clear(); }
        }
        stdout.WriteLine(sb.ToString());
        return 0;
    }

    /// <summary>
    /// The next <paramref name="length"/> character ids after <paramref name="prompt"/>: each from the model's logits at
    /// the last position (of at most the last context characters), divided by <paramref name="temperature"/> (0: the
    /// arg-max), restricted to the <paramref name="topK"/> largest (ties at the k-th value kept), drawn with
    /// <paramref name="g"/>.
    /// </summary>
    internal static IEnumerable<int> Sample(Gpt model, int[] prompt, int length, double temperature, int? topK, Generator g)
    {
        var context = new List<int>(prompt);
        for (int n = 0; n < length; n++)
        {
            int start = Math.Max(0, context.Count - model.Context), t = context.Count - start;
            var x = new float[t];
            for (int i = 0; i < t; i++) x[i] = context[start + i];
            double[] logits;
            using (Tensor.NoGrad())
                logits = model.Forward(Tensor.FromArray(x, 1, t)).Select(1, t - 1).Reshape(-1).ToDoubleArray();
            int next = Pick(logits, temperature, topK, g);
            context.Add(next);
            yield return next;
        }
    }

    /// <summary>An index drawn from softmax(logits / temperature) over the top-k logits; the arg-max (first) when temperature is 0.</summary>
    internal static int Pick(double[] logits, double temperature, int? topK, Generator g)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        if (temperature == 0) return best;
        double cut = double.NegativeInfinity;
        if (topK is int k && k < logits.Length)
        {
            var sorted = (double[])logits.Clone();
            Array.Sort(sorted);
            cut = sorted[^k];
        }
        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = logits[i] >= cut ? Math.Exp((logits[i] - logits[best]) / temperature) : 0;
            sum += p[i];
        }
        double u = g.NextDouble() * sum;
        for (int i = 0; i < p.Length; i++)
        {
            u -= p[i];
            if (u < 0 && p[i] > 0) return i;
        }
        return best; // rounding left u ≥ 0 after the last term
    }
}
