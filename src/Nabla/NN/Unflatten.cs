namespace Nabla.NN;

/// <summary>Splits dim <see cref="Dim"/> into <see cref="Sizes"/> (the inverse of Flatten). Shape: (N, C·H·W) → (N, C, H, W) for Unflatten(1, [C, H, W]).</summary>
public sealed class Unflatten : Module
{
    /// <summary>Creates the layer; one size may be −1 (inferred).</summary>
    public Unflatten(int dim, int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length == 0) throw new ArgumentException("Unflatten: sizes must not be empty.");
        Dim = dim;
        Sizes = (int[])sizes.Clone();
    }

    /// <summary>The dim that is split.</summary>
    public int Dim { get; }

    /// <summary>The sizes it is split into.</summary>
    public IReadOnlyList<int> Sizes { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        int d = ShapeUtil.Dim("Unflatten", Dim, input.Rank);
        var shape = input.Shape;
        long known = 1;
        int infer = -1;
        for (int i = 0; i < Sizes.Count; i++)
        {
            if (Sizes[i] == -1 && infer < 0) infer = i;
            else if (Sizes[i] < 0) throw new ArgumentException($"Unflatten: invalid sizes [{string.Join(", ", Sizes)}] (at most one −1, others non-negative).");
            else known *= Sizes[i];
        }
        var sizes = Sizes.ToArray();
        if (infer >= 0 && known > 0 && shape[d] % known == 0) sizes[infer] = (int)(shape[d] / known);
        if (sizes.Aggregate(1L, (a, b) => a * b) != shape[d] || sizes.Any(s => s < 0))
            throw new ArgumentException($"Unflatten: dim {Dim} of the input of shape {ShapeUtil.Format(shape)} has size {shape[d]}, which cannot be split into [{string.Join(", ", Sizes)}].");
        var newShape = shape[..d].ToArray().Concat(sizes).Concat(shape[(d + 1)..].ToArray()).ToArray();
        return input.Reshape(newShape);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"dim={Dim}, unflattened_size=({string.Join(", ", Sizes)})";
}
