using Nabla.Data;
using Nabla.IO.TensorBoard;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>`nabla train --tensorboard DIR`: a <see cref="TensorBoardLogger"/> on the run, drawing its predictions on the first 16 held-out images.</summary>
internal static class TensorBoardRun
{
    public const int Samples = 16;

    /// <summary>Adds the logger before the callback that writes the checkpoint (the last one); the writer is the caller's to dispose.</summary>
    public static SummaryWriter Attach(Trainer trainer, string dir, TensorDataset heldOut, int rows, int cols, int batchesPerEpoch)
    {
        var writer = Open(dir);
        // about ten batch-level points an epoch
        var logger = new TensorBoardLogger(writer, logEverySteps: Math.Max(1, batchesPerEpoch / 10));
        int k = Math.Min(Samples, heldOut.Count);
        logger.SetSamples(Tensor.FromArray(heldOut.Features[..(k * heldOut.SampleSize)], [k, .. heldOut.SampleShape]),
            Tensor.FromArray(heldOut.Labels[..k].Select(l => (float)l).ToArray(), k), rows, cols);
        trainer.Callbacks.Insert(Math.Max(0, trainer.Callbacks.Count - 1), logger);
        return writer;
    }

    /// <summary>A new event file in <paramref name="dir"/>, or one clear error line.</summary>
    public static SummaryWriter Open(string dir)
    {
        try { return new SummaryWriter(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"nabla train: cannot write TensorBoard events in '{dir}': {e.Message}");
        }
    }
}
