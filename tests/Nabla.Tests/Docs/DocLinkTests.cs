using System.Text.RegularExpressions;

namespace Nabla.Tests.Docs;

/// <summary>The docs link only to files inside the repository (the theory text is docs/backprop.md, not ../shared).</summary>
public class DocLinkTests
{
    [Fact]
    public void EveryRelativeLinkInTheDocsNamesAFileInTheRepository()
    {
        string root = NablaProcess.RepoRoot;
        var pages = Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Append(Path.Combine(root, "README.md"));
        var bad = new List<string>();
        int links = 0;
        foreach (string page in pages)
        {
            foreach (Match m in Regex.Matches(File.ReadAllText(page), @"\]\(([^)\s#]+)(#[^)]*)?\)"))
            {
                string target = m.Groups[1].Value;
                if (target.Contains("://", StringComparison.Ordinal)) continue;
                links++;
                string full = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target));
                if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !Path.Exists(full))
                    bad.Add($"{Path.GetRelativePath(root, page)}: ({target})");
            }
        }
        Assert.True(bad.Count == 0, "links outside the repository or to missing files:\n" + string.Join("\n", bad));
        Assert.True(links > 10, $"only {links} links found");
    }

    [Fact]
    public void TheTheoryTextIsInTheRepositoryAndLinkedFromTheReadme()
    {
        string text = File.ReadAllText(Path.Combine(NablaProcess.RepoRoot, "docs", "backprop.md"));
        Assert.StartsWith("# What Nabla implements", text);
        Assert.Contains("## 3. Writing a layer: three questions", text);
        Assert.Contains("](docs/backprop.md)", File.ReadAllText(Path.Combine(NablaProcess.RepoRoot, "README.md")));
        foreach (string page in Directory.GetFiles(Path.Combine(NablaProcess.RepoRoot, "docs"), "*.md").Append(Path.Combine(NablaProcess.RepoRoot, "README.md")))
            Assert.False(File.ReadAllText(page).Contains("shared/BACKPROP", StringComparison.OrdinalIgnoreCase), $"{page} still names ../shared/BACKPROP.md");
    }
}
