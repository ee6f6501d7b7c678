using Xunit.Abstractions;

namespace Nabla.Onnx.Tests;

/// <summary>Every layer configuration, exported and run by ONNX Runtime: its output is Nabla's (float32, ≤ 1e-5 of the scale).</summary>
public class ExportTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(LayerCases.Names), MemberType = typeof(LayerCases))]
    public void OnnxRuntimeComputesWhatNablaComputes(string name)
    {
        var c = LayerCases.Get(name);
        var g = new Generator(7);
        var model = c.Build(g);
        model.Eval();
        var x = c.Input(g);
        using var dir = Ort.Temp();
        string path = dir.File("model.onnx");
        Onnx.Export(model, x, path, c.Opset, c.BatchAxis);

        Tensor expected;
        using (Tensor.NoGrad()) expected = model.Forward(x);
        double err = Ort.ScaledError(Ort.Run(path, x, c.IndexRange > 0), expected);
        output.WriteLine($"{name}: scaled error {err:G3}");
        Assert.True(err <= 1e-5, $"{name}: ONNX Runtime's output differs from Nabla's by {err:G3} of its scale");

        // the batch axis is dynamic: another batch size runs too
        int other = x.Size(c.BatchAxis) + 2;
        var x2 = c.Input(g, other);
        using (Tensor.NoGrad()) expected = model.Forward(x2);
        double err2 = Ort.ScaledError(Ort.Run(path, x2, c.IndexRange > 0), expected);
        Assert.True(err2 <= 1e-5, $"{name}: with batch {other}, ONNX Runtime's output differs from Nabla's by {err2:G3} of its scale");
    }
}
