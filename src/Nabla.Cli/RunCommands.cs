using System.Globalization;
using Nabla.Cli.Plotting;
using Nabla.Data;
using Nabla.IO;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>`nabla eval`, `nabla predict` and `nabla plot`: commands that read a run folder.</summary>
internal static class RunCommands
{
    private const string EvalHelp = """
        Usage: nabla eval DIR [--best] [--data DIR] [--threads N]

        Scores a run's weights (DIR/model.safetensors, the last epoch's; --best: DIR/best.safetensors) on the test
        set of the run's data (or of --data DIR) and prints the loss and accuracy.
        """;

    private const string PredictHelp = """
        Usage: nabla predict DIR IMAGE [--best]

        Classifies one image with a run's model and prints the probability of each class. The image (PNG, JPEG, BMP,
        GIF or TGA, up to 24 megapixels; a JPEG's EXIF orientation is applied; transparency counts as white) is
        converted to gray and prepared as MNIST's digits were: inverted when its background is light (MNIST digits are white on black), the ink's
        bounding box scaled to fit a 20x20 box keeping its aspect ratio (area averaging), and placed in the 28x28
        field with its centre of mass at the centre. A blank image gets a warning.
        """;

    private const string PlotHelp = """
        Usage: nabla plot DIR

        Redraws a run's plots from DIR/metrics.csv: loss, accuracy and learning rate per epoch, each as .png and .svg.
        """;

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>A run's configuration and its model with the saved weights loaded.</summary>
    public static (TrainConfig Config, Module Model, Dictionary<string, string> Raw) LoadModel(string command, RunFolder run, bool bestWeights)
    {
        var raw = run.ReadConfig();
        var config = TrainConfig.FromDictionary(raw, run.ConfigFile);
        var (rows, cols) = ImageSize(raw, run.ConfigFile);
        int classes = SizeField(raw, "classes", 10, run.ConfigFile);
        var model = config.BuildModel(rows * cols, classes, new Generator((ulong)config.Seed));
        string file = bestWeights ? run.BestFile : run.ModelFile;
        if (!File.Exists(file)) throw new CliException($"nabla {command}: '{run.Path}' has no {Path.GetFileName(file)} yet (train it first).");
        model.LoadStateDict(SafeTensors.Load(file).Tensors);
        // a diverged run saves NaN weights, which would score "test loss: NaN" and predict nothing
        foreach (var (name, t) in model.StateDict())
        {
            var values = t.ToDoubleArray();
            int bad = Array.FindIndex(values, v => !double.IsFinite(v));
            if (bad >= 0)
                throw new InvalidDataException($"nabla {command}: {file}: tensor '{name}' holds {values[bad].ToString(s_inv)} at index {bad}; these weights cannot be used (the run diverged or the file is damaged).");
        }
        model.Eval();
        return (config, model, raw);
    }

    public static int Eval(string[] args, TextWriter stdout)
    {
        var o = new Options("eval", args, new HashSet<string> { "help", "best" }, new HashSet<string> { "data", "threads" });
        if (o.Has("help")) { stdout.WriteLine(EvalHelp); return 0; }
        if (o.Positionals.Count != 1) throw new CliException("nabla eval: give exactly one run folder. See 'nabla eval --help'.");
        Kernels.Threading.MaxThreads = o.Threads();
        var run = RunFolder.Open("eval", o.Positionals[0]);
        var (config, model, raw) = LoadModel("eval", run, o.Has("best"));
        if (o.String("data") is string d) config = config with { Data = d };
        var data = RunData.Load(config with { ValSplit = 0 }, "eval", needTrain: false);
        var (rows, cols) = ImageSize(raw, run.ConfigFile);
        if (data.Rows != rows || data.Cols != cols)
            throw new CliException($"nabla eval: the model of '{run.Path}' takes {rows}x{cols} images but the test images in '{data.Dir}' are {data.Rows}x{data.Cols}.");
        var loss = new CrossEntropyLoss();
        var (l, acc) = Metrics.Evaluate(model, loss.Forward, new DataLoader(data.Test, Evaluate.BatchSize(model, config.SampleShape(data.Pixels))));
        stdout.WriteLine($"run: {run.Path} ({(o.Has("best") ? "best.safetensors" : "model.safetensors")}, model {config.Model})");
        stdout.WriteLine($"data: {data.Dir} ({data.Test.Count} test images)");
        stdout.WriteLine(string.Create(s_inv, $"test loss: {l:F4}"));
        stdout.WriteLine(string.Create(s_inv, $"test accuracy: {100 * acc:F2}% ({Math.Round(acc * data.Test.Count)}/{data.Test.Count})"));
        return 0;
    }

