using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Nabla.Tests.Cli;

/// <summary>nabla graph and nabla report on a tiny trained run, and the report opened in a real (headless) browser.</summary>
public sealed class GraphReportTests(TinyRun run) : IClassFixture<TinyRun>
{
    [Fact]
    public void GraphOfARunIsSvgWithGradientNormsOrDot()
    {
        string svgFile = Path.Combine(run.Root, "g.svg"), dotFile = Path.Combine(run.Root, "g.dot");
        var (code, output, err) = TinyRun.Run("graph", run.RunDir, "--data", run.Data, "--output", svgFile);
        Assert.True(code == 0, err);
        Assert.Contains("wrote " + svgFile, output, StringComparison.Ordinal);
        var svg = XDocument.Parse(File.ReadAllText(svgFile));
        var boxes = svg.Descendants().Where(e => e.Name.LocalName == "g" && ((string?)e.Attribute("class"))?.StartsWith("node ", StringComparison.Ordinal) == true).ToList();
        // mlp 784 → 8 → 10: Linear, ReLU, Linear, the loss's ops, 4 parameters and the input
        Assert.Contains(boxes, b => b.Value.Contains("0.weight", StringComparison.Ordinal) && b.Value.Contains("[8, 784]", StringComparison.Ordinal) && b.Value.Contains("‖grad‖", StringComparison.Ordinal));
        Assert.Contains(boxes, b => b.Value.Contains("(loss)", StringComparison.Ordinal));
        Assert.Equal(4, boxes.Count(b => ((string)b.Attribute("class")!).Contains("parameter", StringComparison.Ordinal)));

        (code, _, err) = TinyRun.Run("graph", run.RunDir, "--data", run.Data, "--output", dotFile, "--collapse", "1");
        Assert.True(code == 0, err);
        string dot = File.ReadAllText(dotFile);
        Assert.StartsWith("digraph autograd {", dot, StringComparison.Ordinal);
        Assert.Contains("(1 ops)", dot, StringComparison.Ordinal);   // the ReLU layer as one group

        (code, _, err) = TinyRun.Run("graph", run.RunDir, "--output", Path.Combine(run.Root, "g.png"));
        Assert.Equal(2, code);
        Assert.Contains("--output must end in .svg or .dot", err, StringComparison.Ordinal);
        (code, _, err) = TinyRun.Run("graph", run.RunDir, "--model", "lenet");
        Assert.Equal(2, code);
        Assert.Contains("either a run folder or --model", err, StringComparison.Ordinal);
    }

    [Fact]
    public void GraphOfAFreshLstmNamesItsModules()
    {
        string file = Path.Combine(run.Root, "lstm.svg");
        var (code, _, err) = TinyRun.Run("graph", "--model", "lstm", "--data", run.Data, "--batch-size", "2", "--output", file);
        Assert.True(code == 0, err);
        string svg = File.ReadAllText(file);
        Assert.Contains("lstm.weight_hh_l0", svg, StringComparison.Ordinal);
        Assert.Contains("module lstm", svg, StringComparison.Ordinal);   // the tooltip of the op LSTM made
        Assert.Contains("module fc", svg, StringComparison.Ordinal);
    }

    private string Report()
    {
        string file = Path.Combine(run.Root, "report.html");
        var (code, output, err) = TinyRun.Run("report", run.RunDir, "--data", run.Data, "--output", file);
        Assert.True(code == 0, err);
        Assert.Contains("wrote " + file, output, StringComparison.Ordinal);
        return file;
    }

