using Nabla.NN;

namespace Nabla.Tests.Interop;

/// <summary>
/// Nabla's side of tests/fixtures/torch/twins.py: for each case the module whose state-dict keys and shapes are the
/// PyTorch twin's, the inputs it takes and how its outputs are named (output, h_n, c_n; output_train for batch norm).
/// </summary>
internal static class TorchTwins
{
    public static readonly string[] Names = ["mlp", "lenet_bn", "cnn", "lstm", "gru", "rnn", "embedding", "layernorm", "groupnorm", "lstm_proj"];

    public static string FixtureDir => Path.Combine(Docs.NablaProcess.RepoRoot, "tests", "fixtures", "torch");

    /// <summary>The case's module (weights from <paramref name="g"/>; fixtures overwrite them).</summary>
    public static Module Build(string name, Generator g) => name switch
    {
        "mlp" => new Sequential(new Linear(8, 16, generator: g), new ReLU(), new Linear(16, 12, generator: g), new ReLU(), new Linear(12, 4, generator: g)),
        "lenet_bn" => new Sequential(
            new Conv2d(1, 4, 3, padding: 1, generator: g), new BatchNorm2d(4), new ReLU(), new MaxPool2d(2),
            new Conv2d(4, 8, 3, generator: g), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
            new Flatten(), new Linear(32, 10, generator: g), new ReLU(), new Linear(10, 3, generator: g)),
        // PyTorch's AdaptiveAvgPool2d(1) + Flatten: GlobalAvgPool2d already flattens, the Flatten keeps the indices
        "cnn" => new Sequential(
            new Conv2d(1, 4, 3, padding: 1, generator: g), new BatchNorm2d(4), new ReLU(),
            new Conv2d(4, 6, 3, padding: 1, generator: g), new BatchNorm2d(6), new ReLU(), new MaxPool2d(2),
            new GlobalAvgPool2d(), new Flatten(), new Linear(6, 3, generator: g)),
        "lstm" => new LSTM(5, 6, numLayers: 2, batchFirst: true, bidirectional: true, generator: g),
        "gru" => new GRU(5, 6, numLayers: 2, bidirectional: true, generator: g),
        "rnn" => new RNN(5, 6, numLayers: 2, nonlinearity: "relu", generator: g),
        "embedding" => new Embedding(10, 4, paddingIdx: 0, generator: g),
        "layernorm" => new LayerNorm([4, 5]),
        "groupnorm" => new GroupNorm(2, 6),
        "lstm_proj" => new LSTM(5, 6, numLayers: 2, batchFirst: true, bidirectional: true, projSize: 3, generator: g),
        _ => throw new ArgumentException($"no twin named '{name}'"),
    };

    /// <summary>Whether the case has batch normalisation (and so an output_train).</summary>
    public static bool HasBatchNorm(string name) => name is "lenet_bn" or "cnn";

    /// <summary>The case's input shapes, as twins.py draws them (indices for the embedding).</summary>
    public static Dictionary<string, int[]> InputShapes(string name) => name switch
    {
        "mlp" => new() { ["input"] = [3, 8] },
        "lenet_bn" => new() { ["input"] = [2, 1, 12, 12] },
        "cnn" => new() { ["input"] = [2, 1, 8, 8] },
        "lstm" => new() { ["input"] = [2, 4, 5], ["h0"] = [4, 2, 6], ["c0"] = [4, 2, 6] },
        "gru" => new() { ["input"] = [4, 2, 5], ["h0"] = [4, 2, 6] },
        "rnn" => new() { ["input"] = [4, 2, 5], ["h0"] = [2, 2, 6] },
        "embedding" => new() { ["input"] = [2, 5] },
        "layernorm" => new() { ["input"] = [2, 3, 4, 5] },
        "groupnorm" => new() { ["input"] = [2, 6, 3, 3] },
        "lstm_proj" => new() { ["input"] = [2, 4, 5], ["h0"] = [4, 2, 3], ["c0"] = [4, 2, 6] },
        _ => throw new ArgumentException($"no twin named '{name}'"),
    };

    /// <summary>Runs the module as the case does, in its current mode, and names the outputs.</summary>
    public static Dictionary<string, Tensor> Forward(Module model, IReadOnlyDictionary<string, Tensor> x)
    {
        using var _ = Tensor.NoGrad();
        switch (model)
        {
            case LSTM lstm:
                var l = lstm.Forward(x["input"], (x["h0"], x["c0"]));
                return new() { ["output"] = l.Output, ["h_n"] = l.HN, ["c_n"] = l.CN };
            case GRU gru:
                var gr = gru.Forward(x["input"], x["h0"]);
                return new() { ["output"] = gr.Output, ["h_n"] = gr.HN };
            case RNN rnn:
                var r = rnn.Forward(x["input"], x["h0"]);
                return new() { ["output"] = r.Output, ["h_n"] = r.HN };
            default:
                return new() { ["output"] = model.Forward(x["input"]) };
        }
    }

    /// <summary>max |actual − expected| / max |expected|: the error relative to the output's scale.</summary>
    public static double ScaledError(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        double[] a = actual.ToDoubleArray(), e = expected.ToDoubleArray();
        double diff = 0, scale = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(a[i] - e[i]));
            scale = Math.Max(scale, Math.Abs(e[i]));
        }
        Assert.True(scale > 0, "the expected output is all zeros: it would prove nothing");
        return diff / scale; // NaN when an element is NaN: fails every ≤ check
    }
}
