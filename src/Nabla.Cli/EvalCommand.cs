using System.CommandLine;
using System.Globalization;
using Nabla.Data;
using Nabla.IO;
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
        var command = new Command("eval", Description) { dir, shared.Best, shared.Data, shared.Threads, shared.Json };
        command.SetAction(r =>
        {
            shared.ApplyThreads(r);
            return Run(r.GetValue(dir)!, r.GetValue(shared.Best), r.GetValue(shared.Data), r.GetValue(shared.Json), r.InvocationConfiguration.Output);
        });
        return command;
    }

    private static int Run(string dir, bool best, string? dataDir, bool json, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var run = RunFolder.Open("eval", dir);
        if (GptConfig.IsGpt(run.ReadConfig())) return EvalGpt(run, best, dataDir, json, stdout);
        var (config, model, raw) = RunModel.LoadModel("eval", run, best);
        if (dataDir is not null) config = config with { Data = dataDir };
        var data = RunData.Load(config with { ValSplit = 0 }, "eval", needTrain: false);
        var (rows, cols) = RunModel.ImageSize(raw, run.ConfigFile);
        if (data.Rows != rows || data.Cols != cols)
            throw new CliException($"nabla eval: the model of '{run.Path}' takes {rows}x{cols} images but the test images in '{data.Dir}' are {data.Rows}x{data.Cols}.");
        var loss = new CrossEntropyLoss();
        var (l, acc) = Metrics.Evaluate(model, loss.Forward, new DataLoader(data.Test, Evaluate.BatchSize(model, config.SampleShape(data.Pixels))));
        string weights = best ? "best.safetensors" : "model.safetensors";
        int correct = (int)Math.Round(acc * data.Test.Count);
        if (json)
        {
            CliJson.Write(stdout, new EvalJson(run.Path, weights, config.Model, data.Dir, data.Test.Count, l, acc, correct), CliJsonContext.Default.EvalJson);
            return 0;
        }
        stdout.WriteLine($"run: {run.Path} ({weights}, model {config.Model})");
        stdout.WriteLine($"data: {data.Dir} ({data.Test.Count} test images)");
        stdout.WriteLine(string.Create(inv, $"test loss: {l:F4}"));
        stdout.WriteLine(string.Create(inv, $"test accuracy: {100 * acc:F2}% ({correct}/{data.Test.Count})"));
        return 0;
    }

    // a gpt run: the loss and next-character accuracy over its text's validation split (what training printed)
    private static int EvalGpt(RunFolder run, bool best, string? dataDir, bool json, TextWriter stdout)
    {
        if (dataDir is not null) throw new CliException($"nabla eval: '{run.Path}' holds a gpt language model: it is scored on its own text's validation split, --data does not apply.");
        var c = GptConfig.FromDictionary(run.ReadConfig(), run.ConfigFile);
        string weights = best ? run.BestFile : run.ModelFile;
        if (!File.Exists(weights)) throw new CliException($"nabla eval: '{run.Path}' has no {Path.GetFileName(weights)} yet (train it first).");
        var text = GptText.Load(c.Text, "eval");
        if (text.Vocab != c.Vocab || text.Ids.Length != c.TextChars)
            throw new CliException($"nabla eval: the text '{c.Text}' has changed since the run was trained ({text.Ids.Length} characters, {text.Vocab.Length} distinct; {run.ConfigFile} says {c.TextChars} and {c.Vocab.Length}).");
        var model = c.BuildModel(new Generator((ulong)c.Seed));
        model.LoadStateDict(SafeTensors.Load(weights).Tensors);
        var (loss, acc) = GptTrain.Validate(model, text, c);
        long chars = text.Ids.Length - text.Split - 1;
        string name = Path.GetFileName(weights);
        if (json)
        {
            CliJson.Write(stdout, new GptEvalJson(run.Path, name, GptConfig.ModelName, c.Text, chars, loss, loss / Math.Log(2), acc), CliJsonContext.Default.GptEvalJson);
            return 0;
        }
        stdout.WriteLine($"run: {run.Path} ({name}, model gpt)");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"text: {c.Text} ({chars:N0} validation characters predicted)"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"validation loss: {loss:F4} nats/char ({loss / Math.Log(2):F3} bits/char), next-character accuracy {100 * acc:F2}%"));
        return 0;
    }
}
