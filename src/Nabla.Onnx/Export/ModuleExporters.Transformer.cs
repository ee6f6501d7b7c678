using Nabla.NN;

namespace Nabla.Onnx.Export;

// Self-attention and the Transformer encoder, in the nodes PyTorch's exporter writes from opset 13: the packed
// in-projection as one MatMul, Split into q, k, v, the heads by Reshape/Transpose, softmax(q·kᵀ/√d [+ causal mask])·v,
// the heads back, the out-projection (a Linear). Masks other than the causal one are not exported: a module in a
// Sequential gets one input.
internal static partial class ModuleExporters
{
    /// <summary>
    /// A TransformerEncoderLayer on x: (L, N, E), (N, L, E) with batch_first, or unbatched (L, E). The causal mask,
    /// when asked for, is a constant of the sample's sequence length (the exported input's length is fixed).
    /// </summary>
    internal static OnnxValue EncoderLayer(OnnxExportContext c, TransformerEncoderLayer layer, OnnxValue x, bool isCausal)
    {
        CheckRank(c, "TransformerEncoderLayer", x);
        bool unbatched = x.Sample.Rank == 2;
        var h = Batched(c, x);
        bool batchFirst = unbatched || layer.BatchFirst;
        if (layer.NormFirst)
        {
            h = Add(c, h, SelfAttention(c, layer.SelfAttn, Emit(c, layer.Norm1, h, "norm1"), batchFirst, unbatched, isCausal, "self_attn"));
            h = Add(c, h, FeedForward(c, layer, Emit(c, layer.Norm2, h, "norm2")));
        }
        else
        {
            h = Emit(c, layer.Norm1, Add(c, h, SelfAttention(c, layer.SelfAttn, h, batchFirst, unbatched, isCausal, "self_attn")), "norm1");
            h = Emit(c, layer.Norm2, Add(c, h, FeedForward(c, layer, h)), "norm2");
        }
        return unbatched ? new OnnxValue(c.Squeeze(h.Name, 0), h.Sample.Squeeze(0)) : h;
    }

    /// <summary>A TransformerEncoder: its layers (<c>layers.i</c>) in turn, then its norm.</summary>
    internal static OnnxValue EncoderStack(OnnxExportContext c, TransformerEncoder encoder, OnnxValue x, bool isCausal)
    {
        var h = x;
        for (int i = 0; i < encoder.NumLayers; i++)
            h = Emit(c, encoder.Layers[i], h, $"layers.{i}", m => EncoderLayer(c, (TransformerEncoderLayer)m, h, isCausal));
        return encoder.Norm is null ? h : Emit(c, encoder.Norm, h, "norm");
    }

    /// <summary>A MultiheadAttention module alone (its Forward(x): self-attention, no mask).</summary>
    private static string SelfAttentionModule(OnnxExportContext c, MultiheadAttention m, OnnxValue x)
    {
        CheckRank(c, "MultiheadAttention", x);
        bool unbatched = x.Sample.Rank == 2;
        var y = SelfAttentionNodes(c, m, Batched(c, x).Name, unbatched || m.BatchFirst, causalLength: null, "");
        return unbatched ? c.Squeeze(y, 0) : y;
    }

    private static void CheckRank(OnnxExportContext c, string what, OnnxValue x)
    {
        if (x.Sample.Rank is not (2 or 3))
            throw new NotSupportedException($"Onnx.Export: {what} at {c.Path} takes (L, N, E), (N, L, E) or (L, E), got shape ({string.Join(", ", x.Sample.Shape.ToArray())}).");
    }

    // unbatched (L, E) runs as one batch-first sequence (1, L, E)
    private static OnnxValue Batched(OnnxExportContext c, OnnxValue x) =>
        x.Sample.Rank == 2 ? new OnnxValue(c.Unsqueeze(x.Name, 0), x.Sample.Unsqueeze(0)) : x;

    private static OnnxValue Emit(OnnxExportContext c, Module m, OnnxValue x, string name, Func<Module, OnnxValue>? custom = null)
    {
        if (custom is null) return c.Emit(m, x, name);
        c.PushPath(name);
        try
        {
            return custom(m);
        }
        finally
        {
            c.PopPath();
        }
    }

