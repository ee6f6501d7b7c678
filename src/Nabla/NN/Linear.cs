using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// The text's connection layer: y = x·Wᵀ + b, with PyTorch's default initialisation
/// (W and b uniform in ±1/√in_features). Shape: (*, in_features) → (*, out_features).
/// </summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer; <paramref name="generator"/> seeds the initial weights (default: <see cref="Generator.Default"/>).</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear: in_features and out_features must be positive, got {inFeatures} and {outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        // kaiming_uniform(a=√5) reduces to U(−1/√fan_in, 1/√fan_in), the same bound PyTorch uses for the bias
        double bound = 1 / Math.Sqrt(inFeatures);
        _weight = RegisterParameter("weight", new Parameter(Tensor.Uniform([outFeatures, inFeatures], -bound, bound, dtype, generator)))!;
        Bias = RegisterParameter("bias", bias ? new Parameter(Tensor.Uniform([outFeatures], -bound, bound, dtype, generator)) : null);
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>
    /// Weight Θ. Shape: (out_features, in_features). Settable for weight tying, as PyTorch's
    /// <c>decoder.weight = embedding.weight</c>: the layer then uses that very <see cref="Parameter"/> (its shape must
    /// match); the state dict lists it under both keys, <see cref="Module.Parameters"/> once.
    /// </summary>
    public Parameter Weight
    {
        get => _weight;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Rank != 2 || value.Shape[0] != OutFeatures || value.Shape[1] != InFeatures)
                throw new ArgumentException($"Linear.Weight: expected shape [{OutFeatures}, {InFeatures}], got {ShapeUtil.Format(value.Shape)}.", nameof(value));
            if (value.DType != _weight.DType)
                throw new ArgumentException($"Linear.Weight: expected dtype {_weight.DType.Name()}, got {value.DType.Name()}.", nameof(value));
            SetParameter("weight", value);
            _weight = value;
        }
    }

    private Parameter _weight;

    /// <summary>Bias, or null. Shape: (out_features).</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.Linear(input, Weight, Bias);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is null ? "False" : "True")}");
}
