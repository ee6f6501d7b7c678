using Nabla.NN;

namespace Nabla.Cli;

/// <summary>A model `nabla train --model NAME` can build: how to make it, the shape of one input sample, and its default recipe.</summary>
/// <param name="Name">The --model value.</param>
/// <param name="Description">One line for --help.</param>
/// <param name="Build">Makes the model for inputs of <paramref name="SampleShape"/> (pixels arranged as the model wants them) and the class count.</param>
/// <param name="SampleShape">How one 28x28 image is fed: (784) for the MLP, (1, 28, 28) for convolutions, (28, 28) for a sequence of rows.</param>
/// <param name="Epochs">Default epochs.</param>
/// <param name="LearningRate">Default initial learning rate.</param>
/// <param name="BatchSize">Default batch size.</param>
internal sealed record ModelPreset(string Name, string Description, Func<int[], int, Generator, Module> Build, int[] SampleShape, int Epochs, double LearningRate, int BatchSize);

/// <summary>The model presets `nabla train` builds.</summary>
internal static class Models
{
    /// <summary>Every preset by name; the first is the default.</summary>
    public static IReadOnlyList<ModelPreset> Presets { get; } =
    [
        new("mlp", "the text's fully-connected network: 784 → hidden… → 10, Linear + ReLU (--hidden sets the sizes)",
            (shape, classes, g) => Mlp(shape[0], [512, 256], classes, g), [784], Epochs: 30, LearningRate: 0.1, BatchSize: 32),
    ];

    /// <summary>The preset called <paramref name="name"/>, or a usage error listing the choices.</summary>
    public static ModelPreset Get(string name) =>
        Presets.FirstOrDefault(p => p.Name == name)
        ?? throw new CliException($"nabla train: unknown model '{name}'; choose one of {string.Join(", ", Presets.Select(p => p.Name))}.");

    /// <summary>The text's fully-connected network: Linear + ReLU for each hidden size, then a Linear to the classes.</summary>
    public static Sequential Mlp(int inputs, int[] hidden, int classes, Generator generator)
    {
        var model = new Sequential();
        int width = inputs;
        foreach (int h in hidden)
        {
            model.Add(new Linear(width, h, generator: generator));
            model.Add(new ReLU());
            width = h;
        }
        model.Add(new Linear(width, classes, generator: generator));
        return model;
    }
}
