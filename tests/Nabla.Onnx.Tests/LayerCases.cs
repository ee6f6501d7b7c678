using Nabla.NN;

namespace Nabla.Onnx.Tests;

/// <summary>One model to export: how to build it, its sample input's shape, the opset, and whether the input is indices.</summary>
internal sealed record LayerCase(string Name, Func<Generator, Module> Build, int[] Shape, int Opset = 17, int IndexRange = 0, int BatchAxis = 0)
{
    public Tensor Input(Generator g, int? batch = null)
    {
        int[] shape = [.. Shape];
        if (batch is int b) shape[BatchAxis] = b;
        return IndexRange > 0 ? Tensor.RandInt(0, IndexRange, shape, generator: g) : Tensor.Randn(shape, generator: g);
    }
}

/// <summary>Every layer configuration the exporter supports (and the importer reads back).</summary>
internal static class LayerCases
{
    private static Module Warm(Module m, int[] shape, Generator g)
    {
        // a few training batches so BatchNorm's running statistics are not the initial 0 and 1
        m.Train();
        for (int i = 0; i < 3; i++) m.Forward(Tensor.Randn(shape, generator: g) * 2 + 0.5);
        return m;
    }

    private static Module Affine(NormBase m, Generator g)
    {
        m.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["weight"] = Tensor.Uniform([m.NumFeatures], 0.5, 1.5, generator: g),
            ["bias"] = Tensor.Uniform([m.NumFeatures], -0.5, 0.5, generator: g),
        }, strict: false);
        return m;
    }

    public static readonly LayerCase[] All =
    [
        new("linear", g => new Linear(7, 5, generator: g), [4, 7]),
        new("linear-nobias", g => new Linear(7, 5, bias: false, generator: g), [4, 7]),
        new("linear-3d", g => new Linear(7, 5, generator: g), [3, 6, 7]),
        new("conv2d", g => new Conv2d(3, 8, 3, padding: 1, generator: g), [2, 3, 9, 9]),
        new("conv2d-groups-dilation-stride", g => new Conv2d(4, 6, (3, 2), stride: (2, 1), padding: (2, 1), dilation: (2, 3), groups: 2, generator: g), [2, 4, 11, 10]),
        new("conv2d-depthwise-nobias", g => new Conv2d(4, 8, 3, groups: 4, bias: false, generator: g), [2, 4, 7, 7]),
        new("conv2d-same-even", g => new Conv2d(2, 3, 4, padding: "same", dilation: 2, generator: g), [2, 2, 9, 8]),
        new("conv1d", g => new Conv1d(3, 5, 3, stride: 2, padding: 1, dilation: 2, generator: g), [2, 3, 12]),
        new("convtranspose2d", g => new ConvTranspose2d(4, 6, 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, generator: g), [2, 4, 5, 5]),
        new("maxpool2d", _ => new MaxPool2d(2), [2, 3, 8, 8]),
        new("maxpool2d-ceil-pad", _ => new MaxPool2d(2, stride: 2, padding: 1, ceilMode: true), [2, 3, 5, 5]),
        new("maxpool2d-ceil-dilation", _ => new MaxPool2d(3, stride: 2, padding: 1, dilation: 2, ceilMode: true), [2, 2, 10, 9]),
        new("maxpool1d-ceil", _ => new MaxPool1d(3, stride: 2, padding: 1, ceilMode: true), [2, 3, 10]),
        new("avgpool2d", _ => new AvgPool2d(3, stride: 2, padding: 1), [2, 3, 9, 8]),
        new("avgpool2d-ceil-pad", _ => new AvgPool2d(2, stride: 2, padding: 1, ceilMode: true), [2, 3, 5, 5]),
        new("avgpool2d-ceil-nopadcount", _ => new AvgPool2d(3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false), [2, 3, 8, 8]),
        new("avgpool2d-divisor", _ => new AvgPool2d(3, stride: 2, padding: 1, divisorOverride: 5), [2, 3, 9, 8]),
        new("avgpool1d-ceil", _ => new AvgPool1d(3, stride: 2, padding: 1, ceilMode: true), [2, 3, 10]),
        new("adaptiveavgpool2d", _ => new AdaptiveAvgPool2d((2, 3)), [2, 3, 8, 9]),
        new("adaptivemaxpool2d-1", _ => new AdaptiveMaxPool2d(1), [2, 3, 5, 6]),
        new("globalavgpool2d", _ => new GlobalAvgPool2d(), [2, 3, 5, 6]),
        new("embedding", g => new Embedding(11, 6, generator: g), [3, 5], IndexRange: 11),
        new("batchnorm1d-2d", g => Warm(Affine(new BatchNorm1d(6), g), [8, 6], g), [4, 6]),
        new("batchnorm1d-3d", g => Warm(Affine(new BatchNorm1d(6, momentum: 0.3), g), [8, 6, 5], g), [4, 6, 5]),
        new("batchnorm2d", g => Warm(Affine(new BatchNorm2d(5, eps: 1e-3), g), [4, 5, 6, 6], g), [2, 5, 6, 6]),
        new("batchnorm2d-noaffine", g => Warm(new BatchNorm2d(5, affine: false), [4, 5, 6, 6], g), [2, 5, 6, 6]),
        new("instancenorm2d", g => new InstanceNorm2d(4), [2, 4, 5, 6]),
        new("instancenorm2d-affine", g => Affine(new InstanceNorm2d(4, affine: true), g), [2, 4, 5, 6]),
        new("instancenorm1d-running", g => Warm(Affine(new InstanceNorm1d(4, affine: true, trackRunningStats: true), g), [3, 4, 9], g), [2, 4, 9]),
        new("layernorm", g => new LayerNorm(6), [3, 4, 6]),
        new("layernorm-2dims-nobias", g => new LayerNorm([4, 6], bias: false), [3, 4, 6]),
        new("layernorm-opset13", g => new LayerNorm(6, eps: 1e-3), [3, 4, 6], Opset: 13),
        new("groupnorm", g => new GroupNorm(3, 6), [2, 6, 4, 5]),
        new("groupnorm-1d-noaffine", g => new GroupNorm(2, 4, affine: false), [2, 4, 7]),
        new("rmsnorm", g => new RMSNorm(6), [3, 4, 6]),
        new("rmsnorm-opset23", g => new RMSNorm([4, 6], eps: 1e-5), [3, 4, 6], Opset: 23),
        new("rnn-tanh", g => new RNN(5, 7, generator: g), [6, 3, 5], BatchAxis: 1),
        new("rnn-relu-bidirectional", g => new RNN(5, 7, nonlinearity: "relu", bidirectional: true, generator: g), [6, 3, 5], BatchAxis: 1),
        new("lstm", g => new LSTM(5, 7, generator: g), [6, 3, 5], BatchAxis: 1),
        new("lstm-2layer-bidirectional-batchfirst", g => new LSTM(5, 7, numLayers: 2, batchFirst: true, bidirectional: true, generator: g), [3, 6, 5]),
        new("lstm-nobias", g => new LSTM(5, 4, bias: false, generator: g), [6, 3, 5], BatchAxis: 1),
        new("gru", g => new GRU(5, 7, generator: g), [6, 3, 5], BatchAxis: 1),
        new("gru-2layer-bidirectional", g => new GRU(5, 6, numLayers: 2, bidirectional: true, dropout: 0.3, generator: g), [6, 3, 5], BatchAxis: 1),
        new("gru-batchfirst", g => new GRU(5, 6, batchFirst: true, generator: g), [3, 6, 5]),
        new("activations", g => new Sequential(new Linear(6, 8, generator: g), new ReLU(), new LeakyReLU(0.2), new Tanh(), new Linear(8, 8, generator: g),
            new Sigmoid(), new ELU(0.7), new SELU(), new CELU(1.3), new Linear(8, 8, generator: g), new Softsign(), new Hardtanh(-0.5, 0.4)), [4, 6]),
        new("activations-2", g => new Sequential(new Linear(6, 8, generator: g), new GELU(), new SiLU(), new Linear(8, 8, generator: g), new GELU("tanh"),
            new Mish(), new Hardswish(), new Hardsigmoid(), new Softplus(), new Softplus(2, 1), new Softmax(-1)), [4, 6]),
        new("activations-opset20", g => new Sequential(new Linear(6, 8, generator: g), new GELU(), new Mish(), new Linear(8, 8, generator: g), new GELU("tanh"), new LogSoftmax(1)), [4, 6], Opset: 20),
        new("prelu-glu", g => new Sequential(new Conv2d(2, 4, 3, generator: g), new PReLU(4, 0.1), new GLU(1), new PReLU()), [2, 2, 5, 5]),
        new("multiheadattention", g => new MultiheadAttention(8, 2, generator: g), [5, 3, 8], BatchAxis: 1),
        new("transformer-encoder-layer", g => new TransformerEncoderLayer(8, 2, 16, generator: g), [5, 3, 8], BatchAxis: 1),
        new("transformer-encoder-layer-prenorm-gelu-batchfirst", g => new TransformerEncoderLayer(8, 4, 12, activation: "gelu", batchFirst: true, normFirst: true, generator: g), [3, 5, 8]),
        new("transformer-encoder-layer-gelutanh-opset13", g => new TransformerEncoderLayer(8, 2, 12, activation: "gelu_tanh", bias: false, generator: g), [4, 2, 8], Opset: 13, BatchAxis: 1),
        new("transformer-encoder", g => new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16, batchFirst: true, generator: g), 2, new LayerNorm(8)), [2, 6, 8]),
        new("flatten-unflatten-dropout", g => new Sequential(new Flatten(2), new Dropout(0.5), new Linear(20, 6, generator: g), new Unflatten(2, [2, 3]), new Flatten(1, 2), new Dropout2d()), [2, 3, 4, 5]),
    ];

    public static IEnumerable<object[]> Names => All.Select(c => new object[] { c.Name });

    public static LayerCase Get(string name) => All.Single(c => c.Name == name);
}
