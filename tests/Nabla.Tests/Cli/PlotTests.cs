using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Xml.Linq;
using Nabla.Cli;

namespace Nabla.Tests.Cli;

/// <summary>`nabla plot` on run folders with metrics.csv as runs write it: what the PNG and SVG files show.</summary>
public sealed class PlotTests : IDisposable
{
    private const string Header = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds";
    private static readonly XNamespace s_svg = "http://www.w3.org/2000/svg";
    private readonly string _root = Directory.CreateTempSubdirectory("nabla-plot-tests").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Nabla.Cli.Cli.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    // A run folder with metrics.csv rows (train_loss, val_loss) per epoch, plotted by `nabla plot`
    private string Plot(string name, params (double Train, double Val)[] losses)
    {
        string dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        var rows = losses.Select((l, i) => string.Create(CultureInfo.InvariantCulture,
            $"{i + 1},{l.Train},{0.5 + 0.01 * i},{l.Val},{0.6 + 0.01 * i},{0.05 / (i + 1)},1.5"));
        File.WriteAllLines(Path.Combine(dir, "metrics.csv"), [Header, .. rows]);
        var (code, output, err) = Run("plot", dir);
        Assert.True(code == 0, err);
        Assert.Contains("loss.png", output);
        return dir;
    }

    private static XElement[] Groups(XDocument svg, string cls) =>
        svg.Descendants(s_svg + "g").Where(g => (string?)g.Attribute("class") == cls).ToArray();

    private static (double X, double Y)[] Points(XDocument svg, string label) =>
        Groups(svg, "series").Single(g => (string?)g.Attribute("data-label") == label).Element(s_svg + "polyline")!.Attribute("points")!.Value
            .Split(' ').Select(p => p.Split(',')).Select(p => (double.Parse(p[0], CultureInfo.InvariantCulture), double.Parse(p[1], CultureInfo.InvariantCulture))).ToArray();

    private static double Luminance(int r, int g, int b) => (0.299 * r + 0.587 * g + 0.114 * b) / 255;

