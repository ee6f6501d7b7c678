using System.Globalization;
using System.Runtime.InteropServices;
using Nabla.Distributed;

namespace Nabla.Cli;

/// <summary>
/// `nabla train --distributed`: the MPI job the ranks belong to (<c>mpirun -np N nabla train ... --distributed</c>).
/// Rank 0 alone writes the run folder and prints; an error on any rank ends the whole job (MPI_Abort) instead of
/// leaving the other ranks waiting in a collective.
/// </summary>
internal static class DistributedRun
{
    /// <summary>The process count mpirun started (its OMPI_COMM_WORLD_SIZE), or 0 when mpirun did not start this process.</summary>
    public static int LaunchedSize =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;

    /// <summary>
    /// Joins the MPI job (MPI_Init_thread); without mpirun the job is this process alone (world size 1), which a note on
    /// <paramref name="stderr"/> says. Without Open MPI's library: a one-line error saying how to install it.
    /// </summary>
    public static ProcessGroup Start(TextWriter stderr)
    {
        ProcessGroup world;
        try
        {
            world = ProcessGroup.Init();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or PlatformNotSupportedException)
        {
            throw new CliException($"nabla train: --distributed needs Open MPI: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            throw new CliException($"nabla train: --distributed: MPI did not start ({e.Message}); start the run with mpirun -np N nabla train ... --distributed.");
        }
        if (LaunchedSize == 0)
            stderr.WriteLine("note: --distributed without mpirun: this process is the only rank (world size 1); start N ranks with: mpirun -np N nabla train ... --distributed");
        return world;
    }

    /// <summary>
    /// The kernels' threads of a rank when --threads is not given: the cores divided among the ranks mpirun started on
    /// this machine (OMPI_COMM_WORLD_LOCAL_SIZE), at least 1.
    /// </summary>
    public static int DefaultThreads()
    {
        int local = int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 1;
        return Math.Max(1, Environment.ProcessorCount / local);
    }

    /// <summary>Rank 0's bytes on every rank (<paramref name="bytes"/> is read on rank 0 only): the length, then the bytes packed into int64 words.</summary>
    public static byte[] Broadcast(ProcessGroup world, byte[]? bytes)
    {
        var length = Tensor.FromArray([world.Rank == 0 ? (long)bytes!.Length : 0]);
        world.Broadcast(length);
        int n = checked((int)length.ToInt64Array()[0]);
        var words = new long[(n + 7) / 8];
        if (world.Rank == 0) bytes.AsSpan().CopyTo(MemoryMarshal.AsBytes(words.AsSpan()));
        var t = Tensor.FromArray(words);
        if (words.Length > 0) world.Broadcast(t);
        return MemoryMarshal.AsBytes(t.ToInt64Array().AsSpan())[..n].ToArray();
    }

    /// <summary>
    /// Reports <paramref name="e"/> as the CLI does (one `error:` line naming the rank) and ends every rank of the job
    /// with its exit code (MPI_Abort; mpirun then names the rank that aborted); an unexpected exception (a bug) is
    /// shown with its stack trace and exit code 1.
    /// </summary>
    public static void Abort(ProcessGroup world, Exception e, TextWriter stderr)
    {
        int code = Cli.ExitCode(e);
        string message = code == 0 ? e.ToString() : e.Message;
        stderr.WriteLine($"error: rank {world.Rank} of {world.WorldSize}: {message}");
        stderr.Flush();
        world.Abort(code == 0 ? 1 : code);
    }
}
