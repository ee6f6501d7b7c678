using System.CommandLine;
using System.Diagnostics;
using Nabla.IO;

namespace Nabla.Cli;

/// <summary>`nabla graph`: the autograd graph of one training step, drawn.</summary>
internal static class GraphCommand
{
    private const string Description = """
        draw the autograd graph of one training step (SVG or DOT)

        Runs one batch of training digits through the model (a fresh one from --model, or the trained weights of a run folder DIR), back-propagates the cross-entropy loss and draws the graph it recorded: ops with their output shapes, parameters with their gradient norms, and on every edge the norm of the residual the backward pass sent along it; an op whose output feeds several others is drawn with a thick border and the sum of their residuals. The layout is computed in C# (no Graphviz needed); --graphviz lays the SVG out with Graphviz's dot instead. Large graphs are grouped per layer (--collapse).
        Writes --output FILE (.svg or .dot; default: DIR/graph.svg for a run, graph.svg otherwise).
        """;

    public static Command Create(SharedOptions shared)
    {
        var dir = new Argument<string?>("DIR") { Description = "a run folder whose trained weights to use (default: a fresh model from --model)", Arity = ArgumentArity.ZeroOrOne };
        var output = CliOptions.Text("--output", "FILE", "where to write: .svg or .dot (default: DIR/graph.svg, or graph.svg)");
        var batch = CliOptions.Int("--batch-size", "N", "digits in the batch (default 8)", min: 1);
        var collapse = CliOptions.Int("--collapse", "N", "group the ops per module path of depth N (0: every op; default: grouped past 80 boxes)", min: 0);
        var graphviz = CliOptions.Flag("--graphviz", "lay the SVG out with Graphviz's dot (must be on PATH) instead of the built-in layout");
        var command = new Command("graph", Description) { dir, shared.Model, shared.Hidden, shared.Best, shared.Data, batch, shared.Seed, output, collapse, graphviz };
        command.SetAction(r =>
        {
            var (c, model, _) = OneStep.LoadModel("graph", r.GetValue(dir), r.GetValue(shared.Model), r.ListOrNull(shared.Hidden), r.GetValue(shared.Best), r.GetValue(shared.Seed) ?? 1);
            string file = r.GetValue(output) ?? (r.GetValue(dir) is string d ? Path.Combine(d, "graph.svg") : "graph.svg");
            string ext = Path.GetExtension(file).ToLowerInvariant();
            if (ext is not (".svg" or ".dot")) throw new CliException($"nabla graph: --output must end in .svg or .dot, got '{file}'.");
            var step = OneStep.Run("graph", c, model, r.GetValue(shared.Data), r.GetValue(batch) ?? 8, r.GetValue(collapse));
            string text = ext == ".dot" ? step.Graph.ToDot() : r.GetValue(graphviz) ? Graphviz(step.Graph.ToDot()) : step.Graph.ToSvg();
            AtomicFile.WriteAllText(file, text);
            r.InvocationConfiguration.Output.WriteLine($"wrote {file} ({step.Graph.Nodes.Count} boxes, {step.Graph.Edges.Count} edges; loss {OneStep.G4(step.Loss)})");
            return 0;
        });
        return command;
    }

    /// <summary>Lays <paramref name="dot"/> out with Graphviz's <c>dot -Tsvg</c>.</summary>
    public static string Graphviz(string dot)
    {
        var info = new ProcessStartInfo("dot", "-Tsvg") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        Process p;
        try
        {
            p = Process.Start(info) ?? throw new CliException("nabla graph: --graphviz: could not start 'dot'.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException("nabla graph: --graphviz needs Graphviz's 'dot' on PATH (apt install graphviz); without --graphviz the built-in layout needs nothing.");
        }
        using (p)
        {
            var errors = p.StandardError.ReadToEndAsync();
            var svg = p.StandardOutput.ReadToEndAsync();
            p.StandardInput.Write(dot);
            p.StandardInput.Close();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException($"nabla graph: dot failed (exit code {p.ExitCode}): {errors.Result.Trim()}");
            return svg.Result;
        }
    }
}
