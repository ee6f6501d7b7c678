using System.CommandLine;
using System.Globalization;
using System.Text;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;

namespace Nabla.Cli;

/// <summary>`nabla explain`: each layer's answers to the text's three questions on one batch.</summary>
internal static class ExplainCommand
{
    private const string Description = """
        each layer's output, residuals and gradients on one batch

        Runs one batch of training digits through the model (a fresh one from --model, or the trained weights of a run folder DIR), back-propagates the cross-entropy loss, and prints for every layer the text's three answers:
          1. the output it passes on: shape, mean, std, min, max;
          2. its parameter gradients (shape, norm), computed from the residual it received;
          3. the residual it received from the next layer, ∇out J, and the residual it passes back, ∇in J (shapes, norms).
        Residuals are captured with Tensor.RetainGrad on each layer's input and output. --data DIR takes the digits from a folder of train-/t10k- IDX files (default: the run's data, or the bundled 10,000-digit sample for a fresh model).
        """;

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public static Command Create(SharedOptions shared)
    {
        var dir = new Argument<string?>("DIR") { Description = "a run folder whose trained weights to use (default: a fresh model from --model)", Arity = ArgumentArity.ZeroOrOne };
        var batch = CliOptions.Int("--batch-size", "N", "digits in the batch (default 32)", min: 1);
        var command = new Command("explain", Description) { dir, shared.Model, shared.Hidden, shared.Best, shared.Data, batch, shared.Seed };
        command.SetAction(r => Run(r, shared, r.GetValue(dir), r.GetValue(batch) ?? 32, r.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(ParseResult r, SharedOptions shared, string? dir, int batch, TextWriter stdout)
    {
        TrainConfig c;
        Module model;
        string source;
        if (dir is not null)
        {
            if (r.Given(shared.Model) || r.Given(shared.Hidden)) throw new CliException("nabla explain: give either a run folder or --model, not both.");
            var run = RunFolder.Open("explain", dir);
            (c, model, _) = RunModel.LoadModel("explain", run, r.GetValue(shared.Best));
            source = $"run {run.Path}";
        }
        else
        {
            (c, model, _, _) = InspectModel.FreshModel(r.GetValue(shared.Model), r.ListOrNull(shared.Hidden), r.GetValue(shared.Seed) ?? 1, "explain");
            c = c with { Data = Mnist.SampleName };
            source = "freshly initialised weights";
        }
        if (r.GetValue(shared.Data) is string d) c = c with { Data = d };
        var data = RunData.LoadSplits(c.Data, "explain").Train;
        int n = Math.Min(batch, data.Count), pixels = data.Rows * data.Cols;
        var shape = c.SampleShape(pixels);
        var pixelsIn = data.Images.AsSpan(0, n * pixels).ToArray();
        c.NormalizeInPlace(pixelsIn);
        var x0 = Tensor.FromArray(pixelsIn, [n, .. shape]).RequireGrad();
        var y = Tensor.FromArray(data.Labels.Take(n).Select(v => (float)v).ToArray(), n);
        model.Train();
        var layers = InspectModel.Layers(model);
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
            stdout.WriteLine($"  1. output passed on     {InspectModel.Shape(outT.Shape, false),-14} {Stats(outT)}");
            var ps = layer.NamedParameters().ToList();
            if (ps.Count == 0) stdout.WriteLine("  2. parameter gradients  none (no parameters)");
            else
            {
                var sb = new StringBuilder();
                foreach (var (pn, p) in ps)
                    sb.Append(sb.Length == 0 ? "" : "; ").Append(string.Create(s_inv, $"∇{pn} {InspectModel.Shape(p.Shape, false)} ‖·‖ {Norm(p.Grad):G4}"));
                stdout.WriteLine($"  2. parameter gradients  {sb}");
            }
            stdout.WriteLine(string.Create(s_inv, $"  3. residual received   ∇out J {InspectModel.Shape(outT.Shape, false),-14} ‖·‖ {Norm(outT.Grad):G4}"));
            stdout.WriteLine(string.Create(s_inv, $"     residual passed back ∇in J {InspectModel.Shape(inT.Shape, false),-14} ‖·‖ {Norm(inT.Grad):G4}"));
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
