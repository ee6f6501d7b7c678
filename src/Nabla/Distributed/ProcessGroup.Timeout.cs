using System.Diagnostics;
using System.Globalization;

namespace Nabla.Distributed;

public sealed unsafe partial class ProcessGroup
{
    private const int DiagnosisTag = 7101;

    // A collective did not complete in time. MPI cannot say who is missing, so ask: send this rank's collective number to
    // every other rank on the duplicate communicator and listen for theirs for a grace period. Ranks stuck in the same
    // collective time out too and answer; a rank that hangs elsewhere or died never does.
    private DistributedTimeoutException TimedOut(Pending op, TimeSpan waited)
    {
        var api = Mpi.Lib;
        var mine = GC.AllocateArray<long>(1, pinned: true);
        var theirs = GC.AllocateArray<long>(WorldSize, pinned: true);
        mine[0] = op.Sequence;
        Array.Fill(theirs, -1);
        var receives = new nint[WorldSize];
        var received = new bool[WorldSize];
        fixed (long* m = mine, t = theirs)
        {
            for (int r = 0; r < WorldSize; r++)
            {
                if (r == Rank) continue;
                nint send, recv;
                Mpi.Check(api.Irecv(t + r, 1, api.Long, r, DiagnosisTag, _diagnosisComm, &recv), "MPI_Irecv");
                Mpi.Check(api.Isend(m, 1, api.Long, r, DiagnosisTag, _diagnosisComm, &send), "MPI_Isend");
                Mpi.Check(api.RequestFree(&send), "MPI_Request_free"); // a small send completes on its own (or never: the job is ending)
                receives[r] = recv;
            }
            var grace = TimeSpan.FromTicks(Math.Clamp(Timeout.Ticks / 4, TimeSpan.TicksPerSecond, 10 * TimeSpan.TicksPerSecond));
            var clock = Stopwatch.StartNew();
            received[Rank] = true;
            while (clock.Elapsed < grace && received.Contains(false))
            {
                for (int r = 0; r < WorldSize; r++)
                {
                    if (received[r]) continue;
                    int flag;
                    nint q = receives[r];
                    Mpi.Check(api.Test(&q, &flag, null), "MPI_Test");
                    receives[r] = q;
                    received[r] = flag != 0;
                }
                Thread.Sleep(1);
            }
        }
        var missing = new List<int>();
        var elsewhere = new List<string>();
        for (int r = 0; r < WorldSize; r++)
        {
            if (!received[r]) missing.Add(r);
            else if (r != Rank && theirs[r] != op.Sequence) elsewhere.Add($"rank {r} at collective #{theirs[r]}");
        }
        string who = missing.Count == 0 ? "every rank answered, yet the collective did not complete"
            : $"rank{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing)} did not arrive (hung or dead)";
        string where = elsewhere.Count == 0 ? "" : $"; the ranks disagree on the sequence of collectives ({string.Join(", ", elsewhere)}): every rank must make the same calls in the same order";
        string message = string.Create(CultureInfo.InvariantCulture,
            $"ProcessGroup: rank {Rank} of {WorldSize} waited {waited.TotalSeconds:0.#} s in {op.Op} (collective #{op.Sequence}) past the timeout of {Timeout.TotalSeconds:0.#} s: {who}{where}.");
        return new DistributedTimeoutException(message, missing.ToArray());
    }
}

/// <summary>A collective did not complete within <see cref="ProcessGroup.Timeout"/>: some rank hung or died.</summary>
public sealed class DistributedTimeoutException(string message, int[] missingRanks) : TimeoutException(message)
{
    /// <summary>The ranks that never reached the collective.</summary>
    public IReadOnlyList<int> MissingRanks { get; } = missingRanks;
}
