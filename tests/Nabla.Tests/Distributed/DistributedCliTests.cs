using System.Text.RegularExpressions;
using Nabla.IO;
using Nabla.Tests.Cli;

namespace Nabla.Tests.Distributed;

/// <summary>
/// `mpirun -np N nabla train ... --distributed`, run as a user runs it: 2 ranks with batch 4 each end with the weights of
/// one rank with batch 8 (within 1e-6), rank 0 alone prints and writes (one run folder, one TensorBoard event file), a
/// run resumed with mpirun from rank 0's checkpoint ends with the uninterrupted run's weights, bit for bit.
/// </summary>
public class DistributedCliTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    // no augmentation: the 1-rank run must see the very samples of the 2 ranks
    private static readonly string[] Recipe = ["train", "--hidden", "8", "--shift", "0", "--rotate", "0", "--scale", "0", "--shear", "0", "--seed", "3",
        "--threads", "1", "--plain", "--distributed"];

    private static string Cli
    {
        get
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.dll");
            Assert.True(File.Exists(dll), $"the CLI is not next to the tests: {dll}");
            return dll;
        }
    }

    [Fact]
    public void TwoRanksMatchOneRankOnTheWholeBatchAndOnlyRankZeroWrites()
    {
        if (!MpiRun.Available()) return;
        var root = Directory.CreateTempSubdirectory("nabla-ddpcli-").FullName;
        try
        {
            string data = Path.Combine(root, "data"), two = Path.Combine(root, "two"), tb = Path.Combine(root, "tb");
            TinyRun.WriteSubset(data, train: 64, test: 20);
            // the default run name: a rank other than 0 that claimed a folder would make a second one
            var (code, stdout, stderr, _) = MpiRun.Run(2, Cli, [.. Recipe, "--epochs", "2", "--batch-size", "4", "--data", data, "--runs-dir", two, "--tensorboard", tb, "--report"], Limit);
            Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
            var folders = Directory.GetDirectories(two);
            Assert.Single(folders);
            Assert.Single(Directory.GetFiles(tb));
            foreach (var line in new[] { "data: ", "run: ", "epoch   1/2", "epoch   2/2", "test loss: ", "saved: ", "report: " })
                Assert.True(Regex.Matches(stdout, Regex.Escape(line)).Count == 1, $"'{line}' is not printed exactly once:\n{stdout}");
            Assert.Contains("1 thread x 2 ranks (batch 4 per rank, 8 per step)", stdout);
            Assert.Contains("\"world_size\": \"2\"", File.ReadAllText(Path.Combine(folders[0], "run.json")));
            Assert.Equal(3, File.ReadAllLines(Path.Combine(folders[0], "metrics.csv")).Length);
            string html = File.ReadAllText(Path.Combine(folders[0], "report.html"));
            Assert.DoesNotContain("Not available", html);
            Assert.Contains("<section id=\"graph\">", html);

            (code, stdout, stderr, _) = MpiRun.Run(1, Cli, [.. Recipe, "--epochs", "2", "--batch-size", "8", "--data", data, "--runs-dir", root, "--run", "one"], Limit);
            Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
            var expected = SafeTensors.Load(Path.Combine(root, "one", "model.safetensors")).Tensors;
            var actual = SafeTensors.Load(Path.Combine(folders[0], "model.safetensors")).Tensors;
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            double worst = 0;
            foreach (var (k, t) in expected)
                worst = Math.Max(worst, t.ToArray().Zip(actual[k].ToArray(), (a, b) => Math.Abs((double)a - b)).Max());
            Assert.True(worst <= 1e-6, $"2 ranks x batch 4 differ from 1 rank x batch 8 by {worst}");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ASyncBnRunWritesItsReportOnRankZeroAfterMpiEnds()
    {
        if (!MpiRun.Available()) return;
        var root = Directory.CreateTempSubdirectory("nabla-ddpcli-").FullName;
        try
        {
            string data = Path.Combine(root, "data");
            TinyRun.WriteSubset(data, train: 32, test: 8);
            // the report's step runs the SyncBatchNorm layers in training mode: on rank 0 alone, once MPI has ended
            var (code, stdout, stderr, _) = MpiRun.Run(2, Cli, ["train", "--model", "cnn", "--sync-bn", "--distributed", "--epochs", "1", "--batch-size", "4",
                "--threads", "1", "--plain", "--data", data, "--runs-dir", root, "--run", "bn", "--report"], Limit);
            Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
            Assert.Single(Regex.Matches(stdout, "report: "));
            string html = File.ReadAllText(Path.Combine(root, "bn", "report.html"));
            Assert.DoesNotContain("Not available", html);
            Assert.Contains("SyncBatchNorm", html);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ADistributedRunResumesUnderMpirunToTheSameWeights()
    {
        if (!MpiRun.Available()) return;
        var root = Directory.CreateTempSubdirectory("nabla-ddpcli-").FullName;
        try
        {
            string data = Path.Combine(root, "data");
            TinyRun.WriteSubset(data, train: 64, test: 20);
            // a constant learning rate, so the checkpoint of a 2-epoch run is the one a 4-epoch run writes after epoch 2
            string[] args = [.. Recipe, "--schedule", "constant", "--batch-size", "4", "--data", data, "--runs-dir", root];
            var (code, stdout, stderr, _) = MpiRun.Run(2, Cli, [.. args, "--epochs", "4", "--run", "straight"], Limit);
            Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
            (code, stdout, stderr, _) = MpiRun.Run(2, Cli, [.. args, "--epochs", "2", "--run", "resumed"], Limit);
            Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
            string dir = Path.Combine(root, "resumed"), json = Path.Combine(dir, "run.json");
            File.WriteAllText(json, File.ReadAllText(json).Replace("\"epochs\": \"2\"", "\"epochs\": \"4\"", StringComparison.Ordinal));

            (code, stdout, stderr, _) = MpiRun.Run(2, Cli, ["train", "--resume", dir, "--threads", "1", "--plain"], Limit);
            Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
            Assert.Single(Regex.Matches(stdout, "resuming .* at epoch 2, step 16"));
            Assert.Single(Regex.Matches(stdout, "epoch   4/4"));
            var expected = SafeTensors.Load(Path.Combine(root, "straight", "model.safetensors")).Tensors;
            var actual = SafeTensors.Load(Path.Combine(dir, "model.safetensors")).Tensors;
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (k, t) in expected) Assert.True(t.ToArray().SequenceEqual(actual[k].ToArray()), $"tensor '{k}' differs after the resume");

            // a distributed run resumes with its own number of ranks only
            (code, stdout, stderr, _) = MpiRun.Run(1, Cli, ["train", "--resume", dir, "--threads", "1"], Limit);
            Assert.NotEqual(0, code);
            Assert.Contains("is a distributed run of 2 ranks, this job has 1; resume it with: mpirun -np 2 nabla train --resume", stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void WithoutMpirunItTrainsAsTheOnlyRankAndSaysSo()
    {
        if (!MpiRun.Available()) return;
        var root = Directory.CreateTempSubdirectory("nabla-ddpcli-").FullName;
        try
        {
            string data = Path.Combine(root, "data");
            TinyRun.WriteSubset(data, train: 16, test: 8);
            var (code, stdout, stderr) = CliProcess.Run([.. Recipe, "--epochs", "1", "--batch-size", "8", "--data", data, "--runs-dir", root, "--run", "alone"]);
            Assert.True(code == 0, stdout + stderr);
            Assert.Contains("note: --distributed without mpirun: this process is the only rank (world size 1)", stderr);
            Assert.Contains("1 thread x 1 rank (batch 8 per rank, 8 per step)", stdout);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void MpirunWithoutDistributedIsAnError()
    {
        if (!MpiRun.Available()) return;
        var (code, stdout, stderr, _) = MpiRun.Run(2, Cli, ["train", "--hidden", "8", "--epochs", "1", "--threads", "1"], Limit);
        Assert.Equal(2, code);
        Assert.Contains("mpirun started 2 processes but --distributed is not given", stderr + stdout);
    }

    [Theory]
    [InlineData("--sync-bn", "nabla train: --sync-bn needs --distributed")]
    [InlineData("--sync-bn --distributed", "nabla train: --sync-bn applies to --model cnn (the model with batch normalisation), not 'mlp'.")]
    public void SyncBnIsCheckedBeforeMpiStarts(string options, string message)
    {
        var (code, _, err) = TinyRun.Run(["train", "--epochs", "1", .. options.Split(' ')]);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }
}
