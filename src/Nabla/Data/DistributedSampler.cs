namespace Nabla.Data;

/// <summary>
/// Which samples one rank of a data-parallel run visits in an epoch, as PyTorch's <c>DistributedSampler</c>: the
/// dataset's indices, shuffled with a generator seeded by <c>seed + epoch</c> (the same order on every rank), padded by
/// repeating the first indices to ⌈n / world⌉ · world (or cut to ⌊n / world⌋ · world with <c>dropLast</c>), and rank
/// r takes positions r, r + world, r + 2·world, … Call <see cref="SetEpoch"/> before each epoch
/// (<see cref="Training.Trainer"/> does) so every epoch gets a fresh order.
/// </summary>
public sealed class DistributedSampler
{
    /// <summary>Creates the sampler of rank <paramref name="rank"/> of <paramref name="numReplicas"/> over <paramref name="datasetSize"/> samples.</summary>
    public DistributedSampler(int datasetSize, int numReplicas, int rank, bool shuffle = true, ulong seed = 0, bool dropLast = false)
    {
        if (datasetSize <= 0) throw new ArgumentOutOfRangeException(nameof(datasetSize), $"DistributedSampler: the dataset size must be positive, got {datasetSize}.");
        if (numReplicas <= 0) throw new ArgumentOutOfRangeException(nameof(numReplicas), $"DistributedSampler: num_replicas must be positive, got {numReplicas}.");
        if ((uint)rank >= (uint)numReplicas) throw new ArgumentOutOfRangeException(nameof(rank), $"DistributedSampler: rank must be in [0, {numReplicas - 1}], got {rank}.");
        if (dropLast && datasetSize < numReplicas)
            throw new ArgumentException($"DistributedSampler: with dropLast, {datasetSize} samples leave nothing for each of {numReplicas} ranks.", nameof(dropLast));
        DatasetSize = datasetSize;
        NumReplicas = numReplicas;
        Rank = rank;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        NumSamples = dropLast ? datasetSize / numReplicas : (datasetSize + numReplicas - 1) / numReplicas;
    }

    /// <summary>Samples in the dataset.</summary>
    public int DatasetSize { get; }

    /// <summary>The number of ranks (world size).</summary>
    public int NumReplicas { get; }

    /// <summary>This rank.</summary>
    public int Rank { get; }

    /// <summary>Whether each epoch has a fresh seeded order.</summary>
    public bool Shuffle { get; }

    /// <summary>The seed every rank shares.</summary>
    public ulong Seed { get; }

    /// <summary>Whether the tail that does not divide evenly is cut (otherwise the first indices are repeated).</summary>
    public bool DropLast { get; }

    /// <summary>The epoch whose order <see cref="Indices"/> returns (from 0).</summary>
    public int Epoch { get; private set; }

    /// <summary>Samples this rank visits per epoch.</summary>
    public int NumSamples { get; }

    /// <summary>Samples all ranks visit together per epoch.</summary>
    public int TotalSize => NumSamples * NumReplicas;

    /// <summary>Chooses the epoch (from 0) whose order the next <see cref="Indices"/> returns.</summary>
    public void SetEpoch(int epoch)
    {
        if (epoch < 0) throw new ArgumentOutOfRangeException(nameof(epoch), $"DistributedSampler.SetEpoch: the epoch must be ≥ 0, got {epoch}.");
        Epoch = epoch;
    }

    /// <summary>This rank's dataset indices for the current epoch, in order.</summary>
    public int[] Indices()
    {
        var all = Enumerable.Range(0, DatasetSize).ToArray();
        if (Shuffle) new Generator(Seed + (ulong)Epoch).Shuffle<int>(all);
        var mine = new int[NumSamples];
        // position k of the padded list is all[k % n]: the first indices repeat
        for (int i = 0; i < NumSamples; i++) mine[i] = all[(Rank + i * NumReplicas) % DatasetSize];
        return mine;
    }
}
