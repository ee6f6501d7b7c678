using System.Globalization;

namespace Nabla.NN;

/// <summary>What the encoder and decoder layers share: their options, validated once, and the sublayer builders.</summary>
internal sealed record TransformerLayerOptions(string Module, int DModel, int NHead, int DimFeedforward, double Dropout, string Activation,
    double LayerNormEps, bool BatchFirst, bool NormFirst, bool Bias, DType DType, Generator? Generator)
{
    public static readonly string[] Activations = ["relu", "gelu", "gelu_tanh"];

    public TransformerLayerOptions Validated()
    {
        if (DModel <= 0 || NHead <= 0 || DModel % NHead != 0)
            throw new ArgumentOutOfRangeException(nameof(DModel), $"{Module}: d_model must be a positive multiple of nhead, got d_model={DModel}, nhead={NHead}.");
        if (DimFeedforward <= 0)
            throw new ArgumentOutOfRangeException(nameof(DimFeedforward), $"{Module}: dim_feedforward must be positive, got {DimFeedforward}.");
        if (!(Dropout is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(Dropout), $"{Module}: dropout must be in [0, 1), got {Dropout}.");
        if (!Activations.Contains(Activation))
            throw new ArgumentException($"{Module}: activation must be one of {string.Join(", ", Activations)}, got '{Activation}'.", nameof(Activation));
        if (!(LayerNormEps > 0))
            throw new ArgumentOutOfRangeException(nameof(LayerNormEps), $"{Module}: layer_norm_eps must be positive, got {LayerNormEps}.");
        if (DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"{Module}: dtype must be float32 or float64, got {DType.Name()}.", nameof(DType));
        return this;
    }

    public MultiheadAttention Attention() =>
        new(DModel, NHead, dropout: Dropout, bias: Bias, batchFirst: BatchFirst, dtype: DType, generator: Generator);

    public LayerNorm Norm() => new(DModel, LayerNormEps, bias: Bias, dtype: DType);

    public Tensor Activate(Tensor x) => Activation switch
    {
        "relu" => x.Relu(),
        "gelu" => x.Gelu(),
        _ => x.Gelu("tanh"),
    };

    /// <summary>Checks a (L, N, E) / (N, L, E) / (L, E) input's rank and feature size.</summary>
    public void CheckInput(string name, Tensor x)
    {
        if (x.Rank is not (2 or 3) || x.Shape[^1] != DModel)
            throw new ArgumentException($"{Module}: expected {name} of shape {(BatchFirst ? "(N, L, " : "(L, N, ")}{DModel}) or unbatched (L, {DModel}), got {ShapeUtil.Format(x.Shape)}.");
    }

    /// <summary>Attention output only (need_weights=False, as PyTorch's layers call it).</summary>
    public static Tensor Attend(MultiheadAttention attention, Tensor query, Tensor keyValue, Tensor? mask, Tensor? keyPaddingMask, bool isCausal) =>
        attention.Forward(query, keyValue, keyValue, keyPaddingMask: keyPaddingMask, needWeights: false, attnMask: mask,
            isCausal: isCausal && mask is null).Item1;

    /// <summary>Gives <paramref name="copy"/> <paramref name="source"/>'s parameter and buffer values, requires-grad flags and mode.</summary>
    public static T CopyState<T>(Module source, T copy) where T : Module
    {
        copy.LoadStateDict(source.StateDict());
        copy.Train(source.Training);
        // frozen parameters stay frozen in the copies (same registration order on both sides)
        foreach (var (from, to) in source.Parameters().Zip(copy.Parameters())) to.RequiresGrad = from.RequiresGrad;
        return copy;
    }

    public string Repr() => string.Create(CultureInfo.InvariantCulture,
        $"d_model={DModel}, nhead={NHead}, dim_feedforward={DimFeedforward}, dropout={Dropout}, activation={Activation}{(NormFirst ? ", norm_first=True" : "")}{(BatchFirst ? ", batch_first=True" : "")}{(Bias ? "" : ", bias=False")}");
}
