using System.Globalization;
using System.Text;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;

namespace Nabla.Cli;

/// <summary>`nabla summary` (a Keras-style layer table) and `nabla explain` (each layer's answers to the text's three questions on one batch).</summary>
internal static class InspectCommands
{
    private const string SummaryHelp = """
        Usage: nabla summary [--model NAME] [--hidden A,B,...]

        Prints a table of the model's layers with their output shapes and parameter counts (like Keras'
        model.summary()), found by one forward pass of a dummy batch. N stands for the batch dimension.
        """;

    private const string ExplainHelp = """
        Usage: nabla explain [--model NAME] [--hidden A,B,...] [--data DIR] [--batch-size N] [--seed N]
               nabla explain DIR [--best] [--data DIR] [--batch-size N]

        Runs one batch of training digits through the model (a fresh one from --model, or the trained weights of a
        run folder DIR), back-propagates the cross-entropy loss, and prints for every layer the text's three answers:
          1. the output it passes on: shape, mean, std, min, max;
          2. its parameter gradients (shape, norm), computed from the residual it received;
          3. the residual it received from the next layer, ∇out J, and the residual it passes back, ∇in J (shapes, norms).
        Residuals are captured with Tensor.RetainGrad on each layer's input and output. Default batch: 32.
        --data DIR takes the digits from a folder of train-/t10k- IDX files (default: the run's data, or the bundled
        10,000-digit sample for a fresh model).
        """;

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>The model's layers in order: a Sequential's (recursively), else the model itself.</summary>
    private static List<(string Name, Module Layer)> Layers(Module m, string prefix = "")
    {
        if (m is not Sequential s) return [(prefix.Length == 0 ? "model" : prefix.TrimEnd('.'), m)];
        var list = new List<(string, Module)>();
        for (int i = 0; i < s.Layers.Count; i++) list.AddRange(Layers(s.Layers[i], prefix + i.ToString(s_inv) + "."));
        return list;
    }

    private static (TrainConfig Config, Module Model, int Rows, int Cols) FreshModel(Options o, string command)
    {
        var preset = Models.Get(o.String("model") ?? Models.Presets[0].Name);
        int[]? hidden = o.Has("hidden") ? o.IntList("hidden", []) : null;
        if (hidden is not null && preset.Name != "mlp") throw new CliException($"nabla {command}: --hidden applies to the mlp model only, not '{preset.Name}'.");
        int seed = o.Int("seed", 1, min: 0);
        var c = new TrainConfig(preset.Name, hidden, "", 1, 32, "sgd", preset.LearningRate, 0, 0, false, "constant", 0, 0, seed, 0, 0, Normalize: true);
        return (c, c.BuildModel(28 * 28, 10, new Generator((ulong)seed)), 28, 28);
    }

    private static string Shape(ReadOnlySpan<int> shape, bool batch = true)
    {
        var parts = new List<string>();
        for (int i = 0; i < shape.Length; i++) parts.Add(batch && i == 0 ? "N" : shape[i].ToString(s_inv));
        return "(" + string.Join(", ", parts) + ")";
    }

    public static int Summary(string[] args, TextWriter stdout)
    {
        var o = new Options("summary", args, new HashSet<string> { "help" }, new HashSet<string> { "model", "hidden" });
        if (o.Has("help")) { stdout.WriteLine(SummaryHelp); return 0; }
        if (o.Positionals.Count > 0) throw new CliException($"nabla summary: unexpected argument '{o.Positionals[0]}'. See 'nabla summary --help'.");
        var (c, model, rows, cols) = FreshModel(o, "summary");
        var layers = Layers(model);
        var rowsOut = new List<(string Layer, string Shape, long Params)>();
        Tensor x = Tensor.Zeros([1, .. c.SampleShape(rows * cols)]);
        model.Eval();
        using (Tensor.NoGrad())
        {
            foreach (var (name, layer) in layers)
            {
                x = layer.Forward(x);
                rowsOut.Add(($"{name} ({layer.GetType().Name})", Shape(x.Shape), layer.ParameterCount()));
            }
        }
        int w1 = Math.Max(28, rowsOut.Max(r => r.Layer.Length) + 2), w2 = Math.Max(20, rowsOut.Max(r => r.Shape.Length) + 2);
        string rule = new('─', w1 + w2 + 12), thick = new('═', w1 + w2 + 12);
        stdout.WriteLine($"Model: {c.Model}, input {Shape([1, .. c.SampleShape(rows * cols)])}");
        stdout.WriteLine(rule);
        stdout.WriteLine($"{"Layer (type)".PadRight(w1)}{"Output Shape".PadRight(w2)}{"Param #",12}");
        stdout.WriteLine(thick);
        foreach (var r in rowsOut) stdout.WriteLine(string.Create(s_inv, $"{r.Layer.PadRight(w1)}{r.Shape.PadRight(w2)}{r.Params,12:N0}"));
        stdout.WriteLine(thick);
        long total = model.ParameterCount(), trainable = model.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Numel);
        stdout.WriteLine(string.Create(s_inv, $"Total params: {total:N0} ({total * 4 / 1024.0:F1} KiB as float32)"));
        stdout.WriteLine(string.Create(s_inv, $"Trainable params: {trainable:N0}"));
        stdout.WriteLine(string.Create(s_inv, $"Non-trainable params: {total - trainable:N0}"));
        return 0;
    }

