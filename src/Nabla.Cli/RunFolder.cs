using System.Globalization;
using System.Text;
using System.Text.Json;
using Nabla.Cli.Plotting;
using Nabla.IO;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// A training run's folder (runs/NAME/): run.json (the options that rebuild the run), metrics.csv,
/// checkpoint.safetensors (the full training state: model, optimizer, schedule, epoch, step, generators),
/// model.safetensors (the weights alone under PyTorch keys), best.safetensors (the best epoch's weights) and the plots;
/// .lock, which the process training the run holds locked.
/// </summary>
internal sealed class RunFolder
{
    private bool _plotsWarned;

    public RunFolder(string path) => Path = System.IO.Path.GetFullPath(path);

    public string Path { get; }

    public string Name => System.IO.Path.GetFileName(Path);

    public string ConfigFile => System.IO.Path.Combine(Path, "run.json");

    public string MetricsFile => System.IO.Path.Combine(Path, "metrics.csv");

    public string CheckpointFile => System.IO.Path.Combine(Path, "checkpoint.safetensors");

    public string ModelFile => System.IO.Path.Combine(Path, "model.safetensors");

    public string BestFile => System.IO.Path.Combine(Path, "best.safetensors");

    public string LockFile => System.IO.Path.Combine(Path, ".lock");

    /// <summary>
    /// Locks the run folder (creating it) for this process, or returns null when another process holds it. The lock is
    /// the OS's (flock on Linux) on .lock, so it goes with the process however that ends, kill -9 included: no stale lock.
    /// </summary>
    public FileStream? TryLock()
    {
        Directory.CreateDirectory(Path);
        try
        {
            return new FileStream(LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
        {
            return null;
        }
    }

    /// <summary><see cref="TryLock"/>, or a one-line error naming the folder when another process holds it.</summary>
    public FileStream Lock(string command) => TryLock()
        ?? throw new CliException($"nabla {command}: run folder '{Path}' is in use by another nabla process (it holds {System.IO.Path.GetFileName(LockFile)}); wait for it to finish or stop it first.");

    /// <summary>Removes the files an earlier run wrote here (options, metrics, weights, checkpoint, plots), so a new run starts clean.</summary>
    public void Clear()
    {
        foreach (var f in new[] { ConfigFile, MetricsFile, CheckpointFile, ModelFile, BestFile })
            File.Delete(f);
        File.Delete(System.IO.Path.Combine(Path, "report.html"));   // what train --report writes
        foreach (var plot in new[] { "loss", "accuracy", "lr" }) // what Plots.Write draws
            foreach (var ext in new[] { ".png", ".svg" })
                File.Delete(System.IO.Path.Combine(Path, plot + ext));
    }

    /// <summary>The folder of an existing run, or a one-line usage error naming what is missing.</summary>
    public static RunFolder Open(string command, string? dir)
    {
        if (string.IsNullOrEmpty(dir)) throw new CliException($"nabla {command}: give a run folder (e.g. runs/mlp-20250101-120000). See 'nabla {command} --help'.");
        if (!Directory.Exists(dir)) throw new CliException($"nabla {command}: run folder '{dir}' does not exist.");
        var run = new RunFolder(dir);
        if (!File.Exists(run.ConfigFile)) throw new CliException($"nabla {command}: '{dir}' is not a run folder (no run.json).");
        return run;
    }

    /// <summary>Writes run.json: the options of the run as strings.</summary>
    public void WriteConfig(IReadOnlyDictionary<string, string> config)
    {
        Directory.CreateDirectory(Path);
        var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (var (k, v) in config) w.WriteString(k, v);
            w.WriteEndObject();
        }
        AtomicFile.WriteAllText(ConfigFile, Encoding.UTF8.GetString(ms.ToArray()) + "\n");
    }

    /// <summary>Reads run.json.</summary>
    public Dictionary<string, string> ReadConfig() => ParseConfig(File.ReadAllBytes(ConfigFile));

    /// <summary>run.json's bytes (read by rank 0 of a distributed run and broadcast to the others) as the options.</summary>
    public Dictionary<string, string> ParseConfig(byte[] json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{ConfigFile}' is not a valid run.json ({e.Message}).");
        }
    }

    /// <summary>A default run name: the model and the local time, e.g. mlp-20250101-120000.</summary>
    public static string DefaultName(string model) => $"{model}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Draws the plots from the history; a failure (a plot file that cannot be written) is a one-line warning on
    /// <paramref name="stderr"/>, given once per run, since the plots can always be redrawn with `nabla plot`.
    /// </summary>
    public void TryWritePlots(IReadOnlyList<EpochMetrics> history, string valLabel, TextWriter stderr)
    {
        try
        {
            Plots.Write(Path, history, Name, valLabel);
        }
        catch (Exception e)
        {
            if (_plotsWarned) return;
            _plotsWarned = true;
            stderr.WriteLine($"warning: could not draw the plots: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
