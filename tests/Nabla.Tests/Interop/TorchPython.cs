using System.Diagnostics;

namespace Nabla.Tests.Interop;

/// <summary>
/// Finds a Python that can <c>import torch</c>: $NABLA_PYTHON, else <c>python3</c> on the PATH, else Debian's
/// <c>/usr/bin/python3</c> (where apt's python3-torch lives when a pyenv shim comes first on the PATH).
/// </summary>
internal static class TorchPython
{
    private static readonly Lazy<string?> s_found = new(Find);

    /// <summary>The interpreter, or null when none imports torch.</summary>
    public static string? Path => s_found.Value;

    /// <summary>Set (to 1) where PyTorch must be present, as .ci/run does after installing it: then its absence fails the tests.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("NABLA_REQUIRE_TORCH") == "1";

    private static string? Find()
    {
        foreach (var candidate in new[] { Environment.GetEnvironmentVariable("NABLA_PYTHON"), "python3", "/usr/bin/python3" })
            if (!string.IsNullOrEmpty(candidate) && Run(candidate, ["-c", "import torch"], TimeSpan.FromMinutes(1)).Code == 0) return candidate;
        return null;
    }

    /// <summary>Runs <paramref name="python"/> with <paramref name="args"/>; exit code -1 when it cannot start.</summary>
    public static (int Code, string Out, string Err) Run(string python, IEnumerable<string> args, TimeSpan limit)
    {
        var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["PYTHONDONTWRITEBYTECODE"] = "1"; // no __pycache__ in the fixtures folder
        Process p;
        try { p = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception) { return (-1, "", $"cannot start {python}"); }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(limit))
            {
                p.Kill(entireProcessTree: true);
                return (-1, stdout.Result, $"{python} {string.Join(' ', args)} did not finish in {limit.TotalMinutes} minute(s)");
            }
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
