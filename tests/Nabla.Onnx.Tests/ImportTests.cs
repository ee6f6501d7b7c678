using Nabla.Cli;
using Nabla.Onnx.Protos;
using Xunit.Abstractions;

namespace Nabla.Onnx.Tests;

/// <summary>Export → Onnx.Load → the same outputs, for every layer configuration and preset; Load's refusals.</summary>
public class ImportTests(ITestOutputHelper output)
{
    [Theory]
    [MemberData(nameof(LayerCases.Names), MemberType = typeof(LayerCases))]
    public void ExportedLayerLoadsAndComputesTheSame(string name)
    {
        var c = LayerCases.Get(name);
        var g = new Generator(11);
        var model = c.Build(g);
        model.Eval();
        var x = c.Input(g);
        using var dir = Ort.Temp();
        string path = dir.File("model.onnx");
        Onnx.Export(model, x, path, c.Opset, c.BatchAxis);
        var loaded = Onnx.Load(path);
        Assert.Equal(c.IndexRange > 0, loaded.InputIsInt64);
        foreach (var input in new[] { x, c.Input(g, x.Size(c.BatchAxis) + 1) })
        {
            Tensor expected, got;
            using (Tensor.NoGrad())
            {
                expected = model.Forward(input);
                got = loaded.Forward(input);
            }
            double err = Ort.ScaledError(got, expected);
            output.WriteLine($"{name}: scaled error {err:G3}");
            Assert.True(err <= 1e-5, $"{name}: the loaded model's output differs from the original's by {err:G3} of its scale");
        }
    }

    public static IEnumerable<object[]> Presets => Models.Presets.Select(p => new object[] { p.Name });

    [Theory]
    [MemberData(nameof(Presets))]
    public void ExportedPresetLoadsAndComputesTheSame(string name)
    {
        var preset = Models.Get(name);
        var g = new Generator(5);
        var model = preset.Build(preset.SampleShape, 10, g);
        model.Train();
        model.Forward(Tensor.Rand([8, .. preset.SampleShape], generator: g));
        model.Eval();
        var x = Tensor.Rand([3, .. preset.SampleShape], generator: g);
        using var dir = Ort.Temp();
        Onnx.Export(model, x, dir.File("m.onnx"));
        Tensor expected, got;
        using (Tensor.NoGrad())
        {
            expected = model.Forward(x);
            got = Onnx.Load(dir.File("m.onnx")).Forward(x);
        }
        double err = Ort.ScaledError(got, expected);
        output.WriteLine($"{name}: scaled error {err:G3}");
        Assert.True(err <= 1e-5, $"{name}: the loaded model's output differs by {err:G3} of its scale");
    }

    [Fact]
    public void AnUnsupportedOperatorIsRefusedWhenLoading()
    {
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.Graph.Input.Add(new ValueInfoProto { Name = "x" });
        model.Graph.Output.Add(new ValueInfoProto { Name = "y" });
        model.Graph.Node.Add(new NodeProto { OpType = "Einsum", Input = { "x" }, Output = { "y" } });
        model.Graph.Node.Add(new NodeProto { OpType = "Relu", Input = { "y" }, Output = { "z" } });
        using var dir = Ort.Temp();
        File.WriteAllBytes(dir.File("m.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(model));
        var e = Assert.Throws<NotSupportedException>(() => Onnx.Load(dir.File("m.onnx")));
        Assert.Contains("uses operator(s) Nabla does not run: Einsum.", e.Message);
        Assert.DoesNotContain("Relu.", e.Message);
    }

    [Fact]
    public void AFileThatIsNotOnnxIsRefused()
    {
        using var dir = Ort.Temp();
        File.WriteAllText(dir.File("m.onnx"), "this is not a protobuf message at all \u0001\u0002\u00ff");
        var e = Assert.Throws<InvalidDataException>(() => Onnx.Load(dir.File("m.onnx")));
        Assert.Contains("is not an ONNX model", e.Message);
    }

    [Fact]
    public void AnInputOfTheWrongShapeIsRefused()
    {
        using var dir = Ort.Temp();
        Onnx.Export(new NN.Linear(4, 2), Tensor.Randn([3, 4]), dir.File("m.onnx"));
        var loaded = Onnx.Load(dir.File("m.onnx"));
        var e = Assert.Throws<ArgumentException>(() => loaded.Forward(Tensor.Randn([3, 5])));
        Assert.Contains("input 'input' must have shape (batch, 4), got (3, 5)", e.Message);
    }
}
