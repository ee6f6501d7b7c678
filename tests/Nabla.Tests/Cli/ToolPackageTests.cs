using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;

namespace Nabla.Tests.Cli;

/// <summary>
/// The packages as users get them: `dotnet pack` both projects (from the build the suite already made), check their
/// metadata and size, install Nabla.Cli as a .NET tool from that folder alone, and run `nabla` in a folder outside
/// the repository, with no data beside it.
/// </summary>
public sealed class ToolPackageTests : IDisposable
{
    private const long MaxPackageBytes = 15_000_000;
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private readonly string _root = Directory.CreateTempSubdirectory("nabla-tool-tests").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Nabla.sln"))) return d.FullName;
        throw new DirectoryNotFoundException($"Nabla.sln not found above '{AppContext.BaseDirectory}'.");
    }

    private static string Run(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(180_000), $"{file} {string.Join(' ', args)} did not finish in 3 minutes");
        string output = stdout.Result + stderr.Result;
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)} exited with {p.ExitCode}:\n{output}");
        return output;
    }

    private static XElement Metadata(string nupkg)
    {
        using var zip = ZipFile.OpenRead(nupkg);
        var nuspec = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var s = nuspec.Open();
        var doc = XDocument.Load(s);
        var metadata = doc.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string readme = metadata.Elements().Single(e => e.Name.LocalName == "readme").Value;
        string license = metadata.Elements().Single(e => e.Name.LocalName == "license").Value;
        Assert.Contains(zip.Entries, e => e.FullName == readme);
        Assert.Contains(zip.Entries, e => e.FullName == license);
        Assert.Contains(zip.Entries, e => e.FullName == "mnist-sample/LICENSE");
        return metadata;
    }

    private static string Field(XElement metadata, string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;

    [Fact]
    public void PackagesHaveMetadata_AndTheInstalledToolWorksOutsideTheRepository()
    {
        string repo = RepoRoot(), packages = Path.Combine(_root, "packages");
        foreach (string project in new[] { "Nabla", "Nabla.Cli" })
        {
            Run("dotnet", repo, "pack", Path.Combine(repo, "src", project), "-c", Configuration, "--no-build", "-o", packages, "-v", "q");
            string nupkg = Directory.GetFiles(packages, project + ".1*.nupkg").Single();
            long size = new FileInfo(nupkg).Length;
            Assert.True(size <= MaxPackageBytes, $"{Path.GetFileName(nupkg)} is {size:N0} bytes, more than {MaxPackageBytes:N0}");
            var metadata = Metadata(nupkg);
            Assert.NotEqual("Package Description", Field(metadata, "description"));
            Assert.Contains("MNIST", Field(metadata, "description"), StringComparison.Ordinal);
            Assert.NotEqual(project, Field(metadata, "authors")); // the SDK's default is the project name
            Assert.Contains("backpropagation", Field(metadata, "tags"), StringComparison.Ordinal);
        }

        // installed from that folder only (no other feed), then run where no data/mnist-sample can be found
        string config = Path.Combine(_root, "nuget.config"), tools = Path.Combine(_root, "tools");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><clear /><add key="local" value="{packages}" /></packageSources></configuration>
            """);
        Run("dotnet", _root, "tool", "install", "Nabla.Cli", "--tool-path", tools, "--configfile", config);
        string work = Directory.CreateDirectory(Path.Combine(_root, "work")).FullName, nabla = Path.Combine(tools, "nabla");
        string train = Run(nabla, work, "train", "--epochs", "1", "--hidden", "16", "--threads", "2", "--plain", "--run", "first");
        Assert.Contains("data: bundled:mnist-sample (8000 train, 2000 test, 28x28)", train);
        Assert.Contains("test accuracy:", train);
        Assert.True(File.Exists(Path.Combine(work, "runs", "first", "model.safetensors")), train);
        Assert.Contains("loss J = ", Run(nabla, work, "explain", "--batch-size", "4"));
        Assert.Contains("test accuracy:", Run(nabla, work, "eval", Path.Combine("runs", "first")));
    }
}
