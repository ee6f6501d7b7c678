using System.Globalization;
using Nabla.Diagnostics;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// `nabla train --profile N`: after <see cref="Warmup"/> training steps, profiles the next N (forward, backward and
/// optimizer step of each, per op and per layer), then stops the run as Ctrl+C does (the checkpoint is written, so
/// --resume continues it); the command prints the key-averages table and writes trace.json into the run folder.
/// </summary>
internal sealed class TrainProfile(int steps, CancellationTokenSource stop) : ITrainingCallback
{
    /// <summary>Steps run before profiling, so the JIT, the storage pool and the caches are warm.</summary>
    public const int Warmup = 5;

    private long _first = -1;
    private Profiler? _profiler;

    /// <summary>The finished profile (null until the profiled steps ran, or when the run ended first).</summary>
    public Profiler? Result { get; private set; }

    /// <summary>The training steps the profile covers.</summary>
    public int StepsProfiled { get; private set; }

    public void OnBatchEnd(Trainer trainer, double loss)
    {
        if (_first < 0) _first = trainer.Step - 1;
        long done = trainer.Step - _first;
        if (done == Warmup) _profiler = Profiler.Start();
        // the trainer checks the token at the end of a step: cancel one step early so the run stops after the last profiled one
        if (done == Warmup + steps - 1) stop.Cancel();
        if (done == Warmup + steps) Finish(steps);
    }

    public void OnTrainEnd(Trainer trainer, bool cancelled)
    {
        if (_profiler is { IsRecording: true }) Finish((int)(trainer.Step - _first - Warmup));
    }

    private void Finish(int profiled)
    {
        _profiler!.Stop();
        Result = _profiler;
        StepsProfiled = profiled;
    }

    /// <summary>Prints the table and writes RUN/trace.json.</summary>
    public void Report(RunFolder run, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        if (Result is null)
        {
            stdout.WriteLine(string.Create(inv, $"profile: the run ended before step {Warmup + 1}; nothing was profiled (use more epochs or a smaller --batch-size)."));
            return;
        }
        stdout.WriteLine(string.Create(inv, $"profile: {StepsProfiled} training step(s) after {Warmup} warm-up steps, {Result.Elapsed.TotalMilliseconds:F1} ms wall, Threading.MaxThreads={Kernels.Threading.MaxThreads}"));
        stdout.Write(Result.KeyAverages().Table(30));
        string trace = Path.Combine(run.Path, "trace.json");
        Result.ExportChromeTrace(trace);
        stdout.WriteLine($"trace: {trace} (open in chrome://tracing or https://ui.perfetto.dev)");
    }
}
