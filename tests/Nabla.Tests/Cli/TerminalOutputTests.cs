using System.Text.RegularExpressions;
using Nabla.Tests.Docs;

namespace Nabla.Tests.Cli;

/// <summary>What a user sees on a terminal: help texts, and progress lines that fit 80 columns (the built CLI).</summary>
public sealed class TerminalOutputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-terminal-tests").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void EveryCommandsHelpEndsWithANewline()
    {
        var (code, usage, err) = NablaProcess.Nabla("--help");
        Assert.True(code == 0, err);
        Assert.EndsWith("\n", usage);
        var commands = Regex.Matches(usage, @"^  ([a-z]+) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Superset(new HashSet<string> { "train", "eval", "predict", "summary", "explain", "plot", "adding", "charlm", "completion" }, commands.ToHashSet());
        var bad = new List<string>();
        foreach (string c in commands)
        {
            var (helpCode, help, helpErr) = NablaProcess.Nabla(c, "--help");
            Assert.True(helpCode == 0, $"nabla {c} --help: exit {helpCode}, {helpErr}");
            Assert.StartsWith($"Usage: nabla {c}", help);
            if (!help.EndsWith('\n')) bad.Add($"nabla {c} --help ends with '{help[^Math.Min(20, help.Length)..]}'");
        }
        Assert.True(bad.Count == 0, string.Join("\n", bad));
    }

    [Fact]
    public void PlainEpochLinesFitTheColumnsGiven()
    {
        var (code, output, err) = NablaProcess.Run("dotnet",
            [NablaProcess.Dll, "train", "--plain", "--epochs", "1", "--hidden", "16", "--runs-dir", _dir, "--run", "plain", "--threads", "1"],
            new Dictionary<string, string> { ["COLUMNS"] = "80" });
        Assert.True(code == 0, err + output);
        string line = output.Split('\n').Single(l => l.StartsWith("epoch", StringComparison.Ordinal));
        Assert.True(line.Length <= 80, $"{line.Length} columns: {line}");
        Assert.Matches(@"^epoch   1/1  loss \d\.\d{4}  .*test acc \d+\.\d\d%", line);
    }

    [Fact]
    public void TheLiveDisplayKeepsEachRowOnOneLineOfAn80ColumnTerminal()
    {
        // script(1) runs the command on a pseudo-terminal, as a user's 80x40 terminal, and records what it draws
        string log = Path.Combine(_dir, "typescript");
        string command = $"stty cols 80 rows 40; dotnet '{NablaProcess.Dll}' train --epochs 2 --hidden 16 --runs-dir '{_dir}' --run live --threads 1";
        var (code, output, err) = NablaProcess.Run("script", ["-qfec", command, log], new Dictionary<string, string> { ["TERM"] = "xterm-256color" }, _dir);
        Assert.True(code == 0, err + output);
        string screen = Regex.Replace(File.ReadAllText(log), @"\x1b(\[[0-9;?]*[A-Za-z]|[=>])", "");
        var rows = screen.Split('\r', '\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0)
            .SkipWhile(l => !l.StartsWith("run:", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => !l.StartsWith("best ", StringComparison.Ordinal)).ToList();
        Assert.Contains(rows, r => r.Contains("batch", StringComparison.Ordinal));
        foreach (string r in rows) Assert.True(r.StartsWith("epoch", StringComparison.Ordinal) && r.Length <= 80, $"a row wrapped or overflowed ({r.Length} columns): '{r}'");
        Assert.Contains(rows, r => Regex.IsMatch(r, @"^epoch   2/2  loss \d\.\d{4}  .*test acc \d+\.\d\d%"));
    }
}
