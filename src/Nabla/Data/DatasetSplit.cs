namespace Nabla.Data;

/// <summary>Subsets and seeded train/validation splits of a <see cref="TensorDataset"/>.</summary>
public static class DatasetSplit
{
    /// <summary>The samples at <paramref name="indices"/>, in that order, copied into a new dataset.</summary>
    public static TensorDataset Subset(this TensorDataset dataset, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(indices);
        int size = dataset.SampleSize;
        var x = new float[(long)indices.Count * size];
        var y = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int s = indices[i];
            if ((uint)s >= (uint)dataset.Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Subset: index {s} is outside the dataset's {dataset.Count} samples.");
            dataset.Features.AsSpan(s * size, size).CopyTo(x.AsSpan(i * size, size));
            y[i] = dataset.Labels[s];
        }
        return new TensorDataset(x, y, dataset.SampleShape);
    }

    /// <summary>
    /// Splits off round(<paramref name="validationFraction"/>·N) samples for validation, chosen by a permutation drawn
    /// from a generator seeded with <paramref name="seed"/> (its own, so the split is fixed for a seed whatever else
    /// draws random numbers). Both parts keep the original order of their samples.
    /// </summary>
    public static (TensorDataset Train, TensorDataset Validation) RandomSplit(this TensorDataset dataset, double validationFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"RandomSplit: the validation fraction must be in (0, 1), got {validationFraction}.");
        int nVal = (int)Math.Round(validationFraction * dataset.Count);
        if (nVal == 0 || nVal == dataset.Count)
            throw new ArgumentException($"RandomSplit: a fraction of {validationFraction} of {dataset.Count} samples leaves {nVal} for validation and {dataset.Count - nVal} for training; both need at least one.");
        var order = Enumerable.Range(0, dataset.Count).ToArray();
        new Generator(seed).Shuffle<int>(order);
        var val = order[..nVal];
        var train = order[nVal..];
        Array.Sort(val);
        Array.Sort(train);
        return (dataset.Subset(train), dataset.Subset(val));
    }
}
