using Nabla.Kernels;
using Nabla.NN;

namespace Nabla.Cli;

/// <summary>How the CLI scores a model: an evaluation batch size chosen by memory, and a check of the weights it loads.</summary>
internal static class Evaluate
{
    /// <summary>
    /// What one evaluation batch may allocate: half a gen0 budget (Gen0Size, 128 MB), so its activations stay far below
    /// a 32 MB GC region and never land on the LOH, which only a full collection frees. Batches of 1,000 through the
    /// cnn made 100-200 MB activations: `eval` peaked at 2.4 GB RSS and training at 3.1 GB; with this, 330 and 450 MB.
    /// </summary>
    public const long BatchBudgetBytes = 64L << 20;

    /// <summary>Largest evaluation batch: bigger ones are not faster.</summary>
    public const int MaxBatch = 1000;

    /// <summary>
    /// The evaluation batch size of <paramref name="model"/>: <see cref="BatchBudgetBytes"/> over what a no-grad forward
    /// pass allocates per sample (rounded up to a power of two), between 1 and <see cref="MaxBatch"/>. Measured on one
    /// thread, the second of two passes (scratch buffers grown, types loaded), so the answer is the same on every run:
    /// a resumed run scores its validation set with the same batches.
    /// </summary>
    public static int BatchSize(Module model, int[] sampleShape)
    {
        const int probe = 8;
        bool training = model.Training;
        int threads = Threading.MaxThreads;
        Threading.MaxThreads = 1;
        model.Eval();
        long bytes = 0;
        try
        {
            using (Tensor.NoGrad())
            {
                var x = Tensor.Zeros([probe, .. sampleShape]);
                for (int pass = 0; pass < 2; pass++)
                {
                    // arrays the forward rents from the pool count too: a Sequential under no-grad hands its
                    // activations back for the next layer, so the second pass allocates almost nothing new
                    long before = GC.GetAllocatedBytesForCurrentThread() + StoragePool.RentedBytesOnThisThread;
                    model.Forward(x);
                    bytes = GC.GetAllocatedBytesForCurrentThread() + StoragePool.RentedBytesOnThisThread - before;
                }
            }
        }
        finally
        {
            Threading.MaxThreads = threads;
            model.Train(training);
        }
        long perSample = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Max(1, bytes / probe));
        return (int)Math.Clamp(BatchBudgetBytes / perSample, 1, MaxBatch);
    }
}
