#:project ../../src/Nabla.Cli/Nabla.Cli.csproj
// Times `nabla plot` in-process on a 40-epoch run (the README's mlp run shape): three charts, each a PNG and an SVG.
// Usage: benchmarks/plots.sh (dotnet run benchmarks/plots/PlotBench.cs -c Release -- OUT.tsv)
using System.Diagnostics;
using System.Globalization;

var inv = CultureInfo.InvariantCulture;
string dir = Directory.CreateTempSubdirectory("nabla-plot-bench").FullName;
var rows = Enumerable.Range(1, 40).Select(e => string.Create(inv,
    $"{e},{1.1 / e + 0.03},{1 - 0.4 / e},{0.4 / e + 0.07},{0.98 - 0.1 / e},{0.025 * (1 + Math.Cos(Math.PI * e / 40))},0.5"));
File.WriteAllLines(Path.Combine(dir, "metrics.csv"), ["epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds", .. rows]);

// wall and CPU time per chart (PNG + SVG); CPU time is what a busy shared machine inflates least
(double Wall, double Cpu) Once()
{
    var process = Process.GetCurrentProcess();
    var cpu = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    int code = Nabla.Cli.Cli.Run(["plot", dir], TextWriter.Null, Console.Error);
    if (code != 0) throw new InvalidOperationException($"nabla plot exited {code}");
    double wall = sw.Elapsed.TotalMilliseconds / 3;
    process.Refresh();
    return (wall, (process.TotalProcessorTime - cpu).TotalMilliseconds / 3);
}

var (cold, coldCpu) = Once();
for (int i = 0; i < 5; i++) Once();
var runs = Enumerable.Range(0, 30).Select(_ => Once()).ToArray();
var times = runs.Select(r => r.Wall).Order().ToArray();
var cpus = runs.Select(r => r.Cpu).Order().ToArray();
long png = Directory.GetFiles(dir, "*.png").Sum(f => new FileInfo(f).Length) / 3, svg = Directory.GetFiles(dir, "*.svg").Sum(f => new FileInfo(f).Length) / 3;
Directory.Delete(dir, recursive: true);
var lines = new[]
{
    "name\tmin\tmedian\tunit\titerations\tnote",
    string.Create(inv, $"plot_first\t{cold:F1}\t{cold:F1}\tms/chart\t1\tfirst call in the process (JIT, glyph atlas load); CPU {coldCpu:F1} ms"),
    string.Create(inv, $"plot_warm\t{times[0]:F1}\t{times[times.Length / 2]:F1}\tms/chart\t{times.Length}\twall time; 800x500 PNG + SVG, 40 epochs, 2 series with markers, files written atomically (fsync)"),
    string.Create(inv, $"plot_warm_cpu\t{cpus[0]:F1}\t{cpus[cpus.Length / 2]:F1}\tms/chart\t{cpus.Length}\tCPU time of the same calls"),
    string.Create(inv, $"plot_png_bytes\t{png}\t{png}\tbytes\t1\tmean PNG size of the three charts"),
    string.Create(inv, $"plot_svg_bytes\t{svg}\t{svg}\tbytes\t1\tmean SVG size of the three charts"),
};
File.WriteAllLines(args[0], lines);
foreach (var l in lines) Console.WriteLine(l);
