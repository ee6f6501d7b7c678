using Nabla.IO.TensorBoard;

namespace Nabla.Training;

/// <summary>
/// Logs a <see cref="Trainer"/> run to a TensorBoard <see cref="SummaryWriter"/>. After each epoch (step = the epoch):
/// scalars <c>loss/train</c>, <c>accuracy/train</c>, <c>loss/validation</c> and <c>accuracy/validation</c> (when
/// there is a validation set), <c>lr</c>; histograms <c>weights/NAME</c> and <c>gradients/NAME</c> for every
/// parameter (the gradients of the epoch's last batch); and, when <see cref="SetSamples"/> gave some, the image
/// <c>predictions</c>: a grid of the samples, each with its predicted class under it, green when right, red when
/// wrong followed by the true class in grey. Every <see cref="LogEverySteps"/> optimizer steps (step = the run's
/// step): <c>batch/loss</c> and <c>batch/lr</c>. The writer is the caller's to dispose.
/// </summary>
public sealed class TensorBoardLogger : ITrainingCallback
{
    private Tensor? _samples, _targets;
    private int _height, _width;

    /// <summary>Creates the callback.</summary>
    /// <param name="writer">Where the events go.</param>
    /// <param name="logEverySteps">Also log the batch loss and learning rate every this many steps (0: per epoch only).</param>
    public TensorBoardLogger(SummaryWriter writer, int logEverySteps = 0)
    {
        Writer = writer ?? throw new ArgumentNullException(nameof(writer));
        if (logEverySteps < 0) throw new ArgumentOutOfRangeException(nameof(logEverySteps), $"TensorBoardLogger: logEverySteps must be ≥ 0, got {logEverySteps}.");
        LogEverySteps = logEverySteps;
    }

    /// <summary>The event writer.</summary>
    public SummaryWriter Writer { get; }

    /// <summary>Steps between batch-level scalars (0: none).</summary>
    public int LogEverySteps { get; }

    /// <summary>Whether to write weight and gradient histograms (default true).</summary>
    public bool Histograms { get; set; } = true;

    /// <summary>
    /// Samples whose predictions are drawn after each epoch: <paramref name="inputs"/> as the model takes them, each
    /// drawn as a <paramref name="height"/> x <paramref name="width"/> grey image (its own minimum black, maximum white).
    /// Shape: inputs (N, ...) with height·width elements per sample, targets (N).
    /// </summary>
    /// <exception cref="ArgumentException">The sizes disagree.</exception>
    public void SetSamples(Tensor inputs, Tensor targets, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        int n = inputs.Size(0);
        if (n < 1 || targets.Rank != 1 || targets.Size(0) != n || height < 1 || width < 1 || inputs.Numel != (long)n * height * width)
            throw new ArgumentException($"TensorBoardLogger.SetSamples: expected inputs of N samples of {height}x{width} elements and N targets, got inputs {ShapeUtil.Format(inputs.Shape)} and targets {ShapeUtil.Format(targets.Shape)}.");
        (_samples, _targets, _height, _width) = (inputs, targets, height, width);
    }

    /// <inheritdoc/>
    public void OnBatchEnd(Trainer trainer, double loss)
    {
        if (LogEverySteps == 0 || trainer.Step % LogEverySteps != 0) return;
        Writer.AddScalar("batch/loss", loss, trainer.Step);
        Writer.AddScalar("batch/lr", trainer.Optimizer.LearningRate, trainer.Step);
    }

    /// <inheritdoc/>
    public void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        int epoch = metrics.Epoch;
        Writer.AddScalar("loss/train", metrics.TrainLoss, epoch);
        Writer.AddScalar("accuracy/train", metrics.TrainAccuracy, epoch);
        if (!double.IsNaN(metrics.ValLoss))
        {
            Writer.AddScalar("loss/validation", metrics.ValLoss, epoch);
            Writer.AddScalar("accuracy/validation", metrics.ValAccuracy, epoch);
        }
        Writer.AddScalar("lr", metrics.LearningRate, epoch);
        if (Histograms)
            foreach (var (name, p) in trainer.Model.NamedParameters())
            {
                Writer.AddHistogram("weights/" + name, p, epoch);
                if (p.GradInternal is { } g) Writer.AddHistogram("gradients/" + name, g, epoch);
            }
        if (_samples is not null)
        {
            var grid = PredictionGrid.Draw(trainer.Model, _samples, _targets!, _height, _width, out int h, out int w);
            Writer.AddImage("predictions", grid, h, w, epoch);
        }
        Writer.Flush();
    }

    /// <inheritdoc/>
    public void OnTrainEnd(Trainer trainer, bool cancelled) => Writer.Flush();
}
