using System.Globalization;

namespace Nabla.NN;

/// <summary>x for x &gt; 0, α·(eˣ − 1) otherwise (torch.nn.ELU). Shape: unchanged.</summary>
public sealed class ELU(double alpha = 1.0) : Module
{
    /// <summary>The saturation value for negative inputs (−α).</summary>
    public double Alpha { get; } = alpha;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Elu(Alpha);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"alpha={PyRepr.Float(Alpha)}";
}

/// <summary>scale·ELU(x, α) with PyTorch's fixed constants (torch.nn.SELU). Shape: unchanged.</summary>
public sealed class SELU : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Selu();
}

/// <summary>max(0, x) + min(0, α·(e^(x/α) − 1)) (torch.nn.CELU). Shape: unchanged.</summary>
public sealed class CELU(double alpha = 1.0) : Module
{
    /// <summary>α (not 0).</summary>
    public double Alpha { get; } = alpha != 0 ? alpha : throw new ArgumentOutOfRangeException(nameof(alpha), "CELU: alpha must not be 0.");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Celu(Alpha);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"alpha={PyRepr.Float(Alpha)}";
}

/// <summary>log(1 + e^(βx))/β, linear where βx &gt; threshold (torch.nn.Softplus). Shape: unchanged.</summary>
public sealed class Softplus(double beta = 1.0, double threshold = 20.0) : Module
{
    /// <summary>β.</summary>
    public double Beta { get; } = beta != 0 ? beta : throw new ArgumentOutOfRangeException(nameof(beta), "Softplus: beta must be non-zero.");

    /// <summary>Above this βx the function is x itself.</summary>
    public double Threshold { get; } = threshold;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Softplus(Beta, Threshold);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"beta={PyRepr.Float(Beta)}, threshold={PyRepr.Float(Threshold)}";
}

/// <summary>x·tanh(softplus(x)) (torch.nn.Mish). Shape: unchanged.</summary>
public sealed class Mish : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Mish();
}

/// <summary>x clamped to [min_val, max_val] (torch.nn.Hardtanh). Shape: unchanged.</summary>
public sealed class Hardtanh(double minVal = -1.0, double maxVal = 1.0) : Module
{
    /// <summary>The lower bound.</summary>
    public double MinVal { get; } = minVal <= maxVal ? minVal : throw new ArgumentException($"Hardtanh: min_val ({minVal}) must not be greater than max_val ({maxVal}).");

    /// <summary>The upper bound.</summary>
    public double MaxVal { get; } = maxVal;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Hardtanh(MinVal, MaxVal);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"min_val={PyRepr.Float(MinVal)}, max_val={PyRepr.Float(MaxVal)}";
}

/// <summary>x·relu6(x + 3)/6 (torch.nn.Hardswish). Shape: unchanged.</summary>
public sealed class Hardswish : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Hardswish();
}

/// <summary>relu6(x + 3)/6 (torch.nn.Hardsigmoid). Shape: unchanged.</summary>
public sealed class Hardsigmoid : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Hardsigmoid();
}

/// <summary>x/(1 + |x|) (torch.nn.Softsign). Shape: unchanged.</summary>
public sealed class Softsign : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Softsign();
}

/// <summary>Gated linear unit a·σ(b) over the halves of <see cref="Dim"/> (torch.nn.GLU). Shape: (*, 2k, *) → (*, k, *).</summary>
public sealed class GLU(int dim = -1) : Module
{
    /// <summary>The dim split in half.</summary>
    public int Dim { get; } = dim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Glu(Dim);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"dim={Dim}");
}

/// <summary>
/// x for x &gt; 0, a·x otherwise with a learned slope a (torch.nn.PReLU): one shared slope, or one per channel
/// (dim 1) when <c>numParameters</c> = C. Parameter "weight", initialised to <c>init</c>. Shape: (N, C, *) → unchanged.
/// </summary>
public sealed class PReLU : Module
{
    /// <summary>Creates the layer with <paramref name="numParameters"/> slopes (1, or the input's channel count) set to <paramref name="init"/>.</summary>
    public PReLU(int numParameters = 1, double init = 0.25, DType dtype = DType.Float32)
    {
        if (numParameters < 1) throw new ArgumentOutOfRangeException(nameof(numParameters), $"PReLU: num_parameters must be ≥ 1, got {numParameters}.");
        NumParameters = numParameters;
        Weight = RegisterParameter("weight", new Parameter(Tensor.Full([numParameters], init, dtype)))!;
    }

    /// <summary>The number of slopes.</summary>
    public int NumParameters { get; }

    /// <summary>The slopes. Shape: (num_parameters).</summary>
    public Parameter Weight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.Prelu(Weight);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"num_parameters={NumParameters}");
}

/// <summary>Python's repr of a float (1.0, not 1) for <c>ExtraRepr</c>.</summary>
internal static class PyRepr
{
    public static string Float(double v)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        string s = v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
        return s.Contains('.', StringComparison.Ordinal) || s.Contains('e', StringComparison.Ordinal) ? s : s + ".0";
    }
}
