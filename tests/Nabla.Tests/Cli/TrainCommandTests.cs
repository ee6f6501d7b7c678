using System.Globalization;
using System.Text.RegularExpressions;
using Nabla.Cli;
using Nabla.Data;

namespace Nabla.Tests.Cli;

public class TrainCommandTests
{
    // every run goes to a temporary runs folder, never into the current directory
    private static readonly string s_runs = Directory.CreateTempSubdirectory("nabla-train-tests").FullName;

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        if (args.Length > 0 && args[0] == "train" && !args.Contains("--help") && !args.Any(a => a.StartsWith("--resume", StringComparison.Ordinal)))
            args = ["train", "--runs-dir", s_runs, "--run", Guid.NewGuid().ToString("N"), .. args[1..]];
        int code = Nabla.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void ShortTrainingRunLearns()
    {
        // a tiny budget: 2 epochs of a small network; the full recipe is a CLI run quoted in the README
        var (code, output, err) = Run("train", "--epochs", "2", "--hidden", "64", "--lr", "0.1", "--momentum", "0", "--threads", "2");
        Assert.True(code == 0, err);
        var m = Regex.Match(output, @"test accuracy: ([0-9.]+)%");
        Assert.True(m.Success, output);
        Assert.True(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) > 80, output);
        Assert.Contains("epoch   2/2", output);
        Assert.Contains("samples/s", output);
    }

    [Theory]
    [InlineData("--bogus", "unknown option '--bogus'")]
    [InlineData("--lr", "needs a value")]
    [InlineData("--lr=-0.5", "--lr must be greater than 0")]
    [InlineData("--epochs=abc", "--epochs expects an integer")]
    [InlineData("--hidden=12,x", "--hidden expects positive integers")]
    [InlineData("--data=/nonexistent/folder", "does not exist")]
    [InlineData("--optimizer=lbfgs", "--optimizer must be one of sgd, adam, adamw, rmsprop, adagrad")]
    [InlineData("--schedule=linear", "--schedule must be one of")]
    [InlineData("--val-split=1.5", "--val-split must be a fraction below 1")]
    [InlineData("--resume=/nonexistent/run", "run folder '/nonexistent/run' does not exist")]
    public void UserMistakesGiveOneLineAndExitCode2(string option, string expected)
    {
        var (code, _, err) = Run("train", option);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public void CorruptDataFileGivesOneLineNamingTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("nabla-corrupt").FullName;
        try
        {
            string src = Mnist.FindBundledData();
            foreach (var f in Directory.GetFiles(src, "*.gz")) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            string images = Path.Combine(dir, "train-images-idx3-ubyte.gz");
            var bytes = File.ReadAllBytes(images);
            File.WriteAllBytes(images, bytes[..(bytes.Length / 2)]);
            var (code, _, err) = Run("train", "--data", dir, "--epochs", "1");
            Assert.Equal(1, code);
            Assert.Contains("train-images-idx3-ubyte.gz", err);
            Assert.Single(err.TrimEnd().Split('\n'));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void DivergingLossStopsWithAClearError()
    {
        var (code, _, err) = Run("train", "--epochs", "1", "--hidden", "16", "--lr", "1e30", "--schedule", "constant");
        Assert.Equal(2, code);
        Assert.Contains("the loss became", err);
        Assert.Contains("lower the learning rate", err);
    }

    [Fact]
    public void HelpDescribesTheOptions()
    {
        var (code, output, _) = Run("train", "--help");
        Assert.Equal(0, code);
        foreach (var opt in new[] { "--data", "--epochs", "--batch-size", "--lr", "--hidden", "--seed", "--threads", "--optimizer", "--momentum", "--weight-decay",
            "--nesterov", "--schedule", "--warmup", "--val-split", "--early-stopping", "--run", "--runs-dir", "--resume" }) Assert.Contains(opt, output);
        Assert.Equal(2, Run("frobnicate").Code);
    }
}
