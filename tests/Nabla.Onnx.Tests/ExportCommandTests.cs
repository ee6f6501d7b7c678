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
    public void AGptRunExportsAndOnnxRuntimeRunsItsCausalBlocks()
    {
        using var dir = Ort.Temp();
        File.WriteAllText(dir.File("t.txt"), string.Concat(Enumerable.Repeat("the cat sat on the mat.\n", 100)));
        var train = Nabla(dir.Path, "train", "--model", "gpt", "--text", "t.txt", "--context", "16", "--dim", "16", "--layers", "2", "--heads", "2",
            "--batch-size", "8", "--epochs", "1", "--threads", "2", "--run", "g");
        Assert.True(train.Code == 0, train.Out + train.Err);
        var export = Nabla(dir.Path, "export", Path.Combine("runs", "g"), "g.onnx");
        Assert.True(export.Code == 0, export.Out + export.Err);
        Assert.Contains("wrote g.onnx (ONNX opset 17, input 'input' (batch, 16) int64 character ids, output 'output' (batch, 16, 12) next-character logits", export.Out);

        // the run's weights in Nabla against ONNX Runtime on the exported file: 3 sequences of 16 ids
        var model = new Gpt(12, 16, 16, 2, 2, 0, new Generator(1));
        Checkpoint.LoadModel(Path.Combine(dir.Path, "runs", "g", "model.safetensors"), model);
        model.Eval();
        var x = Tensor.RandInt(0, 12, [3, 16], generator: new Generator(2));
        Tensor expected;
        using (Tensor.NoGrad()) expected = model.Forward(x);
        double err = Ort.ScaledError(Ort.Run(dir.File("g.onnx"), x, int64Input: true), expected);
        Assert.True(err <= 1e-5, $"ONNX Runtime's logits differ from the run's model by {err:G3} of their scale");
        // causal: changing the last id changes only the last position's logits
        var ids = x.ToDoubleArray().Select(v => (float)v).ToArray();
        ids[15] = (ids[15] + 1) % 12;
        var x2 = Tensor.FromArray(ids, 3, 16);
        var y1 = Ort.Run(dir.File("g.onnx"), x, int64Input: true).ToArray();
        var y2 = Ort.Run(dir.File("g.onnx"), x2, int64Input: true).ToArray();
        Assert.Equal(y1[..(15 * 12)], y2[..(15 * 12)]);
        Assert.NotEqual(y1[(15 * 12)..(16 * 12)], y2[(15 * 12)..(16 * 12)]);
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
