using Xunit.Abstractions;

namespace Nabla.Onnx.Tests;

/// <summary>
/// Models exported by PyTorch 1.13's torch.onnx (tests/fixtures/onnx/make_onnx_fixtures.py, opset 17) load with
/// Onnx.Load and reproduce the outputs PyTorch saved; ONNX Runtime agrees on the same files.
/// </summary>
public class TorchImportTests(ITestOutputHelper output)
{
    private static string FixtureDir
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "tests", "fixtures", "onnx"))) dir = dir.Parent;
            Assert.True(dir is not null, "tests/fixtures/onnx not found above " + AppContext.BaseDirectory);
            return Path.Combine(dir!.FullName, "tests", "fixtures", "onnx");
        }
    }

    private static (Tensor X, Tensor Y) ReadIo(string name)
    {
        using var r = new BinaryReader(File.OpenRead(Path.Combine(FixtureDir, name + ".io.bin")));
        Tensor Read()
        {
            int rank = r.ReadInt32();
            int[] shape = Enumerable.Range(0, rank).Select(_ => r.ReadInt32()).ToArray();
            int n = shape.Aggregate(1, (a, b) => a * b);
            return Tensor.FromArray(Enumerable.Range(0, n).Select(_ => r.ReadSingle()).ToArray(), shape);
        }
        return (Read(), Read());
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    [InlineData("lstm")]
    [InlineData("gru_rnn")]
    [InlineData("embedding")]
    public void PyTorchsExportRunsInNabla(string name)
    {
        var (x, expected) = ReadIo(name);
        string path = Path.Combine(FixtureDir, name + ".onnx");
        var model = Onnx.Load(path);
        output.WriteLine($"{name}: {string.Join(" ", model.Operators)}");
        Tensor got;
        using (Tensor.NoGrad()) got = model.Forward(x);
        double err = Ort.ScaledError(got, expected);
        output.WriteLine($"{name}: scaled error against PyTorch {err:G3}");
        Assert.True(err <= 1e-5, $"{name}: Nabla's output differs from PyTorch's by {err:G3} of its scale");
        double ortErr = Ort.ScaledError(Ort.Run(path, x, model.InputIsInt64), expected);
        Assert.True(ortErr <= 1e-5, $"{name}: ONNX Runtime's output differs from PyTorch's by {ortErr:G3}: the fixture is suspect");
    }
}
