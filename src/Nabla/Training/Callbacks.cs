using System.Globalization;
using Nabla.IO;
using Nabla.NN;

namespace Nabla.Training;

/// <summary>Which epoch metric a callback watches.</summary>
public enum MonitoredMetric
{
    /// <summary>Validation loss (lower is better); the training loss when there is no validation set.</summary>
    ValLoss,

    /// <summary>Validation accuracy (higher is better); the training accuracy when there is no validation set.</summary>
    ValAccuracy,
}

/// <summary>Reads a monitored metric and compares values.</summary>
internal static class MonitorExtensions
{
    public static double Read(this MonitoredMetric monitor, EpochMetrics m) => monitor switch
    {
        MonitoredMetric.ValLoss => double.IsNaN(m.ValLoss) ? m.TrainLoss : m.ValLoss,
        _ => double.IsNaN(m.ValAccuracy) ? m.TrainAccuracy : m.ValAccuracy,
    };

    public static bool Better(this MonitoredMetric monitor, double value, double best, double minDelta) =>
        monitor == MonitoredMetric.ValLoss ? value < best - minDelta : value > best + minDelta;

    public static double Worst(this MonitoredMetric monitor) => monitor == MonitoredMetric.ValLoss ? double.PositiveInfinity : double.NegativeInfinity;
}

/// <summary>Reads a callback's state from a checkpoint: exactly the expected keys, each in its range.</summary>
internal static class CallbackState
{
    public static void ExpectKeys(string owner, IReadOnlyDictionary<string, double> state, params string[] keys)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var k in keys)
            if (!state.ContainsKey(k)) throw new InvalidDataException($"{owner}: the checkpoint state lacks '{k}' (it has: {string.Join(", ", state.Keys.Select(Untrusted.Quote))}).");
        foreach (var k in state.Keys)
            if (!keys.Contains(k)) throw new InvalidDataException($"{owner}: the checkpoint state has an unknown key {Untrusted.Quote(k)}.");
    }

    public static int Integer(string owner, IReadOnlyDictionary<string, double> state, string key, int min, int max)
    {
        double v = state[key];
        return v >= min && v <= max && v == Math.Floor(v) ? (int)v
            : throw new InvalidDataException($"{owner}: the checkpoint state '{key}' is {v.ToString(CultureInfo.InvariantCulture)}, expected an integer from {min} to {max}.");
    }

    public static double Best(string owner, IReadOnlyDictionary<string, double> state, MonitoredMetric monitor) =>
        !double.IsNaN(state["best"]) && state["best"] != -monitor.Worst() ? state["best"]
            : throw new InvalidDataException($"{owner}: the checkpoint state 'best' is {state["best"].ToString(CultureInfo.InvariantCulture)}, not a value of {monitor}.");
}

/// <summary>
/// Stops the run when the monitored metric has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs in a row (Keras' EarlyStopping). Its counters go into checkpoints.
/// </summary>
public sealed class EarlyStopping : ITrainingCallback
{
    /// <summary>Creates the callback.</summary>
    public EarlyStopping(int patience, MonitoredMetric monitor = MonitoredMetric.ValLoss, double minDelta = 0)
    {
        if (patience < 1) throw new ArgumentOutOfRangeException(nameof(patience), $"EarlyStopping: patience must be at least 1, got {patience}.");
        if (!(minDelta >= 0)) throw new ArgumentOutOfRangeException(nameof(minDelta), $"EarlyStopping: min delta must be ≥ 0, got {minDelta}.");
        Patience = patience;
        Monitor = monitor;
        MinDelta = minDelta;
        Best = monitor.Worst();
    }

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>The watched metric.</summary>
    public MonitoredMetric Monitor { get; }

    /// <summary>The smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>The best value seen.</summary>
    public double Best { get; private set; }

    /// <summary>Epochs since the best value.</summary>
    public int Wait { get; private set; }

    /// <inheritdoc/>
    public void OnTrainBegin(Trainer trainer)
    {
        // a run resumed from a checkpoint written after its early stop stays stopped
        if (Wait >= Patience) Stop(trainer);
    }

