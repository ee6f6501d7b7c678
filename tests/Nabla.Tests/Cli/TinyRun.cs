using Nabla.Data;

namespace Nabla.Tests.Cli;

/// <summary>A small data folder cut from the bundled sample and a tiny mlp run trained on it (one per test class).</summary>
public sealed class TinyRun : IDisposable
{
    public TinyRun()
    {
        Data = Path.Combine(Root, "data");
        WriteSubset(Data, train: 64, test: 100);
        var (code, output, err) = Run("train", "--hidden", "8", "--epochs", "1", "--data", Data, "--runs-dir", Root, "--run", "tiny", "--threads", "2", "--plain");
        Assert.True(code == 0, err + output);
        RunDir = Path.Combine(Root, "tiny");
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("nabla-tiny").FullName;

    /// <summary>The data folder: 64 training and 100 test images, 28x28.</summary>
    public string Data { get; }

    /// <summary>The run folder (mlp 784 → 8 → 10, one epoch).</summary>
    public string RunDir { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Nabla.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>Writes the first <paramref name="train"/> and <paramref name="test"/> bundled images to <paramref name="dir"/> as raw IDX
    /// files, each image's pixels laid out as rows x cols (784 pixels: 28x28, 784x1, ...).</summary>
    public static void WriteSubset(string dir, int train, int test, int rows = 28, int cols = 28)
    {
        Directory.CreateDirectory(dir);
        var bundled = Mnist.FindBundledData();
        foreach (var (prefix, n) in new[] { ("train", train), ("t10k", test) })
        {
            var split = Mnist.LoadFolder(bundled, prefix == "train");
            int pixels = rows * cols;
            var bytes = new byte[n * pixels];
            for (int i = 0; i < n; i++)
                for (int p = 0; p < pixels; p++) bytes[i * pixels + p] = (byte)Math.Round(255 * split.Images[i * 784 + p % 784]);
            Idx.Write(Path.Combine(dir, $"{prefix}-images-idx3-ubyte"), new IdxArray([n, rows, cols], bytes), gzip: false);
            Idx.Write(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte"), new IdxArray([n], split.Labels.Take(n).Select(l => (byte)l).ToArray()), gzip: false);
        }
    }
}
