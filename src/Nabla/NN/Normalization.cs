using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// Layer normalisation over the last k dims (as torch.nn.LayerNorm): each row of prod(normalized_shape) values is
/// normalised by its own mean and biased variance, then scaled by <c>weight</c> (ones) and shifted by <c>bias</c>
/// (zeros), element-wise. Shape: (*, normalized_shape) → same.
/// </summary>
public sealed class LayerNorm : Module
{
    /// <summary>Creates the layer over the trailing dims <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(s => s <= 0))
            throw new ArgumentException($"LayerNorm: normalized_shape must be non-empty with positive sizes, got {ShapeUtil.Format(normalizedShape)}.");
        if (eps < 0 || double.IsNaN(eps)) throw new ArgumentOutOfRangeException(nameof(eps), $"LayerNorm: eps must be ≥ 0, got {eps}.");
        NormalizedShape = normalizedShape.ToArray();
        Eps = eps;
        ElementwiseAffine = elementwiseAffine;
        Weight = RegisterParameter("weight", elementwiseAffine ? new Parameter(Tensor.Ones([.. NormalizedShape], dtype)) : null);
        Bias = RegisterParameter("bias", elementwiseAffine && bias ? new Parameter(Tensor.Zeros([.. NormalizedShape], dtype)) : null);
    }

    /// <summary>Creates the layer over the last dim of size <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true, DType dtype = DType.Float32)
        : this([normalizedShape], eps, elementwiseAffine, bias, dtype) { }

    /// <summary>The trailing dims normalised over.</summary>
    public IReadOnlyList<int> NormalizedShape { get; }

    /// <summary>ε added to the variance.</summary>
    public double Eps { get; }

    /// <summary>Whether the layer has learnable element-wise weight (and bias).</summary>
    public bool ElementwiseAffine { get; }

    /// <summary>γ, or null. Shape: normalized_shape.</summary>
    public Parameter? Weight { get; }

    /// <summary>β, or null. Shape: normalized_shape.</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.LayerNorm(input, [.. NormalizedShape], Weight, Bias, Eps);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{PyTuple(NormalizedShape)}, eps={NormBase.Py(Eps)}, elementwise_affine={NormBase.Py(ElementwiseAffine)}";

    internal static string PyTuple(IReadOnlyList<int> s) => "(" + string.Join(", ", s) + (s.Count == 1 ? ",)" : ")");
}

/// <summary>
/// Group normalisation (as torch.nn.GroupNorm): the C channels are split into <c>num_groups</c> groups, each
/// sample's group is normalised by its own mean and biased variance, then scaled and shifted per channel.
/// Shape: (N, C, *) → same.
/// </summary>
public sealed class GroupNorm : Module
{
    /// <summary>Creates the layer; <paramref name="numChannels"/> must be divisible by <paramref name="numGroups"/>.</summary>
    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32)
    {
        if (numGroups <= 0 || numChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(numGroups), $"GroupNorm: num_groups and num_channels must be positive, got {numGroups} and {numChannels}.");
        if (numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm: num_channels ({numChannels}) must be divisible by num_groups ({numGroups}).");
        if (eps < 0 || double.IsNaN(eps)) throw new ArgumentOutOfRangeException(nameof(eps), $"GroupNorm: eps must be ≥ 0, got {eps}.");
        NumGroups = numGroups;
        NumChannels = numChannels;
        Eps = eps;
        Affine = affine;
        Weight = RegisterParameter("weight", affine ? new Parameter(Tensor.Ones([numChannels], dtype)) : null);
        Bias = RegisterParameter("bias", affine ? new Parameter(Tensor.Zeros([numChannels], dtype)) : null);
    }

    /// <summary>G.</summary>
    public int NumGroups { get; }

    /// <summary>C.</summary>
    public int NumChannels { get; }

    /// <summary>ε added to the variance.</summary>
    public double Eps { get; }

    /// <summary>Whether the layer has learnable per-channel weight and bias.</summary>
    public bool Affine { get; }

    /// <summary>γ, or null. Shape: (C).</summary>
    public Parameter? Weight { get; }

    /// <summary>β, or null. Shape: (C).</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2 || input.Size(1) != NumChannels)
            throw new ArgumentException($"GroupNorm: expected input of shape (N, {NumChannels}, *), got {ShapeUtil.Format(input.Shape)}.");
        return Tensor.GroupNorm(input, NumGroups, Weight, Bias, Eps);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"{NumGroups}, {NumChannels}, eps={NormBase.Py(Eps)}, affine={NormBase.Py(Affine)}");
}

/// <summary>
/// Root-mean-square normalisation over the last k dims (as torch.nn.RMSNorm): y = x / √(mean(x²) + ε) · weight.
/// A null ε is the input dtype's machine epsilon, as in PyTorch. Shape: (*, normalized_shape) → same.
/// </summary>
public sealed class RMSNorm : Module
{
    /// <summary>Creates the layer over the trailing dims <paramref name="normalizedShape"/>.</summary>
    public RMSNorm(int[] normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(s => s <= 0))
            throw new ArgumentException($"RMSNorm: normalized_shape must be non-empty with positive sizes, got {ShapeUtil.Format(normalizedShape)}.");
        if (eps is { } e && (e < 0 || double.IsNaN(e))) throw new ArgumentOutOfRangeException(nameof(eps), $"RMSNorm: eps must be ≥ 0, got {e}.");
        NormalizedShape = normalizedShape.ToArray();
        Eps = eps;
        ElementwiseAffine = elementwiseAffine;
        Weight = RegisterParameter("weight", elementwiseAffine ? new Parameter(Tensor.Ones([.. NormalizedShape], dtype)) : null);
    }

    /// <summary>Creates the layer over the last dim of size <paramref name="normalizedShape"/>.</summary>
    public RMSNorm(int normalizedShape, double? eps = null, bool elementwiseAffine = true, DType dtype = DType.Float32)
        : this([normalizedShape], eps, elementwiseAffine, dtype) { }

    /// <summary>The trailing dims normalised over.</summary>
    public IReadOnlyList<int> NormalizedShape { get; }

    /// <summary>ε added to the mean square, or null for the dtype's machine epsilon.</summary>
    public double? Eps { get; }

    /// <summary>Whether the layer has a learnable element-wise weight.</summary>
    public bool ElementwiseAffine { get; }

    /// <summary>γ, or null. Shape: normalized_shape.</summary>
    public Parameter? Weight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.RmsNorm(input, [.. NormalizedShape], Weight, Eps);

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        $"{LayerNorm.PyTuple(NormalizedShape)}, eps={(Eps is { } e ? NormBase.Py(e) : "None")}, elementwise_affine={NormBase.Py(ElementwiseAffine)}";
}
