using System.Globalization;
using System.Text.RegularExpressions;

namespace Nabla.Tests.Cli;

/// <summary>eval, predict, summary, explain and plot on one tiny trained run (trained once for the class).</summary>
public sealed class CommandsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nabla-cmd-tests").FullName;
    private readonly string _run;

    public CommandsTests()
    {
        var (code, output, err) = Run("train", "--epochs", "2", "--hidden", "32", "--val-split", "0.1", "--early-stopping", "2", "--optimizer", "adam",
            "--schedule", "onecycle", "--runs-dir", _root, "--run", "tiny", "--threads", "2");
        Assert.True(code == 0, err + output);
        _run = Path.Combine(_root, "tiny");
        TrainOutput = output;
    }

    private string TrainOutput { get; }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Nabla.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void TrainWritesTheRunFolder()
    {
        Assert.Contains("epoch   2/2", TrainOutput);
        Assert.Contains("val acc", TrainOutput);
        foreach (var f in new[] { "run.json", "metrics.csv", "checkpoint.safetensors", "model.safetensors", "best.safetensors",
            "loss.png", "loss.svg", "accuracy.png", "accuracy.svg", "lr.png", "lr.svg" })
            Assert.True(File.Exists(Path.Combine(_run, f)), f);
        var lines = File.ReadAllLines(Path.Combine(_run, "metrics.csv"));
        Assert.Equal("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds", lines[0]);
        Assert.Equal(3, lines.Length);
        var png = File.ReadAllBytes(Path.Combine(_run, "loss.png"));
        Assert.Equal(0x89, png[0]);
        Assert.Contains("epoch", File.ReadAllText(Path.Combine(_run, "loss.svg"))); // the axis label is drawn as text
    }

    [Fact]
    public void EvalReportsTheSameAccuracyAsTraining()
    {
        var (code, output, err) = Run("eval", _run);
        Assert.True(code == 0, err);
        string trained = Regex.Match(TrainOutput, @"test accuracy: ([0-9.]+)%").Groups[1].Value;
        Assert.Contains($"test accuracy: {trained}%", output);
        Assert.True(double.Parse(trained, CultureInfo.InvariantCulture) > 80, TrainOutput);
    }

    [Fact]
    public void PredictReadsAPngAndPrintsProbabilities()
    {
        // a test digit drawn dark on light, as a person would: predict inverts it back
        var test = Nabla.Data.Mnist.LoadFolder(Nabla.Data.Mnist.FindBundledData(), train: false);
        var pixels = test.Images.Take(784).Select(v => (byte)(255 - Math.Round(v * 255))).ToArray();
        string png = Path.Combine(_root, "digit.png");
        File.WriteAllBytes(png, Nabla.Cli.PngTestHook.EncodeGray(pixels, 28, 28));
        var (code, output, err) = Run("predict", _run, png);
        Assert.True(code == 0, err);
        Assert.Contains("inverted", output);
        Assert.Contains($"prediction: {test.Labels[0]}", output);
        var probs = Regex.Matches(output, @"^  \d  +([0-9.]+)%", RegexOptions.Multiline).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(10, probs.Count);
        Assert.InRange(probs.Sum(), 99.9, 100.1);
    }

    [Fact]
    public void PlotRedrawsFromMetrics()
    {
        File.Delete(Path.Combine(_run, "lr.png"));
        var (code, output, err) = Run("plot", _run);
        Assert.True(code == 0, err);
        Assert.Contains("lr.png", output);
        Assert.True(File.Exists(Path.Combine(_run, "lr.png")));
    }

    [Fact]
    public void SummaryListsLayersShapesAndParameterCounts()
    {
        var (code, output, err) = Run("summary", "--hidden", "32");
        Assert.True(code == 0, err);
        Assert.Contains("0 (Linear)", output);
        Assert.Contains("(N, 32)", output);
        Assert.Contains("25,120", output); // 784·32 + 32
        Assert.Contains("Total params: 25,450", output); // + 32·10 + 10
    }

    [Fact]
    public void ExplainAnswersTheThreeQuestionsPerLayer()
    {
        var (code, output, err) = Run("explain", "--hidden", "16", "--batch-size", "8");
        Assert.True(code == 0, err);
        Assert.Equal(3, Regex.Matches(output, @"^\[\d\]", RegexOptions.Multiline).Count);
        Assert.Contains("∇weight (16, 784)", output);
        Assert.Contains("∇in J (8, 784)", output);
        Assert.Contains("none (no parameters)", output);
        Assert.DoesNotContain("NaN", output);
        Assert.Equal(0, Run("explain", _run, "--batch-size", "4").Code);
    }

    [Theory]
    [InlineData("eval", "/nonexistent/run", "does not exist")]
    [InlineData("plot", "/nonexistent/run", "does not exist")]
    [InlineData("summary", "--model=resnet999", "unknown model 'resnet999'")]
    [InlineData("explain", "--model=resnet999", "unknown model 'resnet999'")]
    public void UserMistakesGiveOneLineAndExitCode2(string command, string arg, string expected)
    {
        var (code, _, err) = Run(command, arg);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public void PredictRejectsAnUnreadablePng()
    {
        string bad = Path.Combine(_root, "bad.png");
        File.WriteAllText(bad, "not a png");
        var (code, _, err) = Run("predict", _run, bad);
        Assert.Equal(2, code);
        Assert.Contains("is not a readable PNG", err);
        Assert.Equal(2, Run("predict", _run, Path.Combine(_root, "missing.png")).Code);
        foreach (var c in new[] { "eval", "predict", "summary", "explain", "plot" }) Assert.Equal(0, Run(c, "--help").Code);
    }
}
