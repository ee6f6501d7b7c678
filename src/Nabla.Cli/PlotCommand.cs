using System.CommandLine;
using Nabla.Cli.Plotting;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>`nabla plot DIR`: redraws a run's plots from its metrics.csv.</summary>
internal static class PlotCommand
{
    private const string Description = """
        redraw a run's loss, accuracy and learning-rate plots

        Redraws a run's plots from DIR/metrics.csv: loss, accuracy and learning rate per epoch, each as .png and .svg.
        """;

    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "the run folder (runs/NAME)" };
        var command = new Command("plot", Description) { dir };
        command.SetAction(r => Run(r.GetValue(dir)!, r.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(string dir, TextWriter stdout)
    {
        if (!Directory.Exists(dir)) throw new CliException($"nabla plot: run folder '{dir}' does not exist.");
        var run = new RunFolder(dir);
        if (!File.Exists(run.MetricsFile)) throw new CliException($"nabla plot: '{dir}' has no metrics.csv.");
        var history = MetricsCsv.Read(run.MetricsFile);
        if (history.Count == 0) throw new CliException($"nabla plot: '{run.MetricsFile}' has no epochs yet.");
        string valLabel = File.Exists(run.ConfigFile) && run.ReadConfig().GetValueOrDefault("val_split", "0") is not ("0" or "") ? "validation" : "test";
        foreach (var f in Plots.Write(run.Path, history, run.Name, valLabel)) stdout.WriteLine($"wrote {f}");
        return 0;
    }
}