    /// <inheritdoc/>
    public void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        double v = Monitor.Read(metrics);
        if (Monitor.Better(v, Best, MinDelta))
        {
            Best = v;
            Wait = 0;
            return;
        }
        if (++Wait >= Patience) Stop(trainer);
    }

    private void Stop(Trainer trainer)
    {
        trainer.StopRequested = true;
        trainer.StopReason = $"early stopping: {Monitor} has not improved for {Patience} epoch(s) (best {Best:G6})";
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double> GetState() => new Dictionary<string, double> { ["best"] = Best, ["wait"] = Wait };

    /// <inheritdoc/>
    public void SetState(IReadOnlyDictionary<string, double> state)
    {
        CallbackState.ExpectKeys(nameof(EarlyStopping), state, "best", "wait");
        double best = CallbackState.Best(nameof(EarlyStopping), state, Monitor);
        Wait = CallbackState.Integer(nameof(EarlyStopping), state, "wait", 0, Patience);
        Best = best;
    }
}

/// <summary>
/// Keeps the weights of the best epoch by the monitored metric: a snapshot in memory (<see cref="BestState"/>,
/// <see cref="RestoreBest"/>) and an optional <see cref="Saved"/> action (e.g. writing best.safetensors).
/// </summary>
public sealed class KeepBest(MonitoredMetric monitor = MonitoredMetric.ValAccuracy) : ITrainingCallback
{
    /// <summary>The watched metric.</summary>
    public MonitoredMetric Monitor { get; } = monitor;

    /// <summary>The best value seen.</summary>
    public double Best { get; private set; } = monitor.Worst();

    /// <summary>The epoch that had it (0 before any).</summary>
    public int BestEpoch { get; private set; }

    /// <summary>A copy of the model's state dict at the best epoch (null before any epoch, or after a resume until the next best).</summary>
    public Dictionary<string, Tensor>? BestState { get; private set; }

    /// <summary>Called with the model whenever a new best epoch is found.</summary>
    public Action<Module, EpochMetrics>? Saved { get; set; }

    /// <inheritdoc/>
    public void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        double v = Monitor.Read(metrics);
        if (!Monitor.Better(v, Best, 0)) return;
        Best = v;
        BestEpoch = metrics.Epoch;
        BestState = trainer.Model.StateDict().ToDictionary(kv => kv.Key, kv => Snapshot(kv.Value));
        Saved?.Invoke(trainer.Model, metrics);
    }

    private static Tensor Snapshot(Tensor t)
    {
        var copy = Tensor.ZerosLike(t);
        copy.CopyFrom(t);
        return copy;
    }

    /// <summary>Loads the best weights back into <paramref name="model"/>.</summary>
    public void RestoreBest(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.LoadStateDict(BestState ?? throw new InvalidOperationException("KeepBest: no best epoch has been recorded yet."));
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, double> GetState() => new Dictionary<string, double> { ["best"] = Best, ["best_epoch"] = BestEpoch };

    /// <inheritdoc/>
    public void SetState(IReadOnlyDictionary<string, double> state)
    {
        CallbackState.ExpectKeys(nameof(KeepBest), state, "best", "best_epoch");
        double best = CallbackState.Best(nameof(KeepBest), state, Monitor);
        int epoch = CallbackState.Integer(nameof(KeepBest), state, "best_epoch", 0, int.MaxValue);
        if ((epoch == 0) != (best == Monitor.Worst()))
            throw new InvalidDataException($"KeepBest: the checkpoint state has best_epoch {epoch} but best {best.ToString(CultureInfo.InvariantCulture)}; both say whether an epoch was recorded.");
        (Best, BestEpoch, BestState) = (best, epoch, null);
    }
}

/// <summary>A callback made of delegates, for one-off hooks (writing metrics.csv, plots, checkpoints).</summary>
public sealed class LambdaCallback(Action<Trainer, EpochMetrics>? onEpochEnd = null, Action<Trainer, bool>? onTrainEnd = null) : ITrainingCallback
{
    /// <inheritdoc/>
    public void OnEpochEnd(Trainer trainer, EpochMetrics metrics) => onEpochEnd?.Invoke(trainer, metrics);

    /// <inheritdoc/>
    public void OnTrainEnd(Trainer trainer, bool cancelled) => onTrainEnd?.Invoke(trainer, cancelled);
}
