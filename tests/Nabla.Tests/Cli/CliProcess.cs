using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Nabla.Tests.Cli;

/// <summary>The built `nabla` command (the CLI's dll next to the tests) as a child process, as a user runs it.</summary>
internal static class CliProcess
{
    public static Process Start(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.dll");
        Assert.True(File.Exists(dll), $"the CLI is not next to the tests: {dll}");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.WorkingDirectory = Path.GetFullPath(Path.Combine(Nabla.Data.Mnist.FindBundledData(), "..", ".."));
        return Process.Start(psi)!;
    }

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var p = Start(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "the CLI did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Reads the child's output until a line starts with <paramref name="prefix"/>; returns everything read so far.</summary>
    public static string WaitForLine(Process p, string prefix, int timeoutMs = 120_000)
    {
        // read on this thread: a thread-pool reader can start seconds late in a busy test host while the child trains on
        using var found = new ManualResetEventSlim();
        var watchdog = new Thread(() =>
        {
            if (found.Wait(timeoutMs)) return;
            try { p.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { /* already gone */ }
        }) { IsBackground = true };
        watchdog.Start();
        var seen = new StringBuilder();
        try
        {
            while (p.StandardOutput.ReadLine() is { } line)
            {
                seen.AppendLine(line);
                if (line.StartsWith(prefix, StringComparison.Ordinal)) return seen.ToString();
            }
        }
        finally
        {
            found.Set();
            watchdog.Join();
        }
        Assert.Fail($"the CLI ended (or ran {timeoutMs / 1000} s) before printing '{prefix}': {seen}{p.StandardError.ReadToEnd()}");
        return "";
    }

    /// <summary>Sends SIGTERM, as docker stop, systemd and Slurm do.</summary>
    public static void Terminate(Process p) => Assert.Equal(0, kill(p.Id, 15));

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