    [Fact]
    public void ReportHoldsEveryPartAndNeedsNoNetwork()
    {
        string html = File.ReadAllText(Report());
        foreach (var id in new[] { "metrics", "summary", "graph", "explain", "options", "machine" })
            Assert.Contains($"<section id=\"{id}\">", html, StringComparison.Ordinal);
        Assert.Equal(3, Regex.Count(html, "<figure id=\"plot-"));
        Assert.Contains("class=\"nabla-graph\"", html, StringComparison.Ordinal);
        Assert.Contains("<td>hidden</td><td>8</td>", html, StringComparison.Ordinal);   // run.json
        Assert.Contains("0 (Linear)", html, StringComparison.Ordinal);                   // the explain table
        Assert.DoesNotContain("class=\"error\"", html, StringComparison.Ordinal);
        // nothing fetched: no script or stylesheet from elsewhere (the SVG namespace is a name, not a fetch)
        Assert.DoesNotMatch("(src|href)=\"(https?:)?//", html);
        Assert.DoesNotContain("<script", html, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainReportWritesThePageAtTheEnd()
    {
        var (code, output, err) = TinyRun.Run("train", "--hidden", "4", "--epochs", "1", "--data", run.Data, "--runs-dir", run.Root, "--run", "reported", "--threads", "2", "--plain", "--report");
        Assert.True(code == 0, err + output);
        string file = Path.Combine(run.Root, "reported", "report.html");
        Assert.Contains("report: " + file, output, StringComparison.Ordinal);
        Assert.Contains("<section id=\"graph\">", File.ReadAllText(file), StringComparison.Ordinal);
    }

    [Fact]
    public void ReportOfARunWithoutWeightsSaysWhyInPlace()
    {
        string dir = Path.Combine(run.Root, "empty");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(run.RunDir, "run.json"), Path.Combine(dir, "run.json"), overwrite: true);
        var (code, _, err) = TinyRun.Run("report", dir);
        Assert.True(code == 0, err);
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Contains("No epochs yet", html, StringComparison.Ordinal);
        Assert.Contains("has no model.safetensors yet", html, StringComparison.Ordinal);
    }

    // Debian's chromium, headless: the page loads without console errors, the plots, graph and tables are in the
    // rendered DOM, and a screenshot is kept as a test artifact (bin/.../artifacts/report.png). CI installs chromium
    // and sets NABLA_REQUIRE_BROWSER=1, so there the test fails rather than passes without a browser.
    [Fact]
    public void ReportLoadsInABrowserWithoutConsoleErrors()
    {
        var browser = Browser.Find();
        if (browser is null)
        {
            Assert.False(Browser.Required, "NABLA_REQUIRE_BROWSER=1 but no chromium (nor $NABLA_CHROMIUM) was found");
            return;
        }
        // the detector first: a page with a console error and an exception must be caught
        string bad = Path.Combine(run.Root, "bad.html");
        File.WriteAllText(bad, "<html><body><script>console.error('boom'); missingFunction();</script></body></html>");
        var (_, badLog) = Browser.Run(browser, "--dump-dom", bad);
        Assert.Equal(2, Browser.ConsoleMessages(badLog).Count);

        string file = Report();
        var (dom, log) = Browser.Run(browser, "--dump-dom", file);
        Assert.Empty(Browser.ConsoleMessages(log));
        Assert.Equal(3, Regex.Count(dom, "<figure id=\"plot-"));
        Assert.Contains("class=\"nabla-graph\"", dom, StringComparison.Ordinal);
        Assert.True(Regex.Count(dom, "<tr>") > 10);
        string shot = Path.Combine(AppContext.BaseDirectory, "artifacts", "report.png");
        Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
        File.Delete(shot);
        Browser.Run(browser, "--screenshot=" + shot, file, "--window-size=1280,2400", "--hide-scrollbars");
        var png = File.ReadAllBytes(shot);
        Assert.True(png.Length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G');
    }

    private static class Browser
    {
        public static bool Required => Environment.GetEnvironmentVariable("NABLA_REQUIRE_BROWSER") == "1";

        public static string? Find()
        {
            if (Environment.GetEnvironmentVariable("NABLA_CHROMIUM") is { Length: > 0 } env) return env;
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
                foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
                    if (dir.Length > 0 && File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
            return null;
        }

        // chromium logs each console message and uncaught exception to stderr as "INFO:CONSOLE..."
        public static List<string> ConsoleMessages(string log) => log.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal)).ToList();

        public static (string Stdout, string Stderr) Run(string browser, string action, string file, params string[] extra)
        {
            var info = new ProcessStartInfo(browser) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0",
                "--user-data-dir=" + Path.Combine(Path.GetTempPath(), "nabla-chromium-" + Environment.ProcessId) })
                info.ArgumentList.Add(a);
            foreach (var a in extra) info.ArgumentList.Add(a);
            info.ArgumentList.Add(action);
            info.ArgumentList.Add(new Uri(file).AbsoluteUri);
            using var p = Process.Start(info)!;
            var err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(120_000))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"{browser} did not finish within 2 minutes");
            }
            return (output, err.Result);
        }
    }
}
