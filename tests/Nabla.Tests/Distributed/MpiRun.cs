using System.Diagnostics;

namespace Nabla.Tests.Distributed;

/// <summary>
/// Runs a program under Open MPI's <c>mpirun -np N</c>, as a user starts a distributed run (as root where the tests run
/// as root, oversubscribing the cores). Without mpirun the tests pass with a note, unless NABLA_REQUIRE_MPI=1 (set by
/// .ci/run after .ci/install-mpi.sh), which makes its absence a failure.
/// </summary>
internal static class MpiRun
{
    private static readonly Lazy<string?> s_mpirun = new(() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => System.IO.Path.Combine(d, "mpirun")).FirstOrDefault(File.Exists));

    /// <summary>The mpirun found on the PATH, or null.</summary>
    public static string? Path => s_mpirun.Value;

    /// <summary>Whether the tests must fail rather than pass when mpirun is absent.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("NABLA_REQUIRE_MPI") == "1";

    /// <summary>True when mpirun can be used; false (after failing the test when it is required) when not.</summary>
    public static bool Available()
    {
        if (Path is not null) return true;
        Assert.False(Required, "NABLA_REQUIRE_MPI=1 but there is no mpirun on the PATH (.ci/install-mpi.sh installs Open MPI)");
        Console.WriteLine("note: no mpirun on the PATH: the distributed tests did not run (apt-get install openmpi-bin libopenmpi-dev)");
        return false;
    }

    /// <summary>Runs <c>mpirun -np ranks dotnet dll args</c>; kills the job and fails after <paramref name="limit"/>.</summary>
    public static (int Code, string Out, string Err, TimeSpan Took) Run(int ranks, string dll, IEnumerable<string> args, TimeSpan limit)
    {
        var psi = new ProcessStartInfo(Path!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "--oversubscribe", "dotnet", dll }.Concat(args))
            psi.ArgumentList.Add(a);
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            Assert.Fail($"mpirun -np {ranks} {string.Join(' ', args)} did not finish in {limit.TotalSeconds} s: {stdout.Result}{stderr.Result}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    /// <summary>The DdpCheck program next to the tests.</summary>
    public static string DdpCheck
    {
        get
        {
            string dll = System.IO.Path.Combine(AppContext.BaseDirectory, "Nabla.DdpCheck.dll");
            Assert.True(File.Exists(dll), $"the DdpCheck program is not next to the tests: {dll}");
            return dll;
        }
    }
}
