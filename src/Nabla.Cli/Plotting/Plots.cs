using Nabla.IO;
using Nabla.Training;

namespace Nabla.Cli.Plotting;

/// <summary>
/// Draws a run's curves per epoch: loss.png/.svg (train and validation loss), accuracy.png/.svg and lr.png/.svg,
/// 800x500, in managed code only (<see cref="RasterCanvas"/>, <see cref="PngEncoder"/>, <see cref="SvgCanvas"/>).
/// </summary>
internal static class Plots
{
    /// <summary>Writes the three plots into <paramref name="dir"/>, each file atomically; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string dir, IReadOnlyList<EpochMetrics> history, string runName, string valLabel = "validation")
    {
        var files = new List<string>();
        foreach (var (stem, chart) in Charts(history, runName, valLabel)) files.AddRange(Save(dir, stem, chart));
        return files;
    }

    /// <summary>The three plots as SVG documents (for the HTML report), in the order loss, accuracy, lr.</summary>
    public static IReadOnlyList<(string Stem, string Svg)> Svgs(IReadOnlyList<EpochMetrics> history, string runName, string valLabel = "validation") =>
        Charts(history, runName, valLabel).Select(sc =>
        {
            var svg = new SvgCanvas(Chart.Width, Chart.Height, Rgb.White);
            sc.Chart.Draw(svg);
            return (sc.Stem, svg.ToString());
        }).ToList();

    private static List<(string Stem, Chart Chart)> Charts(IReadOnlyList<EpochMetrics> history, string runName, string valLabel)
    {
        if (history.Count == 0) return [];
        double[] epochs = history.Select(m => (double)m.Epoch).ToArray();
        bool hasVal = history.Any(m => !double.IsNaN(m.ValLoss));
        Series Curve(int i, string label, Func<EpochMetrics, double> y) => new(label, epochs, history.Select(y).ToArray(), Chart.Palette[i]);
        Series[] TrainAndVal(Func<EpochMetrics, double> train, Func<EpochMetrics, double> val) =>
            hasVal ? [Curve(0, "train", train), Curve(1, valLabel, val)] : [Curve(0, "train", train)];
        return
        [
            ("loss", new Chart($"Loss per epoch ({runName})", "epoch", "cross-entropy loss", TrainAndVal(m => m.TrainLoss, m => m.ValLoss), integerX: true)),
            ("accuracy", new Chart($"Accuracy per epoch ({runName})", "epoch", "accuracy (%)",
                TrainAndVal(m => 100 * m.TrainAccuracy, m => 100 * m.ValAccuracy), integerX: true)),
            ("lr", new Chart($"Learning rate per epoch ({runName})", "epoch", "learning rate (last step)", [Curve(0, "lr", m => m.LearningRate)], integerX: true)),
        ];
    }

    private static string[] Save(string dir, string stem, Chart chart)
    {
        var raster = new RasterCanvas(Chart.Width, Chart.Height, Rgb.White);
        chart.Draw(raster);
        var svg = new SvgCanvas(Chart.Width, Chart.Height, Rgb.White);
        chart.Draw(svg);
        string png = Path.Combine(dir, stem + ".png"), svgFile = Path.Combine(dir, stem + ".svg");
        AtomicFile.WriteAllBytes(png, PngEncoder.Encode(raster.Pixels, raster.Width, raster.Height));
        AtomicFile.WriteAllText(svgFile, svg.ToString());
        return [png, svgFile];
    }
}
