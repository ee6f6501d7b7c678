using System.Globalization;
using Nabla.Training;
using Spectre.Console;

namespace Nabla.Cli;

/// <summary>Formats the per-epoch line both displays print.</summary>
internal static class EpochLine
{
    public static string Format(EpochMetrics m, int epochs, string valName, double samplesPerSecond) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch,3}/{epochs}  loss {m.TrainLoss:F4}  train acc {100 * m.TrainAccuracy:F2}%  {valName} loss {m.ValLoss:F4}  {valName} acc {100 * m.ValAccuracy:F2}%  lr {m.LearningRate:G4}  {samplesPerSecond,8:N0} samples/s  {m.Seconds:F2} s");
}

/// <summary>Plain lines, one per epoch: what a log file, a pipe or a test sees.</summary>
internal sealed class PlainProgress(TextWriter output, string valName, int trainSamples) : ITrainingProgress
{
    private int _epochs;

    public void OnEpochStart(int epoch, int epochs, int batches) => _epochs = epochs;

    public void OnEpochEnd(EpochMetrics metrics)
    {
        output.WriteLine(EpochLine.Format(metrics, _epochs, valName, trainSamples / Math.Max(metrics.Seconds, 1e-9)));
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
        _task.Description = string.Create(CultureInfo.InvariantCulture,
            $"epoch {p.Epoch,3}/{p.Epochs}  batch {p.Batch,5}/{p.Batches}  loss [yellow]{p.Loss:F4}[/]  acc [green]{100 * p.Accuracy:F2}%[/]  lr {p.LearningRate:G4}  {p.SamplesPerSecond,8:N0} samples/s  ETA {Eta(p.Eta)}");
    }

    public void OnEpochEnd(EpochMetrics metrics)
    {
        if (_task is null) return;
        _task.Description = Markup.Escape(EpochLine.Format(metrics, _epochs, valName, trainSamples / Math.Max(metrics.Seconds, 1e-9)));
        _task.Value = _task.MaxValue;
        _task.StopTask();
    }

    public void OnStopped(string reason)
    {
        var t = context.AddTask("[red]stopped:[/] " + Markup.Escape(reason), maxValue: 1);
        t.Value = 1;
        t.StopTask();
    }

    private static string Eta(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"mm\:ss", CultureInfo.InvariantCulture);

    /// <summary>Whether a live display fits: writing to the real console, not redirected, on an interactive terminal.</summary>
    public static bool Usable(TextWriter stdout) =>
        ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="body"/> inside a live progress display.</summary>
    public static T Run<T>(Func<ProgressContext, T> body) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 24 }, new PercentageColumn())
            .Start(body);
}
