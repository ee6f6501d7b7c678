using System.Globalization;

namespace Nabla.NN;

/// <summary>max(0, x): the text's activation layer. It has no parameters. Shape: unchanged.</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Relu();
}

/// <summary>x for x &gt; 0, negative_slope·x otherwise. Shape: unchanged.</summary>
public sealed class LeakyReLU(double negativeSlope = 0.01) : Module
{
    /// <summary>The slope for negative inputs.</summary>
    public double NegativeSlope { get; } = negativeSlope;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.LeakyRelu(NegativeSlope);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"negative_slope={NegativeSlope}");
}

/// <summary>1/(1+e⁻ˣ). Shape: unchanged.</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Sigmoid();
}

/// <summary>tanh x. Shape: unchanged.</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Tanh();
}

/// <summary>x·Φ(x) (approximate: "none" or "tanh"). Shape: unchanged.</summary>
public sealed class GELU(string approximate = "none") : Module
{
    /// <summary>"none" (exact, erf) or "tanh".</summary>
    public string Approximate { get; } = approximate is "none" or "tanh" ? approximate : throw new ArgumentException($"GELU: approximate must be \"none\" or \"tanh\", got \"{approximate}\".");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Gelu(Approximate);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"approximate='{Approximate}'";
}

/// <summary>x·σ(x). Shape: unchanged.</summary>
public sealed class SiLU : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Silu();
}

/// <summary>Softmax along <see cref="Dim"/>. Shape: unchanged.</summary>
public sealed class Softmax(int dim = -1) : Module
{
    /// <summary>The dim that sums to 1.</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Softmax(Dim);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"dim={Dim}");
}

/// <summary>Log-softmax along <see cref="Dim"/>. Shape: unchanged.</summary>
public sealed class LogSoftmax(int dim = -1) : Module
{
    /// <summary>The dim normalised over.</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.LogSoftmax(Dim);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"dim={Dim}");
}

/// <summary>Flattens dims start_dim..end_dim. Shape: (N, C, H, W) → (N, C·H·W) by default.</summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    /// <summary>First dim flattened.</summary>
    public int StartDim { get; } = startDim;

    /// <summary>Last dim flattened.</summary>
    public int EndDim { get; } = endDim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Flatten(StartDim, EndDim);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"start_dim={StartDim}, end_dim={EndDim}");
}