    public static int Explain(string[] args, TextWriter stdout)
    {
        var o = new Options("explain", args, new HashSet<string> { "help", "best" }, new HashSet<string> { "model", "hidden", "batch-size", "seed", "data" });
        if (o.Has("help")) { stdout.WriteLine(ExplainHelp); return 0; }
        if (o.Positionals.Count > 1) throw new CliException($"nabla explain: unexpected argument '{o.Positionals[1]}'. See 'nabla explain --help'.");
        TrainConfig c;
        Module model;
        string source;
        if (o.Positionals.Count == 1)
        {
            if (o.Has("model") || o.Has("hidden")) throw new CliException("nabla explain: give either a run folder or --model, not both.");
            var run = RunFolder.Open("explain", o.Positionals[0]);
            (c, model, _) = RunCommands.LoadModel("explain", run, o.Has("best"));
            source = $"run {run.Path}";
        }
        else
        {
            (c, model, _, _) = FreshModel(o, "explain");
            c = c with { Data = Mnist.SampleName };
            source = "freshly initialised weights";
        }
        if (o.String("data") is string d) c = c with { Data = d };
        int batch = o.Int("batch-size", 32, min: 1);
        var data = RunData.LoadSplits(c.Data, "explain").Train;
        int n = Math.Min(batch, data.Count), pixels = data.Rows * data.Cols;
        var shape = c.SampleShape(pixels);
        var pixelsIn = data.Images.AsSpan(0, n * pixels).ToArray();
        c.NormalizeInPlace(pixelsIn);
        var x0 = Tensor.FromArray(pixelsIn, [n, .. shape]).RequireGrad();
        var y = Tensor.FromArray(data.Labels.Take(n).Select(v => (float)v).ToArray(), n);
        model.Train();
        var layers = Layers(model);
        var inputs = new List<Tensor>();
        var outputs = new List<Tensor>();
        Tensor h = x0;
        foreach (var (_, layer) in layers)
        {
            inputs.Add(h);
            h = layer.Forward(h);
            h.RetainGrad();
            outputs.Add(h);
        }
        var loss = new CrossEntropyLoss().Forward(h, y);
        model.ZeroGrad();
        loss.Backward();

        stdout.WriteLine(string.Create(s_inv, $"Model: {c.Model} ({source}); one batch of {n} training digits; loss J = {loss.Item():F4} (cross-entropy, mean over the batch)"));
        stdout.WriteLine("For each layer, the text's three questions: 1. what it passes on, 2. its parameter gradients from the residual it received, 3. the residual it passes back.");
        for (int i = 0; i < layers.Count; i++)
        {
            var (name, layer) = layers[i];
            var (outT, inT) = (outputs[i], inputs[i]);
            stdout.WriteLine();
            stdout.WriteLine($"[{name}] {layer.ToString().Split('\n')[0]}");
            stdout.WriteLine($"  1. output passed on     {Shape(outT.Shape, false),-14} {Stats(outT)}");
            var ps = layer.NamedParameters().ToList();
            if (ps.Count == 0) stdout.WriteLine("  2. parameter gradients  none (no parameters)");
            else
            {
                var sb = new StringBuilder();
                foreach (var (pn, p) in ps)
                    sb.Append(sb.Length == 0 ? "" : "; ").Append(string.Create(s_inv, $"∇{pn} {Shape(p.Shape, false)} ‖·‖ {Norm(p.Grad):G4}"));
                stdout.WriteLine($"  2. parameter gradients  {sb}");
            }
            stdout.WriteLine(string.Create(s_inv, $"  3. residual received   ∇out J {Shape(outT.Shape, false),-14} ‖·‖ {Norm(outT.Grad):G4}"));
            stdout.WriteLine(string.Create(s_inv, $"     residual passed back ∇in J {Shape(inT.Shape, false),-14} ‖·‖ {Norm(inT.Grad):G4}"));
        }
        return 0;
    }

    private static double Norm(Tensor? t)
    {
        if (t is null) return double.NaN;
        double s = 0;
        foreach (var v in t.ToDoubleArray()) s += v * v;
        return Math.Sqrt(s);
    }

    private static string Stats(Tensor t)
    {
        var v = t.Detach().ToDoubleArray();
        double mean = v.Average(), std = Math.Sqrt(v.Sum(a => (a - mean) * (a - mean)) / v.Length);
        return string.Create(s_inv, $"mean {mean,9:F4}  std {std,8:F4}  min {v.Min(),9:F4}  max {v.Max(),9:F4}");
    }
}
