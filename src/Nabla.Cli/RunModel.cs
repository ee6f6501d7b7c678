using System.Globalization;
using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>What eval, predict and explain read from a run folder: its model with the saved weights, the image size it takes.</summary>
internal static class RunModel
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>A run's configuration and its model with the saved weights loaded.</summary>
    public static (TrainConfig Config, Module Model, Dictionary<string, string> Raw) LoadModel(string command, RunFolder run, bool bestWeights)
    {
        var raw = run.ReadConfig();
        if (GptConfig.IsGpt(raw))
            throw new CliException($"nabla {command}: '{run.Path}' holds a gpt language model, which {command} does not take (it works on images); sample it with: nabla generate {run.Path} --prompt TEXT");
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

    /// <summary>The image size a run's model was built for (run.json's rows and cols).</summary>
    public static (int Rows, int Cols) ImageSize(Dictionary<string, string> raw, string source) =>
        (SizeField(raw, "rows", 28, source), SizeField(raw, "cols", 28, source));

    // run.json is a file a user may have edited or damaged: a bad value is one line, quoted within bounds
    private static int SizeField(Dictionary<string, string> raw, string key, int absent, string source)
    {
        if (!raw.TryGetValue(key, out var text)) return absent;
        return int.TryParse(text, NumberStyles.None, s_inv, out int v) && v is > 0 and <= 1 << 16 ? v
            : throw new InvalidDataException($"{source}: '{key}' must be an integer in 1..65536, got {Untrusted.Quote(text)}.");
    }

}