    /// <summary>The image size a run's model was built for (run.json's rows and cols).</summary>
    private static (int Rows, int Cols) ImageSize(Dictionary<string, string> raw, string source) =>
        (SizeField(raw, "rows", 28, source), SizeField(raw, "cols", 28, source));

    // run.json is a file a user may have edited or damaged: a bad value is one line, quoted within bounds
    private static int SizeField(Dictionary<string, string> raw, string key, int absent, string source)
    {
        if (!raw.TryGetValue(key, out var text)) return absent;
        return int.TryParse(text, NumberStyles.None, s_inv, out int v) && v is > 0 and <= 1 << 16 ? v
            : throw new InvalidDataException($"{source}: '{key}' must be an integer in 1..65536, got {Untrusted.Quote(text)}.");
    }

    public static int Predict(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = new Options("predict", args, new HashSet<string> { "help", "best" }, new HashSet<string>());
        if (o.Has("help")) { stdout.WriteLine(PredictHelp); return 0; }
        if (o.Positionals.Count != 2) throw new CliException("nabla predict: give a run folder and an image. See 'nabla predict --help'.");
        var run = RunFolder.Open("predict", o.Positionals[0]);
        string image = o.Positionals[1];
        if (!File.Exists(image)) throw new CliException($"nabla predict: image '{image}' does not exist.");
        var (gray, h, w) = ImageFile.ReadGray(image);
        var (config, model, raw) = LoadModel("predict", run, o.Has("best"));
        var (rows, cols) = ImageSize(raw, run.ConfigFile);
        var digit = DigitImage.Prepare(gray, h, w, rows, cols);
        if (digit.Blank) stderr.WriteLine(string.Create(s_inv, $"warning: '{image}' is blank (no ink: its pixels differ by less than {DigitImage.MinContrast:P0}); the prediction means nothing."));
        var x = digit.Pixels;
        var shape = config.SampleShape(rows * cols);
        config.NormalizeInPlace(x);
        Tensor probs;
        using (Tensor.NoGrad()) probs = model.Forward(Tensor.FromArray(x, [1, .. shape])).Softmax(1);
        var p = probs.ToArray();
        int best = Array.IndexOf(p, p.Max());
        string how = digit.Blank ? "blank" : $"digit {digit.Box.W}x{digit.Box.H} → {digit.Scaled.W}x{digit.Scaled.H}, centred by its centre of mass in {cols}x{rows}";
        stdout.WriteLine($"image: {image} ({w}x{h}{(digit.Inverted ? ", inverted: light background" : "")}; {how})");
        for (int k = 0; k < p.Length; k++)
            stdout.WriteLine(string.Create(s_inv, $"  {k}  {100 * p[k],6:F2}%  {new string('#', (int)Math.Round(p[k] * 40))}"));
        stdout.WriteLine(string.Create(s_inv, $"prediction: {best} ({100 * p[best]:F2}%)"));
        return 0;
    }

    public static int Plot(string[] args, TextWriter stdout)
    {
        var o = new Options("plot", args, new HashSet<string> { "help" }, new HashSet<string>());
        if (o.Has("help")) { stdout.WriteLine(PlotHelp); return 0; }
        if (o.Positionals.Count != 1) throw new CliException("nabla plot: give exactly one run folder. See 'nabla plot --help'.");
        string dir = o.Positionals[0];
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
