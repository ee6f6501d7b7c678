using System.Diagnostics;

namespace Nabla.Tests.Cli;

/// <summary>
/// Peak memory of the built CLI, a real child process: the cnn scores 1,000 images (one batch of 1,000 peaked at
/// 2-3 GB) within the bound of 1 GB, in `train` (validation and final test) and in `eval`.
/// </summary>
public sealed class MemoryTests : IDisposable
{
    private const long Bound = 1L << 30;

    private readonly string _root = Directory.CreateTempSubdirectory("nabla-mem").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void CnnTrainsAndEvaluatesWithinOneGigabyte()
    {
        // 64 training images keep the run short; the 1,000 test images are what validation and eval push through
        string data = Path.Combine(_root, "data");
        TinyRun.WriteSubset(data, train: 64, test: 1000);

        var (code, output, peak) = RunMeasured("train", "--model", "cnn", "--epochs", "1", "--data", data, "--runs-dir", _root, "--run", "cnn", "--threads", "2", "--plain");
        Assert.True(code == 0, output);
        Assert.True(peak < Bound, $"train peaked at {peak >> 20} MB");
        (code, output, peak) = RunMeasured("eval", Path.Combine(_root, "cnn"), "--threads", "2");
        Assert.True(code == 0, output);
        Assert.Contains("test accuracy", output);
        Assert.True(peak < Bound, $"eval peaked at {peak >> 20} MB");
    }

    // the peak resident set (VmHWM on Linux), read while the process runs: it only grows, so the last read is the peak
    private static (int Code, string Output, long PeakBytes) RunMeasured(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        long peak = 0;
        var clock = Stopwatch.StartNew();
        while (!p.WaitForExit(20))
        {
            // a hang guard, not a speed bound: a stuck child is killed instead of outliving the test run
            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"'nabla {string.Join(' ', args)}' did not finish in 5 minutes");
            }
            try
            {
                p.Refresh();
                peak = Math.Max(peak, p.PeakWorkingSet64);
            }
            catch (InvalidOperationException)
            {
                // exited between the wait and the read
            }
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result, peak);
    }
}
