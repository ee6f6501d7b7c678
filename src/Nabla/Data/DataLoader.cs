namespace Nabla.Data;

/// <summary>Samples held in memory: a float32 feature block (one row per sample) and an integer label per sample.</summary>
public sealed class TensorDataset
{
    /// <summary>Creates a dataset of <paramref name="labels"/>.Length samples whose features have shape <paramref name="sampleShape"/>.</summary>
    public TensorDataset(float[] features, int[] labels, params int[] sampleShape)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        SampleShape = sampleShape.Length == 0 ? [features.Length / Math.Max(labels.Length, 1)] : (int[])sampleShape.Clone();
        SampleSize = ShapeUtil.Numel(SampleShape);
        if ((long)SampleSize * labels.Length != features.Length)
            throw new ArgumentException($"TensorDataset: {labels.Length} samples of shape {ShapeUtil.Format(SampleShape)} need {(long)SampleSize * labels.Length} values, got {features.Length}.");
        Features = features;
        Labels = labels;
    }

    /// <summary>All features, sample after sample.</summary>
    public float[] Features { get; }

    /// <summary>The label of each sample.</summary>
    public int[] Labels { get; }

    /// <summary>The shape of one sample.</summary>
    public int[] SampleShape { get; }

    /// <summary>Values per sample.</summary>
    public int SampleSize { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Labels.Length;
}

/// <summary>A per-sample augmentation: rewrites one sample's values in place, drawing randomness from the generator.</summary>
public delegate void SampleTransform(Span<float> sample, Generator generator);

/// <summary>
/// Batches a <see cref="TensorDataset"/>: shuffles with its own seeded generator each epoch (so a seed gives the same
/// order on every machine), applies an optional per-sample transform, and yields (inputs, targets).
/// Shape: inputs (B, *sample_shape), targets (B) of class indices.
/// </summary>
public sealed class DataLoader
{
    private readonly TensorDataset _dataset;
    private readonly SampleTransform? _transform;

    /// <summary>Creates a loader.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">Visit the samples in a fresh random order each epoch.</param>
    /// <param name="seed">The seed of <see cref="Generator"/> (shuffling and transforms).</param>
    /// <param name="dropLast">Skip a last, smaller batch.</param>
    /// <param name="transform">A per-sample augmentation, or null.</param>
    /// <param name="sampler">Visit only one rank's share of the samples, in the sampler's order (data-parallel training); then <paramref name="shuffle"/> must be false, the sampler shuffles.</param>
    public DataLoader(TensorDataset dataset, int batchSize, bool shuffle = false, ulong seed = 0, bool dropLast = false, SampleTransform? transform = null,
        DistributedSampler? sampler = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (sampler is not null && shuffle) throw new ArgumentException("DataLoader: shuffle and a sampler exclude each other (the sampler shuffles); pass shuffle: false.", nameof(shuffle));
        if (sampler is not null && sampler.DatasetSize != dataset.Count)
            throw new ArgumentException($"DataLoader: the sampler is for {sampler.DatasetSize} samples, the dataset has {dataset.Count}.", nameof(sampler));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"DataLoader: batch size must be positive, got {batchSize}.");
        if (dataset.Count == 0) throw new ArgumentException("DataLoader: the dataset is empty.");
        _dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        _transform = transform;
        Sampler = sampler;
        Generator = new Generator(seed);
    }

    /// <summary>The distributed sampler that picks this rank's samples, or null (every sample).</summary>
    public DistributedSampler? Sampler { get; }

    // samples per epoch: this rank's share with a sampler
    private int Count => Sampler?.NumSamples ?? _dataset.Count;

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a fresh random order.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether a last, smaller batch is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>The generator behind shuffling and transforms (its state can be saved to resume a run).</summary>
    public Generator Generator { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => DropLast ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;

    /// <summary>One epoch of batches.</summary>
    public IEnumerable<(Tensor Inputs, Tensor Targets)> Epoch()
    {
        var order = Sampler?.Indices() ?? Enumerable.Range(0, _dataset.Count).ToArray();
        if (Shuffle) Generator.Shuffle<int>(order);
        int size = _dataset.SampleSize;
        for (int b = 0; b < BatchCount; b++)
        {
            int start = b * BatchSize, count = Math.Min(BatchSize, order.Length - start);
            var x = new float[count * size];
            var y = new float[count];
            for (int i = 0; i < count; i++)
            {
                int s = order[start + i];
                var dst = x.AsSpan(i * size, size);
                _dataset.Features.AsSpan(s * size, size).CopyTo(dst);
                _transform?.Invoke(dst, Generator);
                y[i] = _dataset.Labels[s];
            }
            yield return (Tensor.FromArray(x, [count, .. _dataset.SampleShape]), Tensor.FromArray(y, count));
        }
    }
}
