using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// Multi-head attention as torch.nn.MultiheadAttention: the query, key and value are projected (in_proj), split into
/// <c>numHeads</c> heads of size embedDim/numHeads, each head runs <see cref="Tensor.ScaledDotProductAttention"/>,
/// and the heads' outputs are joined and projected (out_proj). PyTorch's state-dict keys and initialisation:
/// in_proj_weight (3E, E) xavier-uniform, or q_proj_weight/k_proj_weight/v_proj_weight when kdim or vdim differ
/// from E; in_proj_bias and out_proj.bias zero; out_proj.weight as Linear's; bias_k/bias_v xavier-normal.
/// Shape: query (L, N, E) ((N, L, E) with batchFirst, (L, E) unbatched), key (S, N, kdim), value (S, N, vdim)
/// → output like query, weights (N, L, S) (averaged over heads) or (N, H, L, S).
/// </summary>
public sealed class MultiheadAttention : Module
{
    private readonly Generator _generator;

    /// <summary>Creates the layer; <paramref name="generator"/> seeds the initial weights and the dropout masks (default: <see cref="Generator.Default"/>).</summary>
    public MultiheadAttention(int embedDim, int numHeads, double dropout = 0.0, bool bias = true, bool addBiasKv = false,
        bool addZeroAttn = false, int? kdim = null, int? vdim = null, bool batchFirst = false, DType dtype = DType.Float32,
        Generator? generator = null)
    {
        if (embedDim <= 0 || numHeads <= 0)
            throw new ArgumentOutOfRangeException(nameof(embedDim), $"MultiheadAttention: embed_dim and num_heads must be positive, got {embedDim} and {numHeads}.");
        if (embedDim % numHeads != 0)
            throw new ArgumentException($"MultiheadAttention: embed_dim ({embedDim}) must be divisible by num_heads ({numHeads}).");
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), $"MultiheadAttention: dropout must be in [0, 1), got {dropout}.");
        if (kdim <= 0 || vdim <= 0)
            throw new ArgumentOutOfRangeException(nameof(kdim), $"MultiheadAttention: kdim and vdim must be positive, got {kdim} and {vdim}.");
        _generator = generator ?? Generator.Default;
        EmbedDim = embedDim;
        NumHeads = numHeads;
        Dropout = dropout;
        KDim = kdim ?? embedDim;
        VDim = vdim ?? embedDim;
        BatchFirst = batchFirst;
        AddZeroAttn = addZeroAttn;
        if (KDim == embedDim && VDim == embedDim)
        {
            InProjWeight = RegisterParameter("in_proj_weight", new Parameter(XavierUniform(3 * embedDim, embedDim, dtype)));
        }
        else
        {
            QProjWeight = RegisterParameter("q_proj_weight", new Parameter(XavierUniform(embedDim, embedDim, dtype)));
            KProjWeight = RegisterParameter("k_proj_weight", new Parameter(XavierUniform(embedDim, KDim, dtype)));
            VProjWeight = RegisterParameter("v_proj_weight", new Parameter(XavierUniform(embedDim, VDim, dtype)));
        }
        InProjBias = RegisterParameter("in_proj_bias", bias ? new Parameter(Tensor.Zeros([3 * embedDim], dtype)) : null);
        if (addBiasKv)
        {
            // xavier_normal_ on (1, 1, E): fan_in = fan_out = E, so std = 1/√E
            double std = 1 / Math.Sqrt(embedDim);
            BiasK = RegisterParameter("bias_k", new Parameter(Tensor.Randn([1, 1, embedDim], dtype, _generator) * std));
            BiasV = RegisterParameter("bias_v", new Parameter(Tensor.Randn([1, 1, embedDim], dtype, _generator) * std));
        }
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias, dtype, _generator));
        OutProj.Bias?.Copy(Tensor.Zeros([embedDim], dtype));
    }

    private Tensor XavierUniform(int fanOut, int fanIn, DType dtype)
    {
        double bound = Math.Sqrt(6.0 / (fanIn + fanOut));
        return Tensor.Uniform([fanOut, fanIn], -bound, bound, dtype, _generator);
    }

    /// <summary>The model size E.</summary>
    public int EmbedDim { get; }

    /// <summary>The number of heads H; each has E/H features.</summary>
    public int NumHeads { get; }

    /// <summary>The features per head, E/H.</summary>
    public int HeadDim => EmbedDim / NumHeads;

    /// <summary>Dropout probability on the attention weights (training mode only).</summary>
    public double Dropout { get; }

    /// <summary>The key's feature size.</summary>
    public int KDim { get; }

    /// <summary>The value's feature size.</summary>
    public int VDim { get; }

    /// <summary>True when inputs are (N, L, E) rather than (L, N, E).</summary>
    public bool BatchFirst { get; }

    /// <summary>True when a zero key and value are appended to every sequence (add_zero_attn).</summary>
    public bool AddZeroAttn { get; }

    /// <summary>The packed query/key/value projection, or null when kdim or vdim differ from E. Shape: (3E, E).</summary>
    public Parameter? InProjWeight { get; }

    /// <summary>The query projection when kdim or vdim differ from E, else null. Shape: (E, E).</summary>
    public Parameter? QProjWeight { get; }

    /// <summary>The key projection when kdim or vdim differ from E, else null. Shape: (E, kdim).</summary>
    public Parameter? KProjWeight { get; }

    /// <summary>The value projection when kdim or vdim differ from E, else null. Shape: (E, vdim).</summary>
    public Parameter? VProjWeight { get; }

    /// <summary>The packed projection bias, or null. Shape: (3E).</summary>
    public Parameter? InProjBias { get; }

    /// <summary>A learned key appended to every key sequence (add_bias_kv), or null. Shape: (1, 1, E).</summary>
    public Parameter? BiasK { get; }

    /// <summary>A learned value appended to every value sequence (add_bias_kv), or null. Shape: (1, 1, E).</summary>
    public Parameter? BiasV { get; }

    /// <summary>The output projection.</summary>
    public Linear OutProj { get; }

    /// <summary>Self-attention of <paramref name="input"/> (query = key = value), without weights. Shape: unchanged.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, input, input, needWeights: false).Output;

    /// <summary>
    /// Attention of <paramref name="query"/> over <paramref name="key"/>/<paramref name="value"/>, as PyTorch's forward.
    /// <paramref name="keyPaddingMask"/> (N, S) and <paramref name="attnMask"/> (L, S) or (N·H, L, S): bool with
    /// true = NOT allowed to attend (PyTorch's MultiheadAttention convention, the opposite of
    /// ScaledDotProductAttention's), or float values added to the scores. <paramref name="isCausal"/> without an
    /// attnMask applies the causal mask (key j &gt; query i masked); with one, attnMask is used as PyTorch treats
    /// is_causal as a hint. The weights (after dropout) are returned when <paramref name="needWeights"/>, averaged
    /// over heads when <paramref name="averageAttnWeights"/>.
    /// Shape: see the class; weights (N, L, S) or (N, H, L, S), without N when unbatched.
    /// </summary>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        bool batched = query.Rank == 3;
        if (query.Rank is not (2 or 3) || key.Rank != query.Rank || value.Rank != query.Rank)
            throw new ArgumentException($"MultiheadAttention: query, key and value must all be 3-D (batched) or all 2-D (unbatched), got {Fmt(query)}, {Fmt(key)} and {Fmt(value)}.");
        if (!batched)
        {
            int b = BatchFirst ? 0 : 1;
            (query, key, value) = (query.Unsqueeze(b), key.Unsqueeze(b), value.Unsqueeze(b));
            keyPaddingMask = keyPaddingMask?.Unsqueeze(0);
        }
        if (!BatchFirst) (query, key, value) = (query.Transpose(0, 1), key.Transpose(0, 1), value.Transpose(0, 1));
        // now (N, L, E), (N, S, kdim), (N, S, vdim)
        int n = query.Shape[0], l = query.Shape[1], s = key.Shape[1], e = EmbedDim, h = NumHeads;
        if (query.Shape[2] != e || key.Shape[2] != KDim || value.Shape[2] != VDim || key.Shape[0] != n || value.Shape[0] != n || value.Shape[1] != s)
            throw new ArgumentException($"MultiheadAttention: expected query (…, {e}), key (…, {KDim}) and value (…, {VDim}) with one batch size and as many keys as values, got {Fmt(query)}, {Fmt(key)} and {Fmt(value)} (as (N, seq, features)).");

        var (q, k, v) = Project(query, key, value);
        if (BiasK is not null)
        {
            k = Tensor.Cat([k, BiasK.Expand(n, 1, e)], 1);
            v = Tensor.Cat([v, BiasV!.Expand(n, 1, e)], 1);
        }
        q = Heads(q, n, l);
        k = Heads(k, n, k.Shape[1]);
        v = Heads(v, n, v.Shape[1]);
        if (AddZeroAttn)
        {
            k = Tensor.Cat([k, Tensor.Zeros([n, h, 1, HeadDim], k.DType)], 2);
            v = Tensor.Cat([v, Tensor.Zeros([n, h, 1, HeadDim], v.DType)], 2);
        }
        var mask = Mask(keyPaddingMask, attnMask, isCausal, n, l, s, k.Shape[2], query.DType, batched);

        double p = Training ? Dropout : 0;
        Tensor o;
        Tensor? weights = null;
        if (needWeights) (o, weights) = Tensor.AttentionComposed(q, k, v, mask, p, false, null, _generator);
        else o = Tensor.ScaledDotProductAttention(q, k, v, mask, p, generator: _generator);
        // (N, H, L, hd) → (N, L, E) → out_proj
        var y = OutProj.Forward(o.Transpose(1, 2).Reshape(n, l, e));
        if (!BatchFirst) y = y.Transpose(0, 1);
        if (weights is not null && averageAttnWeights) weights = weights.Mean(1);
        if (!batched)
        {
            y = y.Squeeze(BatchFirst ? 0 : 1);
            weights = weights?.Squeeze(0);
        }
        return (y, weights);
    }

    // q·Wqᵀ + bq, k·Wkᵀ + bk, v·Wvᵀ + bv; one packed product for self-attention
    private (Tensor Q, Tensor K, Tensor V) Project(Tensor query, Tensor key, Tensor value)
    {
        int e = EmbedDim;
        Tensor? Bias(int i) => InProjBias?.Narrow(0, i * e, e);
        if (InProjWeight is not null && ReferenceEquals(query, key) && ReferenceEquals(key, value))
        {
            var qkv = Tensor.Linear(query, InProjWeight, InProjBias).Split(e, -1);
            return (qkv[0], qkv[1], qkv[2]);
        }
        var wq = InProjWeight?.Narrow(0, 0, e) ?? QProjWeight!;
        var wk = InProjWeight?.Narrow(0, e, e) ?? KProjWeight!;
        var wv = InProjWeight?.Narrow(0, 2 * e, e) ?? VProjWeight!;
        return (Tensor.Linear(query, wq, Bias(0)), Tensor.Linear(key, wk, Bias(1)), Tensor.Linear(value, wv, Bias(2)));
    }

    // (N, T, E) → (N, H, T, hd)
    private Tensor Heads(Tensor x, int n, int t) => x.Reshape(n, t, NumHeads, HeadDim).Transpose(1, 2);

    // The masks as one additive float mask broadcastable to (N, H, L, S'), S' = S plus the appended bias/zero keys
    // (which every query may attend); null when there is none. A bool true becomes −∞.
    private static Tensor? Mask(Tensor? keyPaddingMask, Tensor? attnMask, bool isCausal, int n, int l, int s, int sTotal, DType dtype, bool batched)
    {
        Tensor? mask = null;
        if (attnMask is not null)
        {
            int h = -1;
            bool ok = attnMask.Rank == 2 ? attnMask.Shape[0] == l && attnMask.Shape[1] == s
                : attnMask.Rank == 3 && attnMask.Shape[0] % n == 0 && attnMask.Shape[1] == l && attnMask.Shape[2] == s;
            if (ok && attnMask.Rank == 3) h = attnMask.Shape[0] / n;
            if (!ok)
                throw new ArgumentException($"MultiheadAttention: attn_mask must have shape [{l}, {s}] or [{(batched ? "N·num_heads" : "num_heads")}, {l}, {s}], got {Fmt(attnMask)}.");
            var m = Additive("attn_mask", attnMask, dtype);
            mask = attnMask.Rank == 2 ? m : m.Reshape(n, h, l, s);
        }
        else if (isCausal)
        {
            mask = Tensor.Where(Tensor.CausalMask(l, s), Tensor.Scalar(0, dtype), Tensor.Scalar(double.NegativeInfinity, dtype));
        }
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.Rank != 2 || keyPaddingMask.Shape[0] != n || keyPaddingMask.Shape[1] != s)
                throw new ArgumentException($"MultiheadAttention: key_padding_mask must have shape [{(batched ? $"{n}, " : "")}{s}], got {Fmt(batched ? keyPaddingMask : keyPaddingMask.Squeeze(0))}.");
            var m = Additive("key_padding_mask", keyPaddingMask, dtype).Reshape(n, 1, 1, s);
            mask = mask is null ? m : mask + m;
        }
        if (mask is null || sTotal == s) return mask;
        var pad = mask.Shape.ToArray();
        pad[^1] = sTotal - s;
        return Tensor.Cat([mask, Tensor.Zeros(pad, dtype)], -1);
    }

    private static Tensor Additive(string name, Tensor mask, DType dtype)
    {
        if (mask.DType == DType.Bool) return Tensor.Where(mask, Tensor.Scalar(double.NegativeInfinity, dtype), Tensor.Scalar(0, dtype));
        if (mask.DType != dtype)
            throw new ArgumentException($"MultiheadAttention: {name} must be bool or {dtype.Name()} like the query, got {mask.DType.Name()}.");
        return mask;
    }

    private static string Fmt(Tensor t) => ShapeUtil.Format(t.Shape);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"embed_dim={EmbedDim}, num_heads={NumHeads}, dropout={Dropout}, batch_first={(BatchFirst ? "True" : "False")}");
}
