using System.Globalization;
using Nabla.NN;

namespace Nabla.Cli;

/// <summary>What summary and explain share: a model's layers in order, a fresh model from a preset, shapes written with N for the batch.</summary>
internal static class InspectModel
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>The model's layers in order: a Sequential's (recursively), else the model itself.</summary>
    public static List<(string Name, Module Layer)> Layers(Module m, string prefix = "")
    {
        if (m is not Sequential s) return [(prefix.Length == 0 ? "model" : prefix.TrimEnd('.'), m)];
        var list = new List<(string, Module)>();
        for (int i = 0; i < s.Layers.Count; i++) list.AddRange(Layers(s.Layers[i], prefix + i.ToString(s_inv) + "."));
        return list;
    }

    /// <summary>A freshly initialised model of the preset <paramref name="model"/> (default: the first) for 28x28 images.</summary>
    public static (TrainConfig Config, Module Model, int Rows, int Cols) FreshModel(string? model, int[]? hidden, int seed, string command)
    {
        if (model == GptConfig.ModelName)
            throw new CliException($"nabla {command}: --model gpt is a language model, which {command} does not take (it shows image models); see it with nabla summary --model gpt, sample a trained one with nabla generate.");
        var preset = Models.Get(model ?? Models.Presets[0].Name);
        if (hidden is not null && preset.Name != "mlp") throw new CliException($"nabla {command}: --hidden applies to the mlp model only, not '{preset.Name}'.");
        var c = new TrainConfig(preset.Name, hidden, "", 1, 32, "sgd", preset.LearningRate, 0, 0, false, "constant", 0, 0, seed, 0, 0, Normalize: true);
        return (c, c.BuildModel(28 * 28, 10, new Generator((ulong)seed)), 28, 28);
    }

    /// <summary>"(N, 512)": a shape with its first dimension written as N (the batch) when <paramref name="batch"/>.</summary>
    public static string Shape(ReadOnlySpan<int> shape, bool batch = true)
    {
        var parts = new List<string>();
        for (int i = 0; i < shape.Length; i++) parts.Add(batch && i == 0 ? "N" : shape[i].ToString(s_inv));
        return "(" + string.Join(", ", parts) + ")";
    }
}
