using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using Nabla.Cli.Plotting;
using Nabla.Diagnostics;
using Nabla.IO;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// The HTML of a run's report: one page with everything inline (CSS, SVG plots and graph; no script, no network), so it
/// opens from a file, an e-mail or an archive years later. Each part that cannot be made (no weights yet, data
/// missing) says why in its place instead of failing the page.
/// </summary>
internal static class ReportHtml
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    private const string Style = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1d1d1f}
        h1{font-size:22px;margin:8px 0 2px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        nav a{margin-right:14px} .muted{color:#666} .error{color:#b3261e}
        table{border-collapse:collapse;margin:6px 0;font-size:13px} th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
        th{background:#f5f5f7} td.num{text-align:right;font-variant-numeric:tabular-nums;font-family:ui-monospace,Menlo,Consolas,monospace}
        .plots{display:flex;flex-wrap:wrap;gap:8px} .plots svg{width:540px;max-width:100%;height:auto;border:1px solid #eee}
        .graph{overflow:auto;max-height:900px;border:1px solid #ddd} pre{background:#f5f5f7;padding:8px;overflow:auto}
        .legend span{display:inline-block;padding:1px 8px;margin-right:8px;border-radius:4px;border:1px solid}
        """;

    public static string Build(RunFolder run, bool best, string? data, int batch)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        sb.Append($"<title>{H(run.Name)}: Nabla run report</title><style>{Style}</style></head>\n<body>\n");
        sb.Append($"<h1>Run {H(run.Name)}</h1><p class=\"muted\">{H(run.Path)} · report written {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm", s_inv)} UTC by nabla {H(typeof(Tensor).Assembly.GetName().Version?.ToString() ?? "")}</p>\n");
        sb.Append("<nav><a href=\"#metrics\">metrics</a><a href=\"#summary\">model</a><a href=\"#graph\">graph</a><a href=\"#explain\">layers</a><a href=\"#options\">options</a><a href=\"#machine\">machine</a></nav>\n");
        var raw = run.ReadConfig();
        Metrics(sb, run, raw);
        if (GptConfig.IsGpt(raw)) GptStep(sb, run, raw, best, batch);
        else Step(sb, run, best, data, batch);
        Options(sb, raw);
        Machine(sb);
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static void Metrics(StringBuilder sb, RunFolder run, Dictionary<string, string> raw)
    {
        sb.Append("<section id=\"metrics\"><h2>Metrics</h2>\n");
        var history = File.Exists(run.MetricsFile) ? MetricsCsv.Read(run.MetricsFile) : [];
        if (history.Count == 0)
        {
            sb.Append("<p class=\"error\">No epochs yet: metrics.csv is missing or empty.</p></section>\n");
            return;
        }
        string valLabel = raw.GetValueOrDefault("val_split", "0") is not ("0" or "") ? "validation" : "test";
        var last = history[^1];
        var bestEpoch = history.Where(m => !double.IsNaN(m.ValAccuracy)).MaxBy(m => m.ValAccuracy);
        sb.Append(s_inv, $"<p>{history.Count} epochs; last: train loss {last.TrainLoss:F4}, {valLabel} loss {last.ValLoss:F4}, {valLabel} accuracy {100 * last.ValAccuracy:F2}%");
        if (bestEpoch is not null) sb.Append(s_inv, $"; best {valLabel} accuracy {100 * bestEpoch.ValAccuracy:F2}% at epoch {bestEpoch.Epoch}");
        sb.Append(".</p>\n<div class=\"plots\">\n");
        foreach (var (stem, svg) in Plots.Svgs(history, run.Name, valLabel))
            sb.Append($"<figure id=\"plot-{stem}\" class=\"plot\">{svg}</figure>\n");
        sb.Append("</div>\n<details><summary>per epoch</summary><table><tr><th>epoch</th><th>train loss</th><th>train acc.</th>");
        sb.Append($"<th>{valLabel} loss</th><th>{valLabel} acc.</th><th>lr</th><th>seconds</th></tr>\n");
        foreach (var m in history)
            sb.Append(s_inv, $"<tr><td class=\"num\">{m.Epoch}</td><td class=\"num\">{m.TrainLoss:F4}</td><td class=\"num\">{100 * m.TrainAccuracy:F2}%</td><td class=\"num\">{m.ValLoss:F4}</td><td class=\"num\">{100 * m.ValAccuracy:F2}%</td><td class=\"num\">{m.LearningRate:G4}</td><td class=\"num\">{m.Seconds:F1}</td></tr>\n");
        sb.Append("</table></details></section>\n");
    }

    // the model summary, the graph and the layer table all come from one step with the run's weights
    private static void Step(StringBuilder sb, RunFolder run, bool best, string? data, int batch)
    {
        OneStep.Result step;
        Nabla.NN.Module model;
        TrainConfig config;
        try
        {
            (config, model, _) = OneStep.LoadModel("report", run.Path, null, null, best, 1);
            step = OneStep.Run("report", config, model, data, batch, null);
        }
        catch (Exception e) when (e is CliException or IOException or InvalidDataException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            foreach (var (id, title) in new[] { ("summary", "Model"), ("graph", "Autograd graph of one step"), ("explain", "Layers: the three questions") })
                sb.Append($"<section id=\"{id}\"><h2>{title}</h2><p class=\"error\">Not available: {H(e.Message)}</p></section>\n");
            return;
        }

        sb.Append($"<section id=\"summary\"><h2>Model</h2><p>{H(config.Model)}: {model.ParameterCount().ToString("N0", s_inv)} parameters.</p>\n");
        sb.Append("<table><tr><th>layer</th><th>type</th><th>output shape</th><th>parameters</th></tr>\n");
        var layers = InspectModel.Layers(model);
        for (int i = 0; i < layers.Count; i++)
            sb.Append(s_inv, $"<tr><td>{H(step.Layers[i].Name)}</td><td>{H(step.Layers[i].Type)}</td><td>{H(step.Layers[i].Shape)}</td><td class=\"num\">{layers[i].Layer.ParameterCount():N0}</td></tr>\n");
        sb.Append($"</table>\n<details><summary>modules</summary><pre>{H(model.ToString())}</pre></details></section>\n");

        sb.Append("<section id=\"graph\"><h2>Autograd graph of one step</h2>\n");
        sb.Append(s_inv, $"<p>One batch of {step.Batch} training digits, cross-entropy loss {step.Loss:F4}. Each edge carries the norm of the residual the backward pass sent along it; a box with a thick purple border feeds several ops and shows the sum of their residuals (Σ‖r‖); parameters show their gradient norm. Hover a box for its module.</p>\n");
        sb.Append("<p class=\"legend\"><span style=\"background:#e8f0fe;border-color:#4a6fa5\">op</span><span style=\"background:#e6f4ea;border-color:#2e7d32\">module (ops grouped)</span><span style=\"background:#fff3df;border-color:#c77c02\">parameter</span><span style=\"background:#fde8e8;border-color:#b3261e\">loss</span></p>\n");
        sb.Append($"<div class=\"graph\">{step.Graph.ToSvg()}</div></section>\n");

        sb.Append("<section id=\"explain\"><h2>Layers: the three questions</h2>\n<p>On the same batch: 1. the output each layer passes on; 2. its parameter gradients, from the residual it received; 3. the residual it received (∇out J) and the one it passes back (∇in J).</p>\n");
        sb.Append("<table><tr><th>layer</th><th>output</th><th>mean</th><th>std</th><th>min</th><th>max</th><th>parameter gradients ‖·‖</th><th>‖∇out J‖</th><th>‖∇in J‖</th></tr>\n");
        foreach (var l in step.Layers)
        {
            string grads = l.Grads.Count == 0 ? "none" : string.Join("<br>", l.Grads.Select(g => $"{H(g.Name)} {H(g.Shape)}: {OneStep.G4(g.Norm)}"));
            sb.Append(s_inv, $"<tr><td>{H(l.Name)} ({H(l.Type)})</td><td>{H(l.Shape)}</td><td class=\"num\">{l.Mean:F4}</td><td class=\"num\">{l.Std:F4}</td><td class=\"num\">{l.Min:F4}</td><td class=\"num\">{l.Max:F4}</td><td>{grads}</td><td class=\"num\">{OneStep.G4(l.ResidualOut)}</td><td class=\"num\">{OneStep.G4(l.ResidualIn)}</td></tr>\n");
        }
        sb.Append("</table></section>\n");
    }

    // a gpt run: the model and the graph of one step on the first windows of its training text (no per-layer table:
    // that one walks a Sequential's layers on digits)
    private static void GptStep(StringBuilder sb, RunFolder run, Dictionary<string, string> raw, bool best, int batch)
    {
        GptConfig c;
        Gpt model;
        AutogradGraph graph;
        double loss;
        int n;
        try
        {
            c = GptConfig.FromDictionary(raw, run.ConfigFile);
            string weights = best ? run.BestFile : run.ModelFile;
            if (!File.Exists(weights)) throw new CliException($"nabla report: '{run.Path}' has no {Path.GetFileName(weights)} yet.");
            model = c.BuildModel(new Generator((ulong)c.Seed));
            model.LoadStateDict(SafeTensors.Load(weights).Tensors);
            var text = GptText.Load(c.Text, "report");
            if (text.Vocab != c.Vocab) throw new CliException($"nabla report: the text '{c.Text}' has changed since the run was trained.");
            n = Math.Max(1, Math.Min(Math.Min(batch, 4), (text.Ids.Length - 1) / c.Context));
            var x = new float[n * c.Context];
            var y = new float[n * c.Context];
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = text.Ids[i];
                y[i] = text.Ids[i + 1];
            }
            model.Train();
            var logits = model.Call(Tensor.FromArray(x, n, c.Context));
            var j = Tensor.CrossEntropy(logits.Reshape(-1, c.Vocab.Length), Tensor.FromArray(y, n * c.Context));
            model.ZeroGrad();
            graph = AutogradGraph.Capture(j, model);
            if (graph.Nodes.Count > 80) graph = graph.Collapse(1);
            loss = j.Item();
        }
        catch (Exception e) when (e is CliException or IOException or InvalidDataException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            foreach (var (id, title) in new[] { ("summary", "Model"), ("graph", "Autograd graph of one step") })
                sb.Append($"<section id=\"{id}\"><h2>{title}</h2><p class=\"error\">Not available: {H(e.Message)}</p></section>\n");
            return;
        }

        sb.Append(s_inv, $"<section id=\"summary\"><h2>Model</h2><p>gpt: {model.ParameterCount():N0} parameters; {c.Layers} block{(c.Layers == 1 ? "" : "s")} of {c.Heads} heads, width {c.Dim}, context {c.Context}, {c.Vocab.Length} characters.</p>\n");
        sb.Append($"<details open><summary>modules</summary><pre>{H(model.ToString())}</pre></details></section>\n");
        sb.Append("<section id=\"graph\"><h2>Autograd graph of one step</h2>\n");
        sb.Append(s_inv, $"<p>The first {n} windows of {c.Context} characters of the training text, cross-entropy loss {loss:F4} (nats per character). Each edge carries the norm of the residual the backward pass sent along it; a box with a thick purple border feeds several ops and shows the sum of their residuals (Σ‖r‖); parameters show their gradient norm. Hover a box for its module.</p>\n");
        sb.Append($"<div class=\"graph\">{graph.ToSvg()}</div></section>\n");
        sb.Append("<section id=\"explain\"><h2>Layers: the three questions</h2><p class=\"muted\">The per-layer table walks the layers of the image models (mlp, lenet, cnn, lstm); for a gpt run, the graph above shows each block's residuals and gradient norms.</p></section>\n");
    }

    private static void Options(StringBuilder sb, Dictionary<string, string> raw)
    {
        sb.Append("<section id=\"options\"><h2>Options</h2><p>What produced the run (run.json); <code>nabla train --resume DIR</code> continues it with these.</p>\n<table><tr><th>option</th><th>value</th></tr>\n");
        foreach (var (k, v) in raw) sb.Append($"<tr><td>{H(k)}</td><td>{H(v)}</td></tr>\n");
        sb.Append("</table></section>\n");
    }

    private static void Machine(StringBuilder sb)
    {
        var about = new StringWriter();
        About.Version(about);
        sb.Append("<section id=\"machine\"><h2>Machine</h2><table>\n");
        sb.Append($"<tr><td>operating system</td><td>{H(RuntimeInformation.OSDescription)} ({H(RuntimeInformation.OSArchitecture.ToString())})</td></tr>\n");
        sb.Append(s_inv, $"<tr><td>logical processors</td><td>{Environment.ProcessorCount}</td></tr>\n");
        sb.Append($"<tr><td>nabla --version</td><td><pre>{H(about.ToString().TrimEnd())}</pre></td></tr>\n");
        sb.Append("</table></section>\n");
    }

    private static string H(string s) => WebUtility.HtmlEncode(s);
}
