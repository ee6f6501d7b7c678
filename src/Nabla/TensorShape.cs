using System.Collections;

namespace Nabla;

/// <summary>
/// The sizes of a tensor's dimensions (PyTorch's torch.Size): an immutable list of ints that can be kept, captured in
/// lambdas and used with LINQ, and that converts implicitly to <see cref="ReadOnlySpan{T}"/> of int. Two shapes are
/// equal when their sizes are. Shape: (d₀, …, dₙ₋₁); a 0-d tensor's shape is empty.
/// </summary>
public readonly struct TensorShape : IReadOnlyList<int>, IEquatable<TensorShape>
{
    // never written after the tensor is made (tensors are immutable in shape); null for default(TensorShape)
    private readonly int[]? _sizes;

    internal TensorShape(int[] sizes) => _sizes = sizes;

    /// <summary>A shape with the given sizes (copied).</summary>
    public TensorShape(ReadOnlySpan<int> sizes) => _sizes = sizes.ToArray();

    private int[] Sizes => _sizes ?? [];

    /// <summary>The number of dimensions.</summary>
    public int Length => Sizes.Length;

    /// <summary>The number of dimensions (for <see cref="IReadOnlyCollection{T}"/>).</summary>
    public int Count => Sizes.Length;

    /// <summary>The size of dimension <paramref name="index"/> (use ^1 for the last).</summary>
    public int this[int index] => Sizes[index];

    /// <summary>The product of the sizes (1 for a 0-d shape), as torch.Size.numel().</summary>
    public int Numel() => ShapeUtil.Numel(Sizes);

    /// <summary>The sizes from <paramref name="start"/>, <paramref name="length"/> of them (this makes <c>shape[1..]</c> work).</summary>
    public ReadOnlySpan<int> Slice(int start, int length) => Sizes.AsSpan(start, length);

    /// <summary>A copy of the sizes.</summary>
    public int[] ToArray() => (int[])Sizes.Clone();

    /// <summary>The sizes as a span.</summary>
    public ReadOnlySpan<int> AsSpan() => Sizes;

    /// <summary>The sizes as a span.</summary>
    public static implicit operator ReadOnlySpan<int>(TensorShape shape) => shape.Sizes;

    /// <summary>Enumerates the sizes.</summary>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Sizes).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>True when both shapes have the same sizes.</summary>
    public bool Equals(TensorShape other) => Sizes.AsSpan().SequenceEqual(other.Sizes);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TensorShape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Sizes) h.Add(d);
        return h.ToHashCode();
    }

    /// <summary>True when both shapes have the same sizes.</summary>
    public static bool operator ==(TensorShape a, TensorShape b) => a.Equals(b);

    /// <summary>True when the shapes differ.</summary>
    public static bool operator !=(TensorShape a, TensorShape b) => !a.Equals(b);

    /// <summary>The sizes as <c>[2, 3]</c>.</summary>
    public override string ToString() => ShapeUtil.Format(Sizes);
}
