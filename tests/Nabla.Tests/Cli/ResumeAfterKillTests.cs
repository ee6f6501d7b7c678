using System.Globalization;
using System.Text.RegularExpressions;
using Nabla.IO;

namespace Nabla.Tests.Cli;

/// <summary>The recipe run once without interruption by the built CLI: what every interrupted run must end with.</summary>
public sealed class StraightRun : IDisposable
{
    public static readonly string[] Recipe = ["--hidden", "16", "--epochs", "4", "--batch-size", "64", "--val-split", "0.1", "--early-stopping", "3",
        "--seed", "3", "--threads", "2", "--plain"];

    public StraightRun()
    {
        var (code, output, err) = CliProcess.Run(["train", .. Recipe, "--runs-dir", Root, "--run", "straight"]);
        Assert.True(code == 0, output + err);
    }

    public string Root { get; } = Directory.CreateTempSubdirectory("nabla-kill").FullName;

    public string Dir => Path.Combine(Root, "straight");

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>
/// Interrupting `nabla train` and resuming must end with the same weights and metrics, bit for bit, as a run that was
/// never interrupted: kill -9 (no handler runs; the kill lands while the epoch's files are being written) and SIGTERM
/// (handled like Ctrl+C: the batch finishes, the checkpoint is written, exit code 143). The kills wait for the
/// child's progress lines, not for a time, and their points come from a recorded seed.
/// </summary>
public sealed class ResumeAfterKillTests(StraightRun straight) : IClassFixture<StraightRun>
{
    private const int KillSeed = 20261204;

    private static readonly string[] Resume = ["--threads", "2", "--plain"];

    [Fact]
    public void KilledTwiceAndResumedEndsWithTheSameWeights()
    {
        // the epochs whose progress line triggers each kill -9: the first in the first process, the second later
        var rng = new Random(KillSeed);
        int first = rng.Next(1, 3), second = rng.Next(first + 1, 4);
        string where = $"kill seed {KillSeed}: kills after the lines of epochs {first} and {second} of 4";
        string dir = Path.Combine(straight.Root, "killed");

        KillAfter(first, where, ["train", .. StraightRun.Recipe, "--runs-dir", straight.Root, "--run", "killed"]);
        string resumed = KillAfter(second, where, ["train", "--resume", dir, .. Resume]);
        int at = int.Parse(Regex.Match(resumed, @"resuming .* at epoch (\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(at == first || at == first - 1, $"{where}: resumed at epoch {at}");

        var (code, output, err) = CliProcess.Run(["train", "--resume", dir, .. Resume]);
        Assert.True(code == 0, $"{where}: {output}{err}");
        Assert.Matches($@"resuming .* at epoch ({second - 1}|{second}), ", output);
        AssertSameRun(dir, where);
    }

    [Fact]
    public void SigtermWritesTheCheckpointAndResumeEndsWithTheSameWeights()
    {
        string dir = Path.Combine(straight.Root, "terminated");
        using (var p = CliProcess.Start(["train", .. StraightRun.Recipe, "--runs-dir", straight.Root, "--run", "terminated"]))
        {
            CliProcess.WaitForLine(p, "epoch   1/4");
            CliProcess.Terminate(p);
            string rest = p.StandardOutput.ReadToEnd();
            Assert.True(p.WaitForExit(60_000));
            Assert.True(p.ExitCode == 143, $"exit {p.ExitCode}: {rest}{p.StandardError.ReadToEnd()}");
            Assert.Contains("terminated (SIGTERM) at epoch", rest);
        }
        var meta = SafeTensors.Load(Path.Combine(dir, "checkpoint.safetensors")).Metadata;
        Assert.True(int.Parse(meta["nabla.batch"], CultureInfo.InvariantCulture) > 0, "the checkpoint is not inside an epoch");

        var (code, output, err) = CliProcess.Run(["train", "--resume", dir, .. Resume]);
        Assert.True(code == 0, output + err);
        Assert.Matches(@"resuming .* at epoch \d \(inside epoch \d\)", output);
        AssertSameRun(dir, "after SIGTERM");
    }

    /// <summary>Runs the CLI until it prints epoch <paramref name="epoch"/>'s line, then kills it with SIGKILL; returns what it printed.</summary>
    private static string KillAfter(int epoch, string where, string[] args)
    {
        using var p = CliProcess.Start(args);
        string seen = CliProcess.WaitForLine(p, $"epoch {epoch,3}/4");
        p.Kill(entireProcessTree: true); // SIGKILL: no handler runs, nothing is written on the way out
        p.WaitForExit();
        Assert.True(p.ExitCode == 137, $"{where}: the CLI was not killed (exit {p.ExitCode}): {seen}");
        return seen;
    }

    private void AssertSameRun(string dir, string where)
    {
        var expected = SafeTensors.Load(Path.Combine(straight.Dir, "model.safetensors")).Tensors;
        var actual = SafeTensors.Load(Path.Combine(dir, "model.safetensors")).Tensors;
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (k, t) in expected) Assert.True(t.ToArray().SequenceEqual(actual[k].ToArray()), $"{where}: tensor '{k}' differs");
        Assert.Equal(File.ReadAllLines(Path.Combine(straight.Dir, "metrics.csv")).Select(StripSeconds), File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Select(StripSeconds));
        Assert.Empty(Directory.GetFiles(dir, "*" + AtomicFile.TempSuffix));
    }

    private static string StripSeconds(string line) => line[..line.LastIndexOf(',')];
}
