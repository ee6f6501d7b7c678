using Nabla.IO;

namespace Nabla.Tests.Cli;

/// <summary>What `nabla train` does with the run folder: refusing to resume what cannot be, reusing, overwriting, locking, cleaning up.</summary>
public sealed class RunFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("nabla-runfolder-tests").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly string[] Tiny = ["--epochs", "1", "--hidden", "8", "--batch-size", "100", "--threads", "2", "--plain"];

    private (int Code, string Out, string Err) Train(string run, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Nabla.Cli.Cli.Run(["train", "--runs-dir", _root, "--run", run, .. args], o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static (int Code, string Out, string Err) Resume(string dir)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Nabla.Cli.Cli.Run(["train", "--resume", dir, "--threads", "2", "--plain"], o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.GetFiles(dir).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal)).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private static void AssertOneLineError(int code, string err, int expectedCode, string expected)
    {
        Assert.True(code == expectedCode, $"exit {code}: {err}");
        Assert.StartsWith("error: ", err);
        Assert.Contains(expected, err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public void ResumingAFolderWithoutACheckpointRefusesAndChangesNothing()
    {
        var (code, _, err) = Train("trained", Tiny);
        Assert.True(code == 0, err);
        string dir = Path.Combine(_root, "trained");
        File.Delete(Path.Combine(dir, "checkpoint.safetensors"));
        var before = Snapshot(dir);

        (code, _, err) = Resume(dir);
        AssertOneLineError(code, err, 2, "has no checkpoint.safetensors, so there is nothing to resume");
        var after = Snapshot(dir);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.True(bytes.SequenceEqual(after[name]), $"{name} changed");
    }

    [Fact]
    public void AFolderWhoseRunNeverCompletedAnEpochIsReused()
    {
        var (code, _, err) = Train("diverged", [.. Tiny, "--lr", "1e30", "--schedule", "constant"]);
        Assert.True(code == 2 && err.Contains("the loss became", StringComparison.Ordinal), err);

        (code, var output, err) = Train("diverged", [.. Tiny, "--lr", "0.05"]);
        Assert.True(code == 0, err);
        Assert.Contains("(reused: the run there never completed an epoch)", output);
        Assert.Contains("\"lr\": \"0.05\"", File.ReadAllText(Path.Combine(_root, "diverged", "run.json")));
    }

    [Fact]
    public void ARunWithACheckpointIsReplacedOnlyWithOverwrite()
    {
        var (code, _, err) = Train("kept", Tiny);
        Assert.True(code == 0, err);
        string dir = Path.Combine(_root, "kept");
        var before = Snapshot(dir);

        (code, _, err) = Train("kept", [.. Tiny, "--seed", "2"]);
        AssertOneLineError(code, err, 2, "replace it with --overwrite");
        Assert.Equal(before["model.safetensors"], Snapshot(dir)["model.safetensors"]);

        (code, var output, err) = Train("kept", [.. Tiny, "--seed", "2", "--overwrite"]);
        Assert.True(code == 0, err);
        Assert.Contains("(--overwrite: the earlier run's files were removed)", output);
        Assert.Contains("\"seed\": \"2\"", File.ReadAllText(Path.Combine(dir, "run.json")));
        Assert.NotEqual(before["model.safetensors"], Snapshot(dir)["model.safetensors"]);
    }

    [Fact]
    public void ASecondProcessCannotTrainARunFolderInUse()
    {
        var (code, _, err) = Train("busy", Tiny);
        Assert.True(code == 0, err);
        string dir = Path.Combine(_root, "busy");
        var before = Snapshot(dir);
        // the lock another `nabla train` holds on the folder while it trains
        using (new FileStream(Path.Combine(dir, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            (code, _, err) = CliProcess.Run("train", "--resume", dir, "--threads", "2", "--plain");
            AssertOneLineError(code, err, 2, $"run folder '{dir}' is in use by another nabla process");
            (code, _, err) = CliProcess.Run(["train", "--runs-dir", _root, "--run", "busy", "--overwrite", .. Tiny]);
            AssertOneLineError(code, err, 2, $"run folder '{dir}' is in use by another nabla process");
        }
        Assert.Equal(before["model.safetensors"], Snapshot(dir)["model.safetensors"]);
        (code, _, err) = Resume(dir); // released: the folder is usable again
        Assert.True(code == 0, err);
    }

    [Fact]
    public void TemporaryFilesAKillLeftBehindAreRemovedOnTheNextStart()
    {
        var (code, _, err) = Train("orphans", Tiny);
        Assert.True(code == 0, err);
        string dir = Path.Combine(_root, "orphans");
        string[] orphans = [$".checkpoint.safetensors.{Guid.NewGuid():N}{AtomicFile.TempSuffix}", $".metrics.csv.{Guid.NewGuid():N}{AtomicFile.TempSuffix}"];
        foreach (var f in orphans) File.WriteAllText(Path.Combine(dir, f), "half-written");
        File.WriteAllText(Path.Combine(dir, "notes.tmp"), "the user's own file");

        (code, _, err) = Resume(dir);
        Assert.True(code == 0, err);
        foreach (var f in orphans) Assert.False(File.Exists(Path.Combine(dir, f)), f);
        Assert.True(File.Exists(Path.Combine(dir, "notes.tmp")));
    }
}
