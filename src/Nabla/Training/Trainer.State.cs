using Nabla.IO;

namespace Nabla.Training;

public sealed partial class Trainer
{
    /// <summary>The name under which the training loader's generator is saved (not available for <see cref="Generators"/>).</summary>
    public const string LoaderGenerator = "loader";

    /// <summary>
    /// Captures the state that decides the rest of the run: model and optimizer tensors, epoch, step, the position
    /// inside an interrupted epoch, the training loader's generator (as it was at the start of the epoch in progress),
    /// the <see cref="Generators"/>, the scheduler, the callbacks' counters and the metrics history.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="Generators"/> uses the reserved name <see cref="LoaderGenerator"/>.</exception>
    public TrainingCheckpoint CaptureState()
    {
        if (Generators.ContainsKey(LoaderGenerator)) throw new InvalidOperationException($"Trainer: the generator name '{LoaderGenerator}' is reserved for the training loader's.");
        var c = TrainingCheckpoint.Capture(Model, Optimizer, Scheduler, Epoch, Step, Generators.ToDictionary());
        c.Batch = _batchInEpoch;
        if (_batchInEpoch > 0) c.Partial = _partial;
        var loaderState = _batchInEpoch > 0 ? _epochLoaderState : _trainLoader?.Generator.GetState() ?? _pendingLoaderState;
        if (loaderState is not null) c.Generators[LoaderGenerator] = loaderState;
        for (int i = 0; i < Callbacks.Count; i++)
            if (Callbacks[i].GetState() is { } cs) c.Callbacks[i] = new Dictionary<string, double>(cs, StringComparer.Ordinal);
        c.History = [.. History];
        return c;
    }

    /// <summary>
    /// Restores a state from <see cref="CaptureState"/> into this trainer, whose model, optimizer, schedule,
    /// callbacks and generators must be set up as for the original run. The next <see cref="Fit"/> continues where
    /// the captured run was (at the start of the next epoch, or inside the interrupted one).
    /// </summary>
    /// <exception cref="InvalidDataException">The state lacks a part this trainer needs (history, a generator, a callback's state) or a callback's state is out of range.</exception>
    /// <exception cref="ArgumentException">It was written by another optimizer, or its tensors do not fit the model, the optimizer or the scheduler.</exception>
    public void RestoreState(TrainingCheckpoint state)
    {
        ArgumentNullException.ThrowIfNull(state);
        string what = state.Source is null ? "training checkpoint" : $"training checkpoint '{state.Source}'";
        InvalidDataException Bad(string why) => new($"{what}: {why}.");
        if (state.OptimizerName is null) throw Bad("it holds no optimizer state, so it was not written by a Trainer");
        if (state.OptimizerName != Optimizer.Name)
            throw new ArgumentException($"{what}: it was written by a {Untrusted.Quote(state.OptimizerName)} optimizer, this run uses {Optimizer.Name}.");
        if (state.History is null) throw Bad("it holds no metrics history ('nabla.history'), so it was not written by a Trainer");
        if (!state.Generators.TryGetValue(LoaderGenerator, out var loader)) throw Bad($"it holds no generator state '{LoaderGenerator}' (the training loader's)");
        foreach (var name in state.Generators.Keys)
            if (name != LoaderGenerator && !Generators.ContainsKey(name))
                throw Bad($"it holds a generator {Untrusted.Quote(name)} this trainer does not have (it has: {string.Join(", ", Generators.Keys.Prepend(LoaderGenerator))})");
        if (Scheduler is null && state.Scheduler.Count > 0) throw Bad("it holds a scheduler state but this trainer has no scheduler");
        for (int i = 0; i < Callbacks.Count; i++)
        {
            bool stateful = Callbacks[i].GetState() is not null;
            if (stateful != state.Callbacks.ContainsKey(i))
                throw Bad($"it holds {(stateful ? "no" : "a")} state for callback {i} ({Callbacks[i].GetType().Name}), which {(stateful ? "needs one" : "keeps none")}");
        }
        if (state.Callbacks.Count > 0 && state.Callbacks.Keys.Max() >= Callbacks.Count)
            throw Bad($"it holds state for callback {state.Callbacks.Keys.Max()} but this trainer has {Callbacks.Count} callback(s)");
        try
        {
            state.Restore(Model, Optimizer, Scheduler, Generators.ToDictionary());
            foreach (var (i, cs) in state.Callbacks) Callbacks[i].SetState(cs);
        }
        catch (ArgumentException e) when (e.Message.StartsWith(RestorePrefix, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{what}:{e.Message[RestorePrefix.Length..]}", e);
        }
        catch (ArgumentException e)
        {
            // the model's and optimizer's messages list every key of the file that does not fit: keep them bounded
            throw new ArgumentException($"{what}: {Untrusted.Excerpt(e.Message, 400)}", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{what}: {e.Message}", e);
        }
        Epoch = state.Epoch;
        Step = state.Step;
        _batchInEpoch = state.Batch;
        _partial = state.Partial;
        _pendingLoaderState = loader;
        _epochLoaderState = _batchInEpoch > 0 ? loader : null;
        History.Clear();
        History.AddRange(state.History);
        StopRequested = false;
        StopReason = null;
    }

    private const string RestorePrefix = "TrainingCheckpoint.Restore:";

    /// <summary>
    /// Writes <see cref="CaptureState"/> to <paramref name="path"/> as one safetensors file, atomically (a crash
    /// leaves the previous checkpoint intact).
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        CaptureState().Save(path);
    }

    /// <summary>Reads a checkpoint written by <see cref="SaveCheckpoint"/> (<see cref="TrainingCheckpoint.Load"/>) and restores it (<see cref="RestoreState"/>).</summary>
    /// <returns>The checkpoint read (its user metadata, the position it restored).</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid training checkpoint, or it does not fit this trainer (the message names the file).</exception>
    /// <exception cref="ArgumentException">Its tensors do not fit the model, the optimizer or the scheduler (the message names the file).</exception>
    public TrainingCheckpoint LoadCheckpoint(string path)
    {
        var state = TrainingCheckpoint.Load(path);
        RestoreState(state);
        return state;
    }
}
