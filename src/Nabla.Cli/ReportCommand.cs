using System.CommandLine;
using Nabla.IO;

namespace Nabla.Cli;

/// <summary>`nabla report DIR`: one self-contained HTML page about a run.</summary>
internal static class ReportCommand
{
    private const string Description = """
        write a run's report: one self-contained HTML page

        Writes DIR/report.html (or --output FILE), one page that needs no network to view: the loss, accuracy and learning-rate plots and the metrics per epoch, the model summary, the autograd graph of one training step with the trained weights (as nabla graph draws it), each layer's answers to the text's three questions on that batch (as nabla explain prints them), the options that produced the run (run.json), and the machine. nabla train --report writes it at the end of a run.
        """;

    public static Command Create(SharedOptions shared)
    {
        var dir = new Argument<string>("DIR") { Description = "the run folder (runs/NAME)" };
        var output = CliOptions.Text("--output", "FILE", "where to write the page (default: DIR/report.html)");
        var batch = CliOptions.Int("--batch-size", "N", "digits in the batch the graph and the layer table use (default 8)", min: 1);
        var command = new Command("report", Description) { dir, output, shared.Best, shared.Data, batch };
        command.SetAction(r =>
        {
            var run = RunFolder.Open("report", r.GetValue(dir));
            string file = Write(run, r.GetValue(output), r.GetValue(shared.Best), r.GetValue(shared.Data), r.GetValue(batch) ?? 8);
            r.InvocationConfiguration.Output.WriteLine($"wrote {file}");
            return 0;
        });
        return command;
    }

    /// <summary>Writes the report of <paramref name="run"/> atomically; returns its path.</summary>
    public static string Write(RunFolder run, string? file = null, bool best = false, string? data = null, int batch = 8)
    {
        file ??= Path.Combine(run.Path, "report.html");
        AtomicFile.WriteAllText(file, ReportHtml.Build(run, best, data, batch));
        return file;
    }
}