    [Fact]
    public void PngIsValidAndShowsTheCurvesTheTitleAndTheLegend()
    {
        string dir = Plot("valid", (2.0, 1.5), (1.2, 1.1), (0.7, 0.9));
        byte[] png = File.ReadAllBytes(Path.Combine(dir, "loss.png"));
        Assert.Equal(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }, png[..8]);
        var chunks = new List<string>();
        for (int at = 8; at < png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            chunks.Add(System.Text.Encoding.ASCII.GetString(png, at + 4, 4));
            Assert.Equal(Crc32(png.AsSpan(at + 4, length + 4)), BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length)));
            at += 12 + length;
        }
        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks);
        var (gray, height, width) = PngTestHook.DecodeGray(png);
        Assert.Equal((500, 800), (height, width));
        float Pixel(double x, double y) => gray[(int)y * width + (int)x];

        var svg = XDocument.Parse(File.ReadAllText(Path.Combine(dir, "loss.svg")));
        double blue = Luminance(0x1f, 0x77, 0xb4), orange = Luminance(0xff, 0x7f, 0x0e);
        foreach (var (label, lum) in new[] { ("train", blue), ("test", orange) })
        {
            var points = Points(svg, label);
            Assert.Equal(3, points.Length);
            foreach (var (x, y) in points) Assert.Equal(lum, Pixel(x, y), 0.01); // the marker's centre
            var (ax, ay) = points[0];
            var (bx, by) = points[1];
            double mx = (ax + bx) / 2, my = (ay + by) / 2; // the middle of the line: some pixel there is fully covered
            Assert.Contains(new[] { (0, 0), (1, 0), (0, 1), (-1, 0), (0, -1) }, d => Math.Abs(Pixel(mx + d.Item1, my + d.Item2) - lum) < 0.01);
        }
        Assert.Equal(1f, Pixel(2, 2)); // the background
        // the title: dark text pixels in its line, none above it
        int dark = 0;
        for (int y = 12; y < 36; y++)
            for (int x = 0; x < width; x++) dark += Pixel(x, y) < 0.3 ? 1 : 0;
        Assert.InRange(dark, 150, 4000);
        Assert.All(Enumerable.Range(0, width), x => Assert.Equal(1f, Pixel(x, 5)));

        var legend = Assert.Single(Groups(svg, "legend"));
        Assert.Equal(["train", "test"], legend.Elements(s_svg + "text").Select(t => t.Value));
        Assert.Equal("Loss per epoch (valid)", Assert.Single(Groups(svg, "title")).Value);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void ShortRunsTickWholeEpochsOnly(int epochs)
    {
        string dir = Plot($"short{epochs}", Enumerable.Range(0, epochs).Select(i => (1.0 / (i + 1), 1.2 / (i + 1))).ToArray());
        foreach (var stem in new[] { "loss", "accuracy", "lr" })
        {
            var svg = XDocument.Parse(File.ReadAllText(Path.Combine(dir, stem + ".svg")));
            var ticks = Assert.Single(Groups(svg, "x-ticks")).Elements(s_svg + "text").Select(t => t.Value).ToArray();
            Assert.Equal(Enumerable.Range(1, epochs).Select(e => e.ToString(CultureInfo.InvariantCulture)), ticks);
            Assert.Equal(500, PngTestHook.DecodeGray(File.ReadAllBytes(Path.Combine(dir, stem + ".png"))).Height);
        }
    }

    [Fact]
    public void LongRunsTickRoundEpochs()
    {
        string dir = Plot("long", Enumerable.Range(0, 60).Select(i => (1.0 / (i + 1), 1.2 / (i + 1))).ToArray());
        var svg = XDocument.Parse(File.ReadAllText(Path.Combine(dir, "loss.svg")));
        var ticks = Assert.Single(Groups(svg, "x-ticks")).Elements(s_svg + "text").Select(t => int.Parse(t.Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.InRange(ticks.Length, 5, 11);
        Assert.All(ticks, t => Assert.Equal(0, t % 5));
        Assert.Empty(svg.Descendants(s_svg + "circle")); // markers only up to 40 points
    }

    [Theory]
    [InlineData("top-right")]
    [InlineData("top-left")]
    [InlineData("bottom-right")]
    [InlineData("bottom-left")]
    [InlineData("everywhere")]
    public void LegendCoversNoDataPoint(string end)
    {
        // 12 epochs of two curves ending in one corner (starting in the opposite one), or zigzags that fill the plot
        var losses = Enumerable.Range(0, 12).Select(i =>
        {
            double t = end.EndsWith("right", StringComparison.Ordinal) ? i / 11.0 : 1 - i / 11.0;
            double y = end == "everywhere" ? i % 2 : end.StartsWith("top", StringComparison.Ordinal) ? t : 1 - t;
            return (1 + y, 1.05 + 0.9 * y);
        }).ToArray();
        string dir = Plot(end, losses);
        Assert.Equal(800, PngTestHook.DecodeGray(File.ReadAllBytes(Path.Combine(dir, "loss.png"))).Width);
        var svg = XDocument.Parse(File.ReadAllText(Path.Combine(dir, "loss.svg")));
        var box = Assert.Single(Groups(svg, "legend")).Elements(s_svg + "rect").First();
        double D(string a) => double.Parse(box.Attribute(a)!.Value, CultureInfo.InvariantCulture);
        double x0 = D("x"), y0 = D("y"), x1 = x0 + D("width"), y1 = y0 + D("height");
        const double Marker = 3.25;
        foreach (var label in new[] { "train", "test" })
        {
            var points = Points(svg, label);
            Assert.Equal(12, points.Length);
            foreach (var (x, y) in points)
                Assert.False(x > x0 - Marker && x < x1 + Marker && y > y0 - Marker && y < y1 + Marker, $"{label} point ({x}, {y}) under the legend [{x0}, {x1}]x[{y0}, {y1}]");
        }
    }

    [Fact]
    public void PlotsAreTheSameBytesOnEveryMachine()
    {
        string dir = Plot("same", (2.0, 1.5), (1.2, 1.1), (0.7, 0.9));
        string png = Path.Combine(dir, "loss.png");
        byte[] first = File.ReadAllBytes(png);
        Assert.Equal(0, Run("plot", dir).Code);
        Assert.Equal(first, File.ReadAllBytes(png));
        // no native rasteriser, no runtime zlib, no libm calls: these bytes on any machine and runtime
        Assert.Equal(PinnedLossPng, Convert.ToHexStringLower(SHA256.HashData(first)));
    }

    private const string PinnedLossPng = "0fa8da49e56736be2a57258d1ca18f42bd4edbe9784657273d0fb3f203a8353a";

    [Fact]
    public void TheCliCarriesNoNativeLibraries()
    {
        // the deps file lists a package's native assets (SkiaSharp had libSkiaSharp.so for ~20 platforms)
        using var deps = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Nabla.Cli.deps.json")));
        var natives = deps.RootElement.GetProperty("targets").EnumerateObject().SelectMany(t => t.Value.EnumerateObject())
            .Where(lib => lib.Value.TryGetProperty("native", out _) || lib.Value.TryGetProperty("runtimeTargets", out _)).Select(lib => lib.Name);
        Assert.Empty(natives);
    }

    [Fact]
    public void TrainingKeepsEveryEpochWhenThePlotsCannotBeWritten()
    {
        string run = Path.Combine(_root, "runs", "blocked");
        Directory.CreateDirectory(Path.Combine(run, "loss.png")); // a folder where a plot file should go
        var (code, output, err) = Run("train", "--epochs", "2", "--hidden", "16", "--threads", "2", "--plain", "--runs-dir", Path.Combine(_root, "runs"), "--run", "blocked");
        Assert.True(code == 0, err + output);
        var warning = Assert.Single(err.TrimEnd().Split('\n'));
        Assert.StartsWith("warning: could not draw the plots: ", warning, StringComparison.Ordinal);
        Assert.Contains("test accuracy:", output);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        Assert.True(File.Exists(Path.Combine(run, "model.safetensors")));
        Assert.Equal("2", Nabla.IO.SafeTensors.Load(Path.Combine(run, "checkpoint.safetensors")).Metadata["nabla.epoch"]);

        var (plotCode, _, plotErr) = Run("plot", run); // redrawing reports the same problem as an error line
        Assert.Equal(1, plotCode);
        Assert.StartsWith("error: ", Assert.Single(plotErr.TrimEnd().Split('\n')), StringComparison.Ordinal);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }
}
