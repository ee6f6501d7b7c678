namespace Nabla.NN;

/// <summary>
/// The encoder-decoder model of "Attention Is All You Need", PyTorch's <c>nn.Transformer</c>: a
/// <see cref="TransformerEncoder"/> and a <see cref="TransformerDecoder"/>, each ending in a LayerNorm, every matrix
/// parameter re-initialised Xavier-uniform (PyTorch's _reset_parameters). Embeddings, positions and the output
/// projection are the caller's. Keys: <c>encoder.layers.0.self_attn.in_proj_weight</c>, <c>encoder.norm.weight</c>,
/// <c>decoder.layers.0.multihead_attn.out_proj.weight</c>, <c>decoder.norm.bias</c>, ...
/// Shape: src (S, N, E), tgt (T, N, E) (batch first with batchFirst; unbatched (S, E), (T, E)) → (T, N, E).
/// </summary>
public sealed class Transformer : Module
{
    /// <summary>Creates the model; the layer options are those of <see cref="TransformerEncoderLayer"/>.</summary>
    public Transformer(int dModel = 512, int nhead = 8, int numEncoderLayers = 6, int numDecoderLayers = 6, int dimFeedforward = 2048,
        double dropout = 0.1, string activation = "relu", double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false,
        bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
    {
        var encoderLayer = new TransformerEncoderLayer(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias, dtype, generator);
        Encoder = RegisterModule("encoder", new TransformerEncoder(encoderLayer, numEncoderLayers, new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype)));
        var decoderLayer = new TransformerDecoderLayer(dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias, dtype, generator);
        Decoder = RegisterModule("decoder", new TransformerDecoder(decoderLayer, numDecoderLayers, new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype)));
        (DModel, NHead, BatchFirst) = (dModel, nhead, batchFirst);
        // xavier_uniform_ on every parameter with more than one dim: U(±√(6 / (fan_in + fan_out)))
        foreach (var p in Parameters())
        {
            if (p.Rank < 2) continue;
            double bound = Math.Sqrt(6.0 / (p.Shape[0] + p.Shape[1]));
            p.CopyFrom(Tensor.Uniform(p.Shape.ToArray(), -bound, bound, p.DType, generator));
        }
    }

    /// <summary>The encoder stack.</summary>
    public TransformerEncoder Encoder { get; }

    /// <summary>The decoder stack.</summary>
    public TransformerDecoder Decoder { get; }

    /// <summary>Features per position.</summary>
    public int DModel { get; }

    /// <summary>Attention heads.</summary>
    public int NHead { get; }

    /// <summary>Whether 3-D inputs are (N, L, E) instead of (L, N, E).</summary>
    public bool BatchFirst { get; }

    /// <summary>Not defined: the model needs a source and a target (use the overload with both).</summary>
    public override Tensor Forward(Tensor input) =>
        throw new NotSupportedException("Transformer: Forward needs the source and the target: call Forward(src, tgt, ...).");

    /// <summary>
    /// Encodes <paramref name="src"/> into the memory and decodes <paramref name="tgt"/> against it. Masks as in
    /// <see cref="TransformerEncoderLayer"/> and <see cref="TransformerDecoderLayer"/>: srcMask (S, S), tgtMask (T, T)
    /// (e.g. <see cref="GenerateSquareSubsequentMask"/>), memoryMask (T, S), key padding masks (N, S), (N, T), (N, S).
    /// </summary>
    public Tensor Forward(Tensor src, Tensor tgt, Tensor? srcMask = null, Tensor? tgtMask = null, Tensor? memoryMask = null,
        Tensor? srcKeyPaddingMask = null, Tensor? tgtKeyPaddingMask = null, Tensor? memoryKeyPaddingMask = null,
        bool srcIsCausal = false, bool tgtIsCausal = false, bool memoryIsCausal = false)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(tgt);
        if (src.Rank != tgt.Rank)
            throw new ArgumentException($"Transformer: src and tgt must both be batched (3-D) or both unbatched (2-D), got {ShapeUtil.Format(src.Shape)} and {ShapeUtil.Format(tgt.Shape)}.");
        int batchDim = BatchFirst ? 0 : 1;
        if (src.Rank == 3 && src.Shape[batchDim] != tgt.Shape[batchDim])
            throw new ArgumentException($"Transformer: the batch sizes of src and tgt must be equal (dim {batchDim}), got {ShapeUtil.Format(src.Shape)} and {ShapeUtil.Format(tgt.Shape)}.");
        if (src.Shape[^1] != DModel || tgt.Shape[^1] != DModel)
            throw new ArgumentException($"Transformer: the feature sizes of src and tgt must equal d_model = {DModel}, got {ShapeUtil.Format(src.Shape)} and {ShapeUtil.Format(tgt.Shape)}.");
        var memory = Encoder.Forward(src, srcMask, srcKeyPaddingMask, srcIsCausal);
        return Decoder.Forward(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal);
    }

    /// <summary>
    /// The float causal mask PyTorch's generate_square_subsequent_mask makes: 0 where key j ≤ query i, −∞ above the
    /// diagonal (added to the attention scores). Shape: (sz, sz).
    /// </summary>
    public static Tensor GenerateSquareSubsequentMask(int sz, DType dtype = DType.Float32)
    {
        if (sz <= 0) throw new ArgumentOutOfRangeException(nameof(sz), $"Transformer.GenerateSquareSubsequentMask: sz must be positive, got {sz}.");
        var m = new double[sz * sz];
        for (int i = 0; i < sz; i++)
            for (int j = i + 1; j < sz; j++) m[i * sz + j] = double.NegativeInfinity;
        return Tensor.FromArray(m, sz, sz).To(dtype);
    }
}
