using Nabla.Training;
using ScottPlot;

namespace Nabla.Cli;

/// <summary>
/// Draws a run's curves per epoch with ScottPlot: loss.png/.svg (train and validation loss), accuracy.png/.svg and
/// lr.png/.svg. The font is chosen explicitly from the fonts installed (DejaVu Sans from fonts-dejavu-core, else
/// Liberation Sans, else Noto Sans), because without a usable font the text silently vanishes from the images.
/// </summary>
internal static class Plots
{
    private static readonly (string Family, string[] Files)[] s_candidates =
    [
        ("DejaVu Sans", ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"]),
        ("Liberation Sans", ["/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", "/usr/share/fonts/liberation/LiberationSans-Regular.ttf"]),
        ("Noto Sans", ["/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"]),
        ("Arial", ["C:/Windows/Fonts/arial.ttf", "/Library/Fonts/Arial.ttf", "/System/Library/Fonts/Supplemental/Arial.ttf"]),
    ];

    private static readonly Lazy<string?> s_font = new(FindFont);

    /// <summary>The font family the plots use, or null when none of the known fonts is installed.</summary>
    public static string? FontFamily => s_font.Value;

    private static string? FindFont()
    {
        foreach (var (family, files) in s_candidates)
        {
            var file = files.FirstOrDefault(File.Exists);
            if (file is null) continue;
            Fonts.AddFontFile(family, file);
            return family;
        }
        return null;
    }

    /// <summary>The file stems written by <see cref="Write"/> (each as .png and .svg).</summary>
    public static readonly string[] Stems = ["loss", "accuracy", "lr"];

    /// <summary>Writes the three plots into <paramref name="dir"/>; returns the files written.</summary>
    public static IReadOnlyList<string> Write(string dir, IReadOnlyList<EpochMetrics> history, string runName, string valLabel = "validation")
    {
        var files = new List<string>();
        if (history.Count == 0) return files;
        double[] epochs = history.Select(m => (double)m.Epoch).ToArray();
        bool hasVal = history.Any(m => !double.IsNaN(m.ValLoss));
        files.AddRange(Save(dir, "loss", $"Loss per epoch ({runName})", "cross-entropy loss", epochs,
            [("train", history.Select(m => m.TrainLoss).ToArray()), .. hasVal ? [(valLabel, history.Select(m => m.ValLoss).ToArray())] : Array.Empty<(string, double[])>()]));
        files.AddRange(Save(dir, "accuracy", $"Accuracy per epoch ({runName})", "accuracy (%)", epochs,
            [("train", history.Select(m => 100 * m.TrainAccuracy).ToArray()), .. hasVal ? [(valLabel, history.Select(m => 100 * m.ValAccuracy).ToArray())] : Array.Empty<(string, double[])>()]));
        files.AddRange(Save(dir, "lr", $"Learning rate per epoch ({runName})", "learning rate (last step)", epochs,
            [("lr", history.Select(m => m.LearningRate).ToArray())]));
        return files;
    }

    private static string[] Save(string dir, string stem, string title, string yLabel, double[] x, (string Label, double[] Y)[] series)
    {
        var plot = new Plot();
        if (FontFamily is { } font) plot.Font.Set(font);
        Color[] colors = [Colors.C0, Colors.C1, Colors.C2];
        for (int i = 0; i < series.Length; i++)
        {
            var s = plot.Add.Scatter(x, series[i].Y);
            s.LegendText = series[i].Label;
            s.Color = colors[i % colors.Length];
            s.LineWidth = 2;
            s.MarkerSize = x.Length <= 40 ? 5 : 0;
        }
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        if (series.Length > 1) plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.AutoScale();
        string png = Path.Combine(dir, stem + ".png"), svg = Path.Combine(dir, stem + ".svg");
        SaveAtomic(png, p => plot.SavePng(p, 800, 500));
        SaveAtomic(svg, p => plot.SaveSvg(p, 800, 500));
        return [png, svg];
    }

    // ScottPlot picks the format from the extension, so the temporary file keeps it: name.tmp.png → name.png
    private static void SaveAtomic(string path, Action<string> save)
    {
        string tmp = Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + ".tmp" + Path.GetExtension(path));
        save(tmp);
        File.Move(tmp, path, overwrite: true);
    }
}
