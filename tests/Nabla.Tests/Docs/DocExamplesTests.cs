namespace Nabla.Tests.Docs;

/// <summary>
/// The command output shown in README.md and docs/*.md is what the code prints: docs/examples.sh --check runs every
/// marked example (summary, explain, --help, what train prints before its first epoch) with the built CLI.
/// </summary>
public class DocExamplesTests
{
    [Fact]
    public void TheDocsShowWhatTheCommandsPrint()
    {
        var (code, output, err) = NablaProcess.Run("bash", [Path.Combine(NablaProcess.RepoRoot, "docs", "examples.sh"), "--check"],
            new Dictionary<string, string> { ["NABLA_CLI"] = NablaProcess.Dll });
        Assert.True(code == 0, $"docs/examples.sh --check (exit {code}): run docs/examples.sh after a build to regenerate the blocks below, and commit them.\n{output}{err}");
    }
}
