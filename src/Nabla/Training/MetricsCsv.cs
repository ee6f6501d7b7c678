using System.Globalization;
using System.Text;
using Nabla.IO;

namespace Nabla.Training;

/// <summary>
/// A run's metrics.csv: a header <c>epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds</c> and one row per epoch
/// (accuracies as fractions; validation columns empty without a validation set).
/// </summary>
public static class MetricsCsv
{
    /// <summary>The header line.</summary>
    public const string Header = "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds";

    /// <summary>The CSV text of <paramref name="rows"/>, header included.</summary>
    public static string Format(IEnumerable<EpochMetrics> rows) => Format(rows, exact: false);

    /// <summary>With <paramref name="exact"/>, every number round-trips bit for bit (checkpoints); otherwise 9 significant digits.</summary>
    internal static string Format(IEnumerable<EpochMetrics> rows, bool exact)
    {
        string N(double v) => double.IsNaN(v) ? "" : v.ToString(exact ? "R" : "G9", CultureInfo.InvariantCulture);
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var r in rows)
        {
            sb.Append(r.Epoch.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(N(r.TrainLoss)).Append(',').Append(N(r.TrainAccuracy)).Append(',')
              .Append(N(r.ValLoss)).Append(',').Append(N(r.ValAccuracy)).Append(',')
              .Append(N(r.LearningRate)).Append(',').Append(r.Seconds.ToString(exact ? "R" : "F3", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Parses CSV text written by <see cref="Format(IEnumerable{EpochMetrics})"/>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">The header or a row is malformed (the message names the line).</exception>
    public static List<EpochMetrics> Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        if (lines.Length == 0 || lines[0] != Header)
            throw new InvalidDataException($"{source}: expected the header '{Header}', got {Untrusted.Quote(lines.Length == 0 ? "" : lines[0])}.");
        var rows = new List<EpochMetrics>();
        for (int i = 1; i < lines.Length; i++)
        {
            var f = lines[i].Split(',');
            if (f.Length != 7 || !int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch))
                throw new InvalidDataException($"{source}: line {i + 1} is not 'epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds': {Untrusted.Quote(lines[i])}.");
            double P(int k) => f[k].Length == 0 ? double.NaN
                : double.TryParse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw new InvalidDataException($"{source}: line {i + 1}, column {k + 1} is not a number: {Untrusted.Quote(f[k])}.");
            rows.Add(new EpochMetrics(epoch, P(1), P(2), P(3), P(4), P(5), P(6)));
        }
        return rows;
    }

    /// <summary>Reads a metrics.csv file.</summary>
    public static List<EpochMetrics> Read(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Writes a metrics.csv file atomically (a temporary file renamed over the old one).</summary>
    public static void Write(string path, IEnumerable<EpochMetrics> rows) => AtomicFile.WriteAllText(path, Format(rows));
}
