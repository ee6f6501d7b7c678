namespace Nabla.Tests.Distributed;

/// <summary>
/// Data-parallel training under mpirun (tests/Nabla.DdpCheck), checked as PyTorch checks its DDP: N ranks, each on its
/// slice of the global batch, hold after each of 5 SGD steps (momentum 0.9) the parameters one process reaches on the
/// whole batch (float32: within 1e-6, float64: within 1e-12; the reduction order differs), every rank bit for bit the
/// same, and a checkpoint written by rank 0 after step 2 and loaded by every rank changes nothing. A rank that hangs or
/// dies ends the job within seconds, with an error naming it.
/// </summary>
public class DataParallelTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData(2, "float32", "25")]       // one bucket
    [InlineData(4, "float64", "0.0005")]   // three buckets launched during backward
    [InlineData(3, "float32", "0.001")]    // a world size that is not a power of two: the average is not an exact scaling
    public void RanksOnSlicesMatchOneProcessOnTheWholeBatch(int ranks, string dtype, string bucketMB)
    {
        if (!MpiRun.Available()) return;
        var dir = Directory.CreateTempSubdirectory("nabla-ddp-");
        try
        {
            var (code, stdout, stderr, _) = MpiRun.Run(ranks, MpiRun.DdpCheck, ["equivalence", dtype, bucketMB, dir.FullName], Limit);
            Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
            Assert.Contains($"{ranks} ranks", stdout);
            Assert.Contains("parameters after construction equal rank 0's: True", stdout);
            for (int s = 1; s <= 5; s++) Assert.Matches($"step {s}: max \\|ddp - single process\\| = .*, every rank identical: True", stdout);
            Assert.Contains("identical to the uninterrupted run: True", stdout);
            Assert.Equal(["after2.safetensors"], dir.GetFiles().Select(f => f.Name));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(2, "float32")]
    [InlineData(4, "float32")]
    [InlineData(3, "float64")]
    public void SyncBatchNormOnRanksMatchesBatchNormOnTheWholeBatch(int ranks, string dtype)
    {
        if (!MpiRun.Available()) return;
        var (code, stdout, stderr, _) = MpiRun.Run(ranks, MpiRun.DdpCheck, ["syncbn", dtype], Limit);
        Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
        Assert.Contains($"syncbn, {ranks} ranks x 3 samples vs BatchNorm1d on {3 * ranks}", stdout);
        Assert.Contains("every rank within bounds: True", stdout);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void TrainerDistributedMatchesOneTrainerOnTheGlobalBatchesAndResumes(int ranks)
    {
        if (!MpiRun.Available()) return;
        var dir = Directory.CreateTempSubdirectory("nabla-ddp-");
        try
        {
            var (code, stdout, stderr, _) = MpiRun.Run(ranks, MpiRun.DdpCheck, ["trainer", dir.FullName], Limit);
            Assert.True(code == 0, $"exit code {code}:\n{stdout}\n{stderr}");
            Assert.Contains($"trainer, {ranks} ranks x batch 4 vs 1 process x batch {4 * ranks}, 2 epochs", stdout);
            Assert.Contains("same accuracy: True, every rank within bounds: True", stdout);
            Assert.Contains("identical to the uninterrupted run on every rank: True", stdout);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void ARankThatHangsMakesTheOthersFailNamingIt(int ranks)
    {
        if (!MpiRun.Available()) return;
        // the check's collectives time out after 3 s; rank 1 sleeps for 10 minutes
        var (code, stdout, stderr, took) = MpiRun.Run(ranks, MpiRun.DdpCheck, ["hang"], Limit);
        Assert.NotEqual(0, code);
        Assert.Contains("rank 1 did not arrive (hung or dead)", stderr);
        Assert.Contains("past the timeout of 3 s", stderr);
        Assert.DoesNotContain("step 3 done", stdout);
        Assert.True(took < TimeSpan.FromMinutes(2), $"took {took}");
    }

    [Fact]
    public void ARankThatDiesEndsTheJob()
    {
        if (!MpiRun.Available()) return;
        var (code, stdout, stderr, _) = MpiRun.Run(2, MpiRun.DdpCheck, ["die"], Limit);
        Assert.Equal(7, code); // mpirun returns the first failing rank's exit code
        Assert.Contains("rank 1 exits at step 3", stderr);
        Assert.Contains("Exit code:    7", stderr + stdout);
        Assert.DoesNotContain("step 3 done", stdout);
    }
}
