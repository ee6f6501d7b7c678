using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// Inverted dropout as torch.nn.Dropout: in training mode each element is zeroed with probability p and the rest
/// scaled by 1/(1 − p); in evaluation mode the identity. Shape: unchanged.
/// </summary>
public sealed class Dropout(double p = 0.5, Generator? generator = null) : Module
{
    /// <summary>The drop probability.</summary>
    public double P { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: p must be in [0, 1], got {p}.");

    /// <summary>Where the masks come from (default: <see cref="Generator.Default"/>).</summary>
    public Generator Generator { get; } = generator ?? Generator.Default;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Dropout(P, Training, Generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"p={P}");
}

/// <summary>
/// Channel dropout as torch.nn.Dropout2d: in training mode each whole channel is zeroed with probability p and the
/// rest scaled by 1/(1 − p); in evaluation mode the identity. Shape: (N, C, H, W) or (C, H, W), unchanged.
/// </summary>
public sealed class Dropout2d(double p = 0.5, Generator? generator = null) : Module
{
    /// <summary>The drop probability.</summary>
    public double P { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), $"Dropout2d: p must be in [0, 1], got {p}.");

    /// <summary>Where the masks come from (default: <see cref="Generator.Default"/>).</summary>
    public Generator Generator { get; } = generator ?? Generator.Default;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Dropout2d(P, Training, Generator);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"p={P}");
}
