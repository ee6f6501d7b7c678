using System.CommandLine;

namespace Nabla.Cli;

/// <summary>
/// The options several commands take, made once and added to each of those commands, so that they parse, read and
/// are described the same way everywhere (System.CommandLine lets one option belong to several commands).
/// </summary>
internal sealed class SharedOptions
{
    /// <summary>--threads N: the kernels' threads; results do not depend on it.</summary>
    public Option<int?> Threads { get; } = CliOptions.Int("--threads", "N", "threads for the kernels (default: all cores; results do not depend on it)", min: 1);

    /// <summary>--data DIR: a folder of MNIST IDX files.</summary>
    public Option<string?> Data { get; } = CliOptions.Text("--data", "DIR",
        "folder with train-/t10k- images and labels in IDX format, .gz or raw (default: the run's data, or the bundled 10,000-digit sample: 8,000 train / 2,000 test)");

    /// <summary>--model NAME: a model preset; an unknown name is a usage error naming the choices.</summary>
    public Option<string?> Model { get; } = ModelOption();

    /// <summary>--hidden A,B,...: the mlp's hidden layer sizes.</summary>
    public Option<int[]?> Hidden { get; } = CliOptions.IntList("--hidden", "A,B,...", "mlp only: hidden layer sizes (default 512,256; empty for a linear model)");

    /// <summary>--seed N.</summary>
    public Option<int?> Seed { get; } = CliOptions.Int("--seed", "N", "seed of every random choice: initial weights, data order, augmentation, sampling (default 1)", min: 0);

    /// <summary>--best: a run's best.safetensors instead of model.safetensors.</summary>
    public Option<bool> Best { get; } = CliOptions.Flag("--best", "use the run's best.safetensors (the best validation accuracy) instead of model.safetensors (the last epoch)");

    /// <summary>--json: the result as one JSON object on stdout, nothing else there (eval, predict, summary).</summary>
    public Option<bool> Json { get; } = CliOptions.Flag("--json", "print the result as one JSON object on stdout and nothing else (fields: docs/cli.md)");

    /// <summary>Sets the kernels' thread count from --threads (default: all cores).</summary>
    public void ApplyThreads(ParseResult r) => Kernels.Threading.MaxThreads = r.GetValue(Threads) ?? Environment.ProcessorCount;

    private static Option<string?> ModelOption()
    {
        var names = Models.Presets.Select(p => p.Name).Append(GptConfig.ModelName).ToArray();
        var o = CliOptions.Text("--model", "NAME", string.Join("\n", Models.Presets.Select(p => $"{p.Name}: {p.Description}")) + $"\n{GptConfig.ModelName}: {GptConfig.Description}" + $"\n(default: {names[0]})", names);
        o.Validators.Add(r =>
        {
            string? name = r.Tokens.Count > 0 ? r.Tokens[^1].Value : null;
            if (name is not null && !names.Contains(name))
                r.AddError($"{CliOptions.CommandPath(r)}: unknown model '{name}'; choose one of {string.Join(", ", names)}.");
        });
        return o;
    }
}
