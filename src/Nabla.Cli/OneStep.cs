using System.Globalization;
using Nabla.Data;
using Nabla.Diagnostics;
using Nabla.Losses;
using Nabla.NN;

namespace Nabla.Cli;

/// <summary>
/// What graph and report share: one training step on one batch of digits, drawn (<see cref="AutogradGraph.Capture"/>)
/// and measured per layer (explain's three answers), with each layer's ops in its <see cref="ModuleScope"/>.
/// </summary>
internal static class OneStep
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>One parameter's gradient.</summary>
    public sealed record ParamGrad(string Name, string Shape, double Norm);

    /// <summary>One layer's answers: the output it passes on, its parameter gradients, the residuals it received and passed back.</summary>
    public sealed record Layer(string Name, string Type, string Shape, double Mean, double Std, double Min, double Max,
        IReadOnlyList<ParamGrad> Grads, double ResidualOut, double ResidualIn);

    /// <summary>The step: its loss, the drawn graph (collapsed when large) and the per-layer rows.</summary>
    public sealed record Result(double Loss, int Batch, AutogradGraph Graph, IReadOnlyList<Layer> Layers);

    /// <summary>A run's model with its weights, or a fresh one of a preset.</summary>
    public static (TrainConfig Config, Module Model, string Source) LoadModel(string command, string? dir, string? modelName, int[]? hidden, bool best, int seed)
    {
        if (dir is not null)
        {
            if (modelName is not null || hidden is not null) throw new CliException($"nabla {command}: give either a run folder or --model, not both.");
            var run = RunFolder.Open(command, dir);
            var (c, model, _) = RunModel.LoadModel(command, run, best);
            return (c, model, $"run {run.Path}");
        }
        var (fc, fresh, _, _) = InspectModel.FreshModel(modelName, hidden, seed, command);
        return (fc with { Data = Mnist.SampleName }, fresh, "freshly initialised weights");
    }

    /// <summary>
    /// Runs the step on the first <paramref name="batch"/> training digits of <paramref name="data"/> (default: the
    /// config's). <paramref name="collapse"/>: 0 draws every op, N groups per module path of depth N, null decides
    /// (grouped when over 80 boxes).
    /// </summary>
    public static Result Run(string command, TrainConfig c, Module model, string? data, int batch, int? collapse)
    {
        var d = RunData.LoadSplits(data ?? c.Data, command).Train;
        int n = Math.Min(batch, d.Count), pixels = d.Rows * d.Cols;
        var pixelsIn = d.Images.AsSpan(0, n * pixels).ToArray();
        c.NormalizeInPlace(pixelsIn);
        var x0 = Tensor.FromArray(pixelsIn, [n, .. c.SampleShape(pixels)]).RequireGrad();
        var y = Tensor.FromArray(d.Labels.Take(n).Select(v => (float)v).ToArray(), n);
        model.Train();
        var layers = InspectModel.Layers(model);
        var inputs = new List<Tensor>();
        var outputs = new List<Tensor>();
        Tensor h = x0;
        foreach (var (name, layer) in layers)
        {
            inputs.Add(h);
            if (layer == model) h = layer.Forward(h);   // not a Sequential: its own ForwardChild calls name the scopes
            else using (ModuleScope.Enter(name)) h = layer.Forward(h);
            h.RetainGrad();
            outputs.Add(h);
        }
        var loss = new CrossEntropyLoss().Forward(h, y);
        model.ZeroGrad();
        var graph = AutogradGraph.Capture(loss, model);
        int depth = collapse ?? (graph.Nodes.Count > 80 ? 1 : 0);
        if (depth > 0) graph = graph.Collapse(depth);
        var rows = new List<Layer>();
        for (int i = 0; i < layers.Count; i++)
        {
            var (name, layer) = layers[i];
            var v = outputs[i].Detach().ToDoubleArray();
            double mean = v.Average(), std = Math.Sqrt(v.Sum(a => (a - mean) * (a - mean)) / v.Length);
            var grads = layer.NamedParameters().Select(kv => new ParamGrad(kv.Key, InspectModel.Shape(kv.Value.Shape, false), Norm(kv.Value.Grad))).ToList();
            rows.Add(new Layer(name, layer.GetType().Name, InspectModel.Shape(outputs[i].Shape), mean, std, v.Min(), v.Max(), grads,
                Norm(outputs[i].Grad), Norm(inputs[i].Grad)));
        }
        return new Result(loss.Item(), n, graph, rows);
    }

    public static double Norm(Tensor? t)
    {
        if (t is null) return double.NaN;
        double s = 0;
        foreach (var v in t.ToDoubleArray()) s += v * v;
        return Math.Sqrt(s);
    }

    public static string G4(double v) => v.ToString("G4", s_inv);
}
