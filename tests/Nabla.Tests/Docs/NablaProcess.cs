using System.Diagnostics;

namespace Nabla.Tests.Docs;

/// <summary>Runs the built `nabla` (the CLI's dll next to the tests) in a child process, as a user would.</summary>
internal static class NablaProcess
{
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.dll");

    /// <summary>The repository's root: the folder above the tests that holds Nabla.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Runs <c>nabla ARGS</c>.</summary>
    public static (int Code, string Out, string Err) Nabla(params string[] args) => Run("dotnet", [Dll, .. args]);

    /// <summary>Runs a program to its end (at most two minutes) and returns its exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env = null, string? workDir = null)
    {
        Assert.True(File.Exists(Dll), $"the CLI is not next to the tests: {Dll}");
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workDir ?? "" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"'{program} {string.Join(' ', args)}' did not finish in two minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Nabla.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"no Nabla.sln above {AppContext.BaseDirectory}");
    }
}
