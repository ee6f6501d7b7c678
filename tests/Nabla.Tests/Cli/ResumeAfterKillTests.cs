using System.Diagnostics;
using Nabla.IO;

namespace Nabla.Tests.Cli;

/// <summary>
/// Interrupting `nabla train` with kill -9 at random moments and resuming must end with the same weights, bit for bit,
/// as a run that was never interrupted: a real child process (the CLI's dll next to the tests) is killed.
/// </summary>
public class ResumeAfterKillTests
{
    private static readonly string[] Recipe = ["--hidden", "32", "--epochs", "5", "--batch-size", "64", "--val-split", "0.1", "--early-stopping", "3",
        "--seed", "3", "--threads", "2", "--plain"];

    private static Process Start(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.dll");
        Assert.True(File.Exists(dll), $"the CLI is not next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.WorkingDirectory = Path.GetFullPath(Path.Combine(Nabla.Data.Mnist.FindBundledData(), "..", ".."));
        return Process.Start(psi)!;
    }

    private static (int Code, string Out) RunToEnd(params string[] args)
    {
        using var p = Start(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "the CLI did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public void KilledAndResumedRunEndsWithTheSameWeights()
    {
        string root = Directory.CreateTempSubdirectory("nabla-kill").FullName;
        try
        {
            var (code, output) = RunToEnd(["train", .. Recipe, "--runs-dir", root, "--run", "straight"]);
            Assert.True(code == 0, output);
            var expected = SafeTensors.Load(Path.Combine(root, "straight", "model.safetensors")).Tensors;

            var rng = new Random(Environment.TickCount);
            string dir = Path.Combine(root, "killed");
            int kills = 0;
            for (int attempt = 0; attempt < 3; attempt++)
            {
                bool started = File.Exists(Path.Combine(dir, "run.json"));
                using var p = started ? Start("train", "--resume", dir, "--threads", "2", "--plain") : Start(["train", .. Recipe, "--runs-dir", root, "--run", "killed"]);
                Thread.Sleep(rng.Next(300, 2500));
                if (p.HasExited) break;
                p.Kill(entireProcessTree: true); // SIGKILL: no handler runs, no checkpoint is written on the way out
                p.WaitForExit();
                kills++;
            }
            (code, output) = File.Exists(Path.Combine(dir, "run.json"))
                ? RunToEnd("train", "--resume", dir, "--threads", "2", "--plain")
                : RunToEnd(["train", .. Recipe, "--runs-dir", root, "--run", "killed"]);
            Assert.True(code == 0, output);
            var actual = SafeTensors.Load(Path.Combine(dir, "model.safetensors")).Tensors;
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (k, t) in expected) Assert.True(t.ToArray().SequenceEqual(actual[k].ToArray()), $"tensor '{k}' differs after {kills} kill(s)");
            Assert.Equal(File.ReadAllLines(Path.Combine(root, "straight", "metrics.csv")).Select(StripSeconds),
                File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Select(StripSeconds));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static string StripSeconds(string line) => line[..line.LastIndexOf(',')];
}
