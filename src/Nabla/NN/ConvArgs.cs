using System.Globalization;

namespace Nabla.NN;

/// <summary>A (height, width) pair for kernel sizes, strides and dilations; an int means the same value for both.</summary>
public readonly record struct Size2(int H, int W)
{
    /// <summary>The same value for height and width.</summary>
    public static implicit operator Size2(int v) => new(v, v);

    /// <summary>(height, width).</summary>
    public static implicit operator Size2((int H, int W) v) => new(v.H, v.W);

    internal (int H, int W) Tuple => (H, W);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({H}, {W})");
}

/// <summary>A convolution's padding: an int, a (height, width) pair, "valid" (none) or "same" (output size = input size).</summary>
public readonly record struct ConvPadding(int H, int W, string? Mode)
{
    /// <summary>The same padding on every side.</summary>
    public static implicit operator ConvPadding(int v) => new(v, v, null);

    /// <summary>(height, width) padding.</summary>
    public static implicit operator ConvPadding((int H, int W) v) => new(v.H, v.W, null);

    /// <summary>"valid" or "same".</summary>
    public static implicit operator ConvPadding(string mode) => new(0, 0, mode);

    /// <inheritdoc/>
    public override string ToString() => Mode is not null ? $"'{Mode}'" : string.Create(CultureInfo.InvariantCulture, $"({H}, {W})");
}
