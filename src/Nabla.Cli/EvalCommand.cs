using System.CommandLine;
using System.Globalization;
using Nabla.Data;
using Nabla.Losses;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>`nabla eval DIR`: test loss and accuracy of a run's weights.</summary>
internal static class EvalCommand
{
    private const string Description = """
        test loss and accuracy of a run's weights

        Scores a run's weights (DIR/model.safetensors, the last epoch's; --best: DIR/best.safetensors) on the test set of the run's data (or of --data DIR) and prints the loss and accuracy.
        """;

    public static Command Create(SharedOptions shared)
    {
        var dir = new Argument<string>("DIR") { Description = "the run folder (runs/NAME)" };
        var command = new Command("eval", Description) { dir, shared.Best, shared.Data, shared.Threads };
        command.SetAction(r =>
        {
            shared.ApplyThreads(r);
            return Run(r.GetValue(dir)!, r.GetValue(shared.Best), r.GetValue(shared.Data), r.InvocationConfiguration.Output);
        });
        return command;
    }

    private static int Run(string dir, bool best, string? dataDir, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var run = RunFolder.Open("eval", dir);
        var (config, model, raw) = RunModel.LoadModel("eval", run, best);
        if (dataDir is not null) config = config with { Data = dataDir };
        var data = RunData.Load(config with { ValSplit = 0 }, "eval", needTrain: false);
        var (rows, cols) = RunModel.ImageSize(raw, run.ConfigFile);
        if (data.Rows != rows || data.Cols != cols)
            throw new CliException($"nabla eval: the model of '{run.Path}' takes {rows}x{cols} images but the test images in '{data.Dir}' are {data.Rows}x{data.Cols}.");
        var loss = new CrossEntropyLoss();
        var (l, acc) = Metrics.Evaluate(model, loss.Forward, new DataLoader(data.Test, Evaluate.BatchSize(model, config.SampleShape(data.Pixels))));
        stdout.WriteLine($"run: {run.Path} ({(best ? "best.safetensors" : "model.safetensors")}, model {config.Model})");
        stdout.WriteLine($"data: {data.Dir} ({data.Test.Count} test images)");
        stdout.WriteLine(string.Create(inv, $"test loss: {l:F4}"));
        stdout.WriteLine(string.Create(inv, $"test accuracy: {100 * acc:F2}% ({Math.Round(acc * data.Test.Count)}/{data.Test.Count})"));
        return 0;
    }
}
