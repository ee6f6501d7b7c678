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
/// <param name="Momentum">Default SGD momentum (0: the text's plain θ ← θ − λ∇θJ).</param>
/// <param name="Rotate">Default random rotation of training images, in degrees (0: off).</param>
/// <param name="Scale">Default random scaling of training images: a factor in [1 − Scale, 1 + Scale] (0: off).</param>
/// <param name="Shear">Default random x-shear of training images, in degrees (0: off).</param>
internal sealed record ModelPreset(string Name, string Description, Func<int[], int, Generator, Module> Build, int[] SampleShape, int Epochs, double LearningRate, int BatchSize,
    double Momentum = 0, double Rotate = 0, double Scale = 0, double Shear = 0);

/// <summary>The model presets `nabla train` builds.</summary>
internal static class Models
{
    /// <summary>Every preset by name; the first is the default.</summary>
    public static IReadOnlyList<ModelPreset> Presets { get; } =
    [
        new("mlp", "the text's fully-connected network: 784 → hidden… → 10, Linear + ReLU (--hidden sets the sizes)",
            (shape, classes, g) => Mlp(shape[0], [512, 256], classes, g), [784], Epochs: 40, LearningRate: 0.05, BatchSize: 32, Momentum: 0.9,
            Rotate: 10, Scale: 0.1, Shear: 10),
        new("lenet", "LeNet-5: conv5x5(1→6, pad 2)-ReLU-maxpool2, conv5x5(6→16)-ReLU-maxpool2, fc 400-120-84-10",
            (shape, classes, g) => LeNet(shape[0], classes, g), [1, 28, 28], Epochs: 30, LearningRate: 0.1, BatchSize: 32),
        new("cnn", "a small VGG-style net: conv3x3(1→32)-BN-ReLU, conv3x3(32→64)-BN-ReLU-maxpool2, conv3x3(64→128)-BN-ReLU-maxpool2, global avg pool, fc 128→10",
            (shape, classes, g) => SmallCnn(shape[0], classes, g), [1, 28, 28], Epochs: 10, LearningRate: 0.05, BatchSize: 32, Momentum: 0.9),
        new("lstm", "an LSTM reads the image row by row (28 steps of 28 pixels): LSTM(28→128), fc 128→10 on the last step",
            (shape, classes, g) => new LstmClassifier(shape[1], 128, classes, g), [28, 28], Epochs: 30, LearningRate: 0.1, BatchSize: 64, Momentum: 0.9),
    ];

    /// <summary>The preset called <paramref name="name"/>, or a usage error listing the choices.</summary>
    public static ModelPreset Get(string name) =>
        Presets.FirstOrDefault(p => p.Name == name)
        ?? throw new CliException($"nabla train: unknown model '{name}'; choose one of {string.Join(", ", Presets.Select(p => p.Name))}.");

    /// <summary>LeNet-5 (ReLU and max pooling, as bench_torch.py's): two 5x5 convolutions and three connection layers.</summary>
    public static Sequential LeNet(int channels, int classes, Generator generator) => new(
        new Conv2d(channels, 6, 5, padding: 2, generator: generator), new ReLU(), new MaxPool2d(2),
        new Conv2d(6, 16, 5, generator: generator), new ReLU(), new MaxPool2d(2),
        new Flatten(),
        new Linear(400, 120, generator: generator), new ReLU(),
        new Linear(120, 84, generator: generator), new ReLU(),
        new Linear(84, classes, generator: generator));

    /// <summary>
    /// A small VGG-style network (bench_torch.py's cnn): three 3x3 convolutions (32, 64, 128 channels) each followed by
    /// BatchNorm2d and ReLU, two max pools, global average pooling, one connection layer. <paramref name="syncBn"/>:
    /// SyncBatchNorm in place of BatchNorm2d (the same state-dict keys), for `nabla train --distributed --sync-bn`.
    /// </summary>
    public static Sequential SmallCnn(int channels, int classes, Generator generator, bool syncBn = false)
    {
        Module Norm(int c) => syncBn ? new SyncBatchNorm(c) : new BatchNorm2d(c);
        return new(
            new Conv2d(channels, 32, 3, padding: 1, generator: generator), Norm(32), new ReLU(),
            new Conv2d(32, 64, 3, padding: 1, generator: generator), Norm(64), new ReLU(), new MaxPool2d(2),
            new Conv2d(64, 128, 3, padding: 1, generator: generator), Norm(128), new ReLU(), new MaxPool2d(2),
            new GlobalAvgPool2d(),
            new Linear(128, classes, generator: generator));
    }

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
