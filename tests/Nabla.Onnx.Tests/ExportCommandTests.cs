using System.Diagnostics;
using Nabla.Cli;
using Nabla.Training;

namespace Nabla.Onnx.Tests;

/// <summary>`nabla export` run as a user runs it (the built CLI as a child process), then ONNX Runtime on the file it wrote.</summary>
public class ExportCommandTests
{
    private static (int Code, string Out, string Err) Nabla(string workDir, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.dll");
        Assert.True(File.Exists(dll), $"the CLI is not next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"nabla {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void ATrainedRunExportsAndOnnxRuntimeRunsIt()
    {
        using var dir = Ort.Temp();
        var train = Nabla(dir.Path, "train", "--epochs", "1", "--hidden", "16", "--threads", "2", "--plain", "--run", "m");
        Assert.True(train.Code == 0, train.Out + train.Err);
        var export = Nabla(dir.Path, "export", Path.Combine("runs", "m"), "m.onnx", "--opset", "18");
        Assert.True(export.Code == 0, export.Out + export.Err);
        Assert.Contains("wrote m.onnx (ONNX opset 18, input 'input' (batch, 784) float32, output 'output' (batch, classes)", export.Out);

        // the run's weights in Nabla against ONNX Runtime on the exported file
        var model = Models.Mlp(784, [16], 10, new Generator(1));
        Checkpoint.LoadModel(Path.Combine(dir.Path, "runs", "m", "model.safetensors"), model);
        model.Eval();
        var x = Tensor.Rand([5, 784], generator: new Generator(2));
        Tensor expected;
        using (Tensor.NoGrad()) expected = model.Forward(x);
        double err = Ort.ScaledError(Ort.Run(dir.File("m.onnx"), x), expected);
        Assert.True(err <= 1e-5, $"ONNX Runtime's output differs from the run's model by {err:G3} of its scale");
    }

    [Fact]
    public void MistakesAreOneLine()
    {
        using var dir = Ort.Temp();
        var missing = Nabla(dir.Path, "export", "runs/none", "m.onnx");
        Assert.NotEqual(0, missing.Code);
        Assert.StartsWith("error: ", missing.Err);
        Assert.Contains("runs/none", missing.Err);
        Assert.Single(missing.Err.Trim().Split('\n'));
        var opset = Nabla(dir.Path, "export", "runs/none", "m.onnx", "--opset", "7");
        Assert.Equal(2, opset.Code);
        Assert.StartsWith("error: ", opset.Err);
        Assert.Contains("--opset", opset.Err);
        Assert.False(File.Exists(dir.File("m.onnx")));
    }
}
