namespace Nabla.NN;

/// <summary>
/// One decoder block, PyTorch's <c>nn.TransformerDecoderLayer</c>: self-attention over the target, cross-attention
/// (<c>multihead_attn</c>) from the target to the encoder's output (memory), then the feed-forward block, each with
/// dropout, a residual connection and a LayerNorm (norm1..norm3), after the residual (post-norm, the default) or before
/// the sublayer with <c>normFirst</c>. State-dict keys as PyTorch's: <c>self_attn.*</c>, <c>multihead_attn.*</c>,
/// <c>linear1.*</c>, <c>linear2.*</c>, <c>norm1.*</c>, <c>norm2.*</c>, <c>norm3.*</c>.
/// Shape: tgt (T, N, E), memory (S, N, E) (batch first with batchFirst; unbatched (T, E), (S, E)) → (T, N, E).
/// </summary>
public sealed class TransformerDecoderLayer : Module
{
    private readonly TransformerLayerOptions _options;

    /// <summary>Creates the block; the options are those of <see cref="TransformerEncoderLayer"/>.</summary>
    public TransformerDecoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, bool bias = true, DType dtype = DType.Float32,
        Generator? generator = null)
        : this(new TransformerLayerOptions("TransformerDecoderLayer", dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias, dtype, generator).Validated())
    {
    }

    private TransformerDecoderLayer(TransformerLayerOptions o)
    {
        _options = o;
        SelfAttn = RegisterModule("self_attn", o.Attention());
        MultiheadAttn = RegisterModule("multihead_attn", o.Attention());
        Linear1 = RegisterModule("linear1", new Linear(o.DModel, o.DimFeedforward, o.Bias, o.DType, o.Generator));
        Dropout = RegisterModule("dropout", new Dropout(o.Dropout, o.Generator));
        Linear2 = RegisterModule("linear2", new Linear(o.DimFeedforward, o.DModel, o.Bias, o.DType, o.Generator));
        Norm1 = RegisterModule("norm1", o.Norm());
        Norm2 = RegisterModule("norm2", o.Norm());
        Norm3 = RegisterModule("norm3", o.Norm());
        Dropout1 = RegisterModule("dropout1", new Dropout(o.Dropout, o.Generator));
        Dropout2 = RegisterModule("dropout2", new Dropout(o.Dropout, o.Generator));
        Dropout3 = RegisterModule("dropout3", new Dropout(o.Dropout, o.Generator));
    }

    /// <summary>Features per position (d_model).</summary>
    public int DModel => _options.DModel;

    /// <summary>Attention heads.</summary>
    public int NHead => _options.NHead;

    /// <summary>Whether the LayerNorms come before each sublayer (pre-norm) instead of after the residual.</summary>
    public bool NormFirst => _options.NormFirst;

    /// <summary>Whether 3-D inputs are (N, L, E) instead of (L, N, E).</summary>
    public bool BatchFirst => _options.BatchFirst;

    /// <summary>The activation's name: relu, gelu or gelu_tanh.</summary>
    public string Activation => _options.Activation;

    /// <summary>Self-attention over the target.</summary>
    public MultiheadAttention SelfAttn { get; }

    /// <summary>Cross-attention: queries from the target, keys and values from the memory.</summary>
    public MultiheadAttention MultiheadAttn { get; }

    /// <summary>The feed-forward block's first layer (d_model → dim_feedforward).</summary>
    public Linear Linear1 { get; }

    /// <summary>Dropout inside the feed-forward block, after the activation.</summary>
    public Dropout Dropout { get; }

    /// <summary>The feed-forward block's second layer (dim_feedforward → d_model).</summary>
    public Linear Linear2 { get; }

    /// <summary>The LayerNorm of the self-attention sublayer.</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>The LayerNorm of the cross-attention sublayer.</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>The LayerNorm of the feed-forward sublayer.</summary>
    public LayerNorm Norm3 { get; }

    /// <summary>Dropout on the self-attention's output.</summary>
    public Dropout Dropout1 { get; }

    /// <summary>Dropout on the cross-attention's output.</summary>
    public Dropout Dropout2 { get; }

    /// <summary>Dropout on the feed-forward block's output.</summary>
    public Dropout Dropout3 { get; }

    /// <summary>Not defined: a decoder layer needs the memory too (use the overload with memory).</summary>
    public override Tensor Forward(Tensor input) =>
        throw new NotSupportedException("TransformerDecoderLayer: Forward needs the target and the memory: call Forward(tgt, memory, ...).");

    /// <summary>
    /// Runs the block. Masks as MultiheadAttention's: <paramref name="tgtMask"/> (T, T) and <paramref name="memoryMask"/>
    /// (T, S), or per head (N·nhead, ...), bool (true = not allowed) or float (added to the scores); key padding masks
    /// (N, T) and (N, S), true = padding. <paramref name="tgtIsCausal"/>/<paramref name="memoryIsCausal"/>: apply the causal
    /// mask when the corresponding mask is null (with a mask given, a hint that it is causal, as PyTorch's).
    /// </summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false)
    {
        ArgumentNullException.ThrowIfNull(tgt);
        ArgumentNullException.ThrowIfNull(memory);
        _options.CheckInput("tgt", tgt);
        _options.CheckInput("memory", memory);
        var x = tgt;
        if (NormFirst)
        {
            x = x + SelfAttention(Norm1.Forward(x), tgtMask, tgtKeyPaddingMask, tgtIsCausal);
            x = x + CrossAttention(Norm2.Forward(x), memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal);
            x = x + FeedForward(Norm3.Forward(x));
        }
        else
        {
            x = Norm1.Forward(x + SelfAttention(x, tgtMask, tgtKeyPaddingMask, tgtIsCausal));
            x = Norm2.Forward(x + CrossAttention(x, memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal));
            x = Norm3.Forward(x + FeedForward(x));
        }
        return x;
    }

    private Tensor SelfAttention(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal) =>
        Dropout1.Forward(TransformerLayerOptions.Attend(SelfAttn, x, x, mask, keyPaddingMask, isCausal));

    private Tensor CrossAttention(Tensor x, Tensor memory, Tensor? mask, Tensor? keyPaddingMask, bool isCausal) =>
        Dropout2.Forward(TransformerLayerOptions.Attend(MultiheadAttn, x, memory, mask, keyPaddingMask, isCausal));

    private Tensor FeedForward(Tensor x) =>
        Dropout3.Forward(Linear2.Forward(Dropout.Forward(_options.Activate(Linear1.Forward(x)))));

    /// <summary>A deep copy: the same options, parameter values and mode (PyTorch's copy.deepcopy, as TransformerDecoder makes its layers).</summary>
    public TransformerDecoderLayer Copy() => TransformerLayerOptions.CopyState(this, new TransformerDecoderLayer(_options));

    /// <inheritdoc/>
    protected override string ExtraRepr() => _options.Repr();
}
