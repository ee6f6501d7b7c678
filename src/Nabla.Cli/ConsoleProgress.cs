using System.Globalization;
using Nabla.Training;
using Spectre.Console;

namespace Nabla.Cli;

/// <summary>A progress line's field: its text, and how early it is dropped when the line is too wide (the highest rank first).</summary>
internal readonly record struct ProgressField(string Text, int Rank, string? Markup = null);

/// <summary>Progress lines that fit the terminal: fields are joined, and the least important dropped while the line is too wide.</summary>
internal static class ProgressLine
{
    public static string Join(IReadOnlyList<ProgressField> fields, int? width, bool markup = false)
    {
        var kept = fields.ToList();
        while (width is int w && kept.Count > 1 && kept.Sum(f => f.Text.Length) + 2 * (kept.Count - 1) > w) kept.Remove(kept.MaxBy(f => f.Rank));
        return string.Join("  ", kept.Select(f => markup ? f.Markup ?? Markup.Escape(f.Text) : f.Text));
    }

    /// <summary>
    /// The width plain lines must fit: COLUMNS when set, else the terminal's; none for a pipe, a file or a test's
    /// writer, so logs keep every field.
    /// </summary>
    public static int? PlainWidth(TextWriter output)
    {
        if (!ReferenceEquals(output, Console.Out)) return null;
        if (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out int columns) && columns > 0) return columns;
        if (Console.IsOutputRedirected) return null;
        try { return Console.WindowWidth > 0 ? Console.WindowWidth : null; }
        catch (IOException) { return null; }
    }

    /// <summary>The per-epoch line both displays print, fitted to <paramref name="width"/>.</summary>
    public static string Epoch(EpochMetrics m, int epochs, string valName, double samplesPerSecond, int? width) => Join(
    [
        new(string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch,3}/{epochs}"), 0),
        new(string.Create(CultureInfo.InvariantCulture, $"loss {m.TrainLoss:F4}"), 1),
        new(string.Create(CultureInfo.InvariantCulture, $"train acc {100 * m.TrainAccuracy:F2}%"), 4),
        new(string.Create(CultureInfo.InvariantCulture, $"{valName} loss {m.ValLoss:F4}"), 3),
        new(string.Create(CultureInfo.InvariantCulture, $"{valName} acc {100 * m.ValAccuracy:F2}%"), 2),
        new(string.Create(CultureInfo.InvariantCulture, $"lr {m.LearningRate:G4}"), 6),
        new(string.Create(CultureInfo.InvariantCulture, $"{samplesPerSecond,8:N0} samples/s"), 7),
        new(string.Create(CultureInfo.InvariantCulture, $"{m.Seconds:F2} s"), 5),
    ], width);
}

/// <summary>Plain lines, one per epoch: what a log file, a pipe or a test sees.</summary>
internal sealed class PlainProgress(TextWriter output, string valName, int trainSamples) : ITrainingProgress
{
    private readonly int? _width = ProgressLine.PlainWidth(output);
    private int _epochs;

    public void OnEpochStart(int epoch, int epochs, int batches) => _epochs = epochs;

    public void OnEpochEnd(EpochMetrics metrics)
    {
        output.WriteLine(ProgressLine.Epoch(metrics, _epochs, valName, trainSamples / Math.Max(metrics.Seconds, 1e-9), _width));
        output.Flush();
    }

    public void OnStopped(string reason) => output.WriteLine($"stopped: {reason}");
}

/// <summary>
/// A live Spectre.Console display for a terminal: one row per epoch with a progress bar, and for the running epoch
/// the batch, running loss and accuracy, learning rate, samples/s and the ETA of the whole run. Finished epochs keep
/// their summary line.
/// </summary>
internal sealed class SpectreProgress(ProgressContext context, string valName, int trainSamples) : ITrainingProgress
{
    private ProgressTask? _task;
    private int _epochs;
    private long _lastRefresh;

    public void OnEpochStart(int epoch, int epochs, int batches)
    {
        _epochs = epochs;
        _task = context.AddTask(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch,3}/{epochs}"), maxValue: batches);
    }

    public void OnBatchEnd(in BatchProgress p)
    {
        if (_task is null) return;
        _task.Value = p.Batch;
        long now = Environment.TickCount64;
        if (now - _lastRefresh < 100 && p.Batch != p.Batches) return; // markup is rebuilt ten times a second at most
        _lastRefresh = now;
        var inv = CultureInfo.InvariantCulture;
        string loss = p.Loss.ToString("F4", inv), acc = (100 * p.Accuracy).ToString("F2", inv) + "%";
        _task.Description = ProgressLine.Join(
        [
            new(string.Create(inv, $"epoch {p.Epoch,3}/{p.Epochs}"), 0),
            new(string.Create(inv, $"batch {p.Batch,5}/{p.Batches}"), 4),
            new("loss " + loss, 1, $"loss [yellow]{loss}[/]"),
            new("acc " + acc, 2, $"acc [green]{acc}[/]"),
            new(string.Create(inv, $"lr {p.LearningRate:G4}"), 5),
            new(string.Create(inv, $"{p.SamplesPerSecond,8:N0} samples/s"), 6),
            new("ETA " + Eta(p.Eta), 3),
        ], DescriptionWidth, markup: true);
    }

    public void OnEpochEnd(EpochMetrics metrics)
    {
        if (_task is null) return;
        _task.Description = Markup.Escape(ProgressLine.Epoch(metrics, _epochs, valName, trainSamples / Math.Max(metrics.Seconds, 1e-9), DescriptionWidth));
        _task.Value = _task.MaxValue;
        _task.StopTask();
    }

    public void OnStopped(string reason)
    {
        var t = context.AddTask("[red]stopped:[/] " + Markup.Escape(reason), maxValue: 1);
        t.Value = 1;
        t.StopTask();
    }

    // the row is description, bar and percentage ("100%"), a space apart; the bar narrows on narrow terminals
    private static int BarWidth => Math.Clamp(AnsiConsole.Profile.Width - 100, 10, 24);

    private static int DescriptionWidth => AnsiConsole.Profile.Width - BarWidth - 4 - 2;

    private static string Eta(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);

    /// <summary>Whether a live display fits: writing to the real console, not redirected, on an interactive terminal.</summary>
    public static bool Usable(TextWriter stdout) =>
        ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="body"/> inside a live progress display.</summary>
    public static T Run<T>(Func<ProgressContext, T> body) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = BarWidth }, new PercentageColumn())
            .Start(body);
}
