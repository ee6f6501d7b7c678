namespace Nabla.NN;

/// <summary>
/// One encoder block of "Attention Is All You Need", PyTorch's <c>nn.TransformerEncoderLayer</c>: self-attention
/// then a feed-forward block (linear1 → activation → dropout → linear2), each with dropout, a residual connection and
/// a LayerNorm: after the residual (post-norm, the default) or before the sublayer with <c>normFirst</c> (pre-norm):
/// post: x = norm1(x + sa(x)); x = norm2(x + ff(x)). pre: x = x + sa(norm1(x)); x = x + ff(norm2(x)).
/// State-dict keys as PyTorch's: <c>self_attn.in_proj_weight</c>, <c>self_attn.out_proj.weight</c>, <c>linear1.weight</c>,
/// <c>linear2.weight</c>, <c>norm1.weight</c>, <c>norm2.weight</c> (and the biases).
/// Shape: src (L, N, E), or (N, L, E) with batchFirst, or unbatched (L, E) → the same; E = d_model.
/// </summary>
public sealed class TransformerEncoderLayer : Module
{
    private readonly TransformerLayerOptions _options;

    /// <summary>
    /// Creates the block. <paramref name="activation"/> is "relu", "gelu" (exact, erf) or "gelu_tanh" (GELU with
    /// PyTorch's approximate="tanh"); <paramref name="bias"/> false drops every Linear and LayerNorm bias (PyTorch 2.1's bias=False).
    /// </summary>
    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
        double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false, bool bias = true, DType dtype = DType.Float32,
        Generator? generator = null)
        : this(new TransformerLayerOptions("TransformerEncoderLayer", dModel, nhead, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias, dtype, generator).Validated())
    {
    }

    private TransformerEncoderLayer(TransformerLayerOptions o)
    {
        _options = o;
        SelfAttn = RegisterModule("self_attn", o.Attention());
        Linear1 = RegisterModule("linear1", new Linear(o.DModel, o.DimFeedforward, o.Bias, o.DType, o.Generator));
        Dropout = RegisterModule("dropout", new Dropout(o.Dropout, o.Generator));
        Linear2 = RegisterModule("linear2", new Linear(o.DimFeedforward, o.DModel, o.Bias, o.DType, o.Generator));
        Norm1 = RegisterModule("norm1", o.Norm());
        Norm2 = RegisterModule("norm2", o.Norm());
        Dropout1 = RegisterModule("dropout1", new Dropout(o.Dropout, o.Generator));
        Dropout2 = RegisterModule("dropout2", new Dropout(o.Dropout, o.Generator));
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

    /// <summary>The self-attention.</summary>
    public MultiheadAttention SelfAttn { get; }

    /// <summary>The feed-forward block's first layer (d_model → dim_feedforward).</summary>
    public Linear Linear1 { get; }

    /// <summary>Dropout inside the feed-forward block, after the activation.</summary>
    public Dropout Dropout { get; }

    /// <summary>The feed-forward block's second layer (dim_feedforward → d_model).</summary>
    public Linear Linear2 { get; }

    /// <summary>The LayerNorm of the attention sublayer.</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>The LayerNorm of the feed-forward sublayer.</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>Dropout on the attention sublayer's output.</summary>
    public Dropout Dropout1 { get; }

    /// <summary>Dropout on the feed-forward sublayer's output.</summary>
    public Dropout Dropout2 { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>
    /// Runs the block. <paramref name="srcMask"/>: (L, L) or (N·nhead, L, L), bool (true = not allowed) or float
    /// (added to the scores), as MultiheadAttention's attn_mask; <paramref name="srcKeyPaddingMask"/>: (N, L) (true =
    /// padding, ignored as a key); <paramref name="isCausal"/>: attend only to earlier positions (with a srcMask given, a
    /// hint that it is the causal mask, as PyTorch's is_causal).
    /// </summary>
    public Tensor Forward(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask = null, bool isCausal = false)
    {
        ArgumentNullException.ThrowIfNull(src);
        _options.CheckInput("src", src);
        var x = src;
        if (NormFirst)
        {
            x = x + SelfAttention(Norm1.Forward(x), srcMask, srcKeyPaddingMask, isCausal);
            x = x + FeedForward(Norm2.Forward(x));
        }
        else
        {
            x = Norm1.Forward(x + SelfAttention(x, srcMask, srcKeyPaddingMask, isCausal));
            x = Norm2.Forward(x + FeedForward(x));
        }
        return x;
    }

    private Tensor SelfAttention(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal) =>
        Dropout1.Forward(TransformerLayerOptions.Attend(SelfAttn, x, x, mask, keyPaddingMask, isCausal));

    private Tensor FeedForward(Tensor x) =>
        Dropout2.Forward(Linear2.Forward(Dropout.Forward(_options.Activate(Linear1.Forward(x)))));

    /// <summary>A deep copy: the same options, parameter values and mode (PyTorch's copy.deepcopy, as TransformerEncoder makes its layers).</summary>
    public TransformerEncoderLayer Copy() => TransformerLayerOptions.CopyState(this, new TransformerEncoderLayer(_options));

    /// <inheritdoc/>
    protected override string ExtraRepr() => _options.Repr();
}
