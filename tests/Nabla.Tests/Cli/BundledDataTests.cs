using System.Globalization;
using System.Text.RegularExpressions;
using Nabla.Data;

namespace Nabla.Tests.Cli;

/// <summary>Without --data the commands read the sample built into Nabla.dll; explain takes --data as train does.</summary>
public sealed class BundledDataTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nabla-bundled-tests").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Nabla.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static double Loss(string explainOutput)
    {
        var m = Regex.Match(explainOutput, @"loss J = ([0-9.]+)");
        Assert.True(m.Success, explainOutput);
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void TrainWithoutDataUsesTheEmbeddedSample_AndEvalFindsItAgain()
    {
        var (code, output, err) = Run("train", "--epochs", "1", "--hidden", "16", "--threads", "2", "--plain", "--runs-dir", _root, "--run", "r");
        Assert.True(code == 0, err + output);
        Assert.Contains($"data: {Mnist.SampleName} (8000 train, 2000 test, 28x28)", output);
        Assert.Contains($"\"data\": \"{Mnist.SampleName}\"", File.ReadAllText(Path.Combine(_root, "r", "run.json")));
        (code, output, err) = Run("eval", Path.Combine(_root, "r"));
        Assert.True(code == 0, err + output);
        Assert.Contains($"data: {Mnist.SampleName} (2000 test images)", output);
    }

    [Fact]
    public void ExplainTakesData()
    {
        // a folder whose first training digits are the sample's last ones: the loss must change with the data
        string dir = Directory.CreateDirectory(Path.Combine(_root, "digits")).FullName;
        foreach (bool train in new[] { true, false })
        {
            var split = Mnist.LoadSample(train);
            int n = 64, px = split.Rows * split.Cols, from = split.Count - n;
            var bytes = split.Images.AsSpan(from * px, n * px).ToArray().Select(v => (byte)Math.Round(v * 255)).ToArray();
            string prefix = train ? "train" : "t10k";
            Idx.Write(Path.Combine(dir, $"{prefix}-images-idx3-ubyte"), new IdxArray([n, split.Rows, split.Cols], bytes), gzip: false);
            Idx.Write(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte"), new IdxArray([n], split.Labels[from..].Select(l => (byte)l).ToArray()), gzip: false);
        }

        var (code, bundled, err) = Run("explain", "--batch-size", "8");
        Assert.True(code == 0, err);
        (code, var fromFolder, err) = Run("explain", "--batch-size", "8", "--data", dir);
        Assert.True(code == 0, err);
        Assert.NotEqual(Loss(bundled), Loss(fromFolder));
        (code, var again, err) = Run("explain", "--batch-size", "8", "--data", dir);
        Assert.True(code == 0, err);
        Assert.Equal(Loss(fromFolder), Loss(again));

        (code, _, err) = Run("explain", "--data", Path.Combine(_root, "nope"));
        Assert.Equal(2, code);
        Assert.Equal($"error: nabla explain: data folder '{Path.Combine(_root, "nope")}' does not exist.", err.TrimEnd());
        Assert.Contains("--data DIR", Run("explain", "--help").Out);
    }
}
