using Nabla.Cli;
using Nabla.NN;
using Xunit.Abstractions;

namespace Nabla.Onnx.Tests;

/// <summary>Every `nabla train --model` preset, exported and run by ONNX Runtime with two batch sizes.</summary>
public class PresetExportTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Presets => Models.Presets.Select(p => new object[] { p.Name });

    [Theory]
    [MemberData(nameof(Presets))]
    public void PresetRunsInOnnxRuntime(string name)
    {
        var preset = Models.Get(name);
        var g = new Generator(3);
        var model = preset.Build(preset.SampleShape, 10, g);
        model.Train();
        for (int i = 0; i < 2; i++) model.Forward(Tensor.Rand([8, .. preset.SampleShape], generator: g));   // BatchNorm statistics move
        model.Eval();
        using var dir = Ort.Temp();
        string path = dir.File(name + ".onnx");
        Onnx.Export(model, Tensor.Rand([2, .. preset.SampleShape], generator: g), path);
        foreach (int batch in new[] { 2, 5 })
        {
            var x = Tensor.Rand([batch, .. preset.SampleShape], generator: g);
            Tensor expected;
            using (Tensor.NoGrad()) expected = model.Forward(x);
            double err = Ort.ScaledError(Ort.Run(path, x), expected);
            output.WriteLine($"{name} batch {batch}: scaled error {err:G3}");
            Assert.True(err <= 1e-5, $"{name} (batch {batch}): ONNX Runtime's output differs from Nabla's by {err:G3} of its scale");
        }
    }

    [Fact]
    public void ExportLeavesTheModelsModesAsTheyWere()
    {
        var model = new Sequential(new Linear(3, 4), new Dropout(0.5), new Sequential(new BatchNorm1d(4), new ReLU()));
        model.Train();
        ((Sequential)model[2]).Eval();
        using var dir = Ort.Temp();
        Onnx.Export(model, Tensor.Randn([2, 3]), dir.File("m.onnx"));
        Assert.True(model.Training);
        Assert.True(model[1].Training);
        Assert.False(model[2].Training);
        Assert.False(((Sequential)model[2])[0].Training);
    }

    [Fact]
    public void PyTorchsCeilModeWindowCountIsKept()
    {
        // size 5, kernel 2, stride 2, padding 1, ceil_mode: PyTorch drops the last window, which would start inside
        // the right padding, so 3 outputs (not ⌈(5 + 2 − 2)/2⌉ + 1 = 4)
        var pool = new MaxPool2d(2, stride: 2, padding: 1, ceilMode: true);
        var x = Tensor.Randn([1, 1, 5, 5]);
        using var dir = Ort.Temp();
        Onnx.Export(pool, x, dir.File("pool.onnx"));
        var y = Ort.Run(dir.File("pool.onnx"), x);
        Assert.Equal([1, 1, 3, 3], y.Shape.ToArray());
        Assert.Equal(pool.Forward(x).ToArray(), y.ToArray());
    }
}
