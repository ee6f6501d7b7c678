using Nabla.NN;
using Nabla.Onnx;

namespace Nabla.Cli;

/// <summary>
/// The `lstm` preset's model: an LSTM reads an image row by row (28 steps of 28 pixels, batch-first) and a
/// connection layer classifies its last hidden state. Shape: (B, 28, 28) → (B, classes).
/// Parameter keys as the PyTorch model in bench_torch.py: <c>lstm.weight_ih_l0</c>, …, <c>fc.weight</c>, <c>fc.bias</c>.
/// </summary>
internal sealed class LstmClassifier : Module, IOnnxExportable
{
    private readonly LSTM _lstm;
    private readonly Linear _fc;

    public LstmClassifier(int inputSize, int hiddenSize, int classes, Generator generator)
    {
        _lstm = RegisterModule("lstm", new LSTM(inputSize, hiddenSize, batchFirst: true, generator: generator));
        _fc = RegisterModule("fc", new Linear(hiddenSize, classes, generator: generator));
    }

    public override Tensor Forward(Tensor input)
    {
        var y = ForwardChild(_lstm, input);           // (B, T, H)
        return ForwardChild(_fc, y.Select(1, -1));       // the last step
    }

    /// <summary>The same three steps as ONNX nodes: the LSTM, a Gather of the last step (index −1 on the time axis), the Linear.</summary>
    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
    {
        var y = context.Emit(_lstm, input, "lstm");
        var last = new OnnxValue(context.Node("Gather", [y.Name, context.Int64Scalar(-1)], ("axis", 1L)), y.Sample.Select(1, -1));
        return context.Emit(_fc, last, "fc");
    }
}
