namespace Nabla.Training;

/// <summary>One row of a run's metrics: the averages of an epoch (validation values are NaN without a validation set).</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch's samples (with the weights as they were at each step).</param>
/// <param name="TrainAccuracy">Fraction of training samples classified correctly during the epoch.</param>
/// <param name="ValLoss">Mean validation loss after the epoch, in evaluation mode.</param>
/// <param name="ValAccuracy">Fraction of validation samples classified correctly after the epoch.</param>
/// <param name="LearningRate">The learning rate of the epoch's last step.</param>
/// <param name="Seconds">Wall-clock seconds of the epoch (training and validation).</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double ValLoss, double ValAccuracy, double LearningRate, double Seconds);

/// <summary>Where a training run is, after each batch: what a progress display shows.</summary>
/// <param name="Epoch">The current epoch, from 1.</param>
/// <param name="Epochs">The last epoch of the run.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches per epoch.</param>
/// <param name="Loss">Mean training loss so far in this epoch.</param>
/// <param name="Accuracy">Training accuracy so far in this epoch.</param>
/// <param name="LearningRate">The learning rate of the last step.</param>
/// <param name="SamplesPerSecond">Training throughput so far in this epoch.</param>
/// <param name="Eta">Estimated time left in the run (training batches only).</param>
public readonly record struct BatchProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy, double LearningRate, double SamplesPerSecond, TimeSpan Eta);

/// <summary>Receives a run's progress (a console display, a log, a test). Every method is optional.</summary>
public interface ITrainingProgress
{
    /// <summary>An epoch starts.</summary>
    void OnEpochStart(int epoch, int epochs, int batches) { }

    /// <summary>A training batch finished (its optimizer step is done).</summary>
    void OnBatchEnd(in BatchProgress progress) { }

    /// <summary>An epoch finished, validation included.</summary>
    void OnEpochEnd(EpochMetrics metrics) { }

    /// <summary>Training stopped early (early stopping or cancellation) with a reason.</summary>
    void OnStopped(string reason) { }
}

/// <summary>Hooks into a <see cref="Trainer"/> run: early stopping, keeping the best weights, writing checkpoints.</summary>
public interface ITrainingCallback
{
    /// <summary>
    /// When <see cref="Trainer.Fit"/> starts (also after a resume, with the callback's restored state): set
    /// <see cref="Trainer.StopRequested"/> if the run already ended (an early stop saved in the checkpoint).
    /// </summary>
    void OnTrainBegin(Trainer trainer) { }

    /// <summary>
    /// After each training step of <see cref="Trainer.Fit"/> (<see cref="Trainer.Step"/> counts it; the parameters'
    /// gradients are the batch's), with the batch's loss.
    /// </summary>
    void OnBatchEnd(Trainer trainer, double loss) { }

    /// <summary>After each epoch (metrics known, schedule stepped); set <see cref="Trainer.StopRequested"/> to end the run.</summary>
    void OnEpochEnd(Trainer trainer, EpochMetrics metrics) { }

    /// <summary>After the last epoch, after early stopping, or after a cancelled batch (<paramref name="cancelled"/> true).</summary>
    void OnTrainEnd(Trainer trainer, bool cancelled) { }

    /// <summary>The callback's state for a checkpoint (counters, best values), as numbers by name; null when stateless.</summary>
    IReadOnlyDictionary<string, double>? GetState() => null;

    /// <summary>Restores what <see cref="GetState"/> returned (read from a checkpoint: throw <see cref="InvalidDataException"/> naming the key when one is missing, unknown or out of range).</summary>
    void SetState(IReadOnlyDictionary<string, double> state) { }
}

/// <summary>When the <see cref="Trainer"/> steps its <see cref="Trainer.Scheduler"/>.</summary>
public enum ScheduleInterval
{
    /// <summary>After every epoch (StepLR, MultiStepLR, ExponentialLR, epoch-based cosine).</summary>
    Epoch,

    /// <summary>After every optimizer step (OneCycleLR, per-step cosine and warm-up).</summary>
    Batch,
}