    private static OnnxValue Add(OnnxExportContext c, OnnxValue a, OnnxValue b) => new(c.Node("Add", [a.Name, b.Name]), a.Sample + b.Sample);

    // linear2(dropout(activation(linear1(x)))), dropout being the identity at inference
    private static OnnxValue FeedForward(OnnxExportContext c, TransformerEncoderLayer layer, OnnxValue x)
    {
        Module act = layer.Activation switch
        {
            "relu" => new ReLU(),
            "gelu" => new GELU(),
            _ => new GELU("tanh"),
        };
        return c.Emit(layer.Linear2, c.Emit(act, c.Emit(layer.Linear1, x, "linear1")), "linear2");
    }

    // x is batched here (3-D, batch first or not); the sample of the output is Nabla's own attention
    private static OnnxValue SelfAttention(OnnxExportContext c, MultiheadAttention m, OnnxValue x, bool batchFirst, bool unbatched, bool isCausal, string name)
    {
        var input = unbatched ? x.Sample.Squeeze(0) : x.Sample;
        var y = m.Forward(input, input, input, needWeights: false, isCausal: isCausal).Output;
        int length = x.Sample.Size(batchFirst ? 1 : 0);
        return new OnnxValue(SelfAttentionNodes(c, m, x.Name, batchFirst, isCausal ? length : null, name + "."), unbatched ? y.Unsqueeze(0) : y);
    }

    private static string SelfAttentionNodes(OnnxExportContext c, MultiheadAttention m, string x, bool batchFirst, int? causalLength, string prefix)
    {
        if (m.InProjWeight is null || m.BiasK is not null || m.AddZeroAttn)
            throw new NotSupportedException($"Onnx.Export: MultiheadAttention at {c.Path} exports with kdim = vdim = embed_dim, no add_bias_kv and no add_zero_attn.");
        int e = m.EmbedDim, heads = m.NumHeads, d = m.HeadDim;
        string w = c.Initializer(m.InProjWeight, Key(c, prefix + "in_proj_weight"));
        string qkv = c.Node("MatMul", [x, c.Node("Transpose", [w], ("perm", new long[] { 1, 0 }))]);
        if (m.InProjBias is not null) qkv = c.Node("Add", [qkv, c.Initializer(m.InProjBias, Key(c, prefix + "in_proj_bias"))]);
        string[] parts = c.Node("Split", [qkv, c.Int64s(e, e, e)], 3, ("axis", 2L));
        // (N, L, E) or (L, N, E) → (N, L, H, d) or (L, N, H, d) → (N, H, L, d); keys to (N, H, d, L)
        long[] toHeads = batchFirst ? [0, 2, 1, 3] : [1, 2, 0, 3];
        string Split(string t, long[] perm) => c.Node("Transpose", [c.Node("Reshape", [t, c.Int64s(0, 0, heads, d)])], ("perm", perm));
        string q = Split(parts[0], toHeads), kT = Split(parts[1], batchFirst ? [0, 2, 3, 1] : [1, 2, 3, 0]), v = Split(parts[2], toHeads);
        string scores = c.Node("Mul", [c.Node("MatMul", [q, kT]), c.Scalar(1 / Math.Sqrt(d), "scale")]);
        if (causalLength is int l) scores = c.Node("Add", [scores, c.Initializer(CausalMask(l), c.Path == "(model)" ? "/causal_mask" : $"/{c.Path}/causal_mask")]);
        string o = c.Node("MatMul", [c.Node("Softmax", [scores], ("axis", -1L)), v]);
        long[] back = batchFirst ? [0, 2, 1, 3] : [2, 0, 1, 3];
        o = c.Node("Reshape", [c.Node("Transpose", [o], ("perm", back)), c.Int64s(0, 0, e)]);
        // the out-projection's sample only fixes its rank (3-D: MatMul + Add)
        return Emit(c, m.OutProj, new OnnxValue(o, Tensor.Zeros([1, 1, e])), prefix + "out_proj").Name;
    }

    // key j > query i is masked: −∞ added to the score
    private static Tensor CausalMask(int l)
    {
        var mask = new float[l * l];
        for (int i = 0; i < l; i++)
            for (int j = i + 1; j < l; j++) mask[i * l + j] = float.NegativeInfinity;
        return Tensor.FromArray(mask, l, l);
    }
}
