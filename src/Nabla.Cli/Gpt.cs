using Nabla.NN;
using Nabla.Onnx;

namespace Nabla.Cli;

/// <summary>
/// A small decoder-only transformer over characters (GPT-2's layout, as nanoGPT's): token embedding plus learned
/// position embedding, <c>layers</c> pre-norm blocks of causal multi-head self-attention and a GELU MLP (4·dim),
/// a final LayerNorm, and an output head that shares the token embedding's weight (weight tying, so the logits are
/// h·Wᵀ and the head adds no parameters). Embeddings start from N(0, 0.02²).
/// Each block is a <see cref="TransformerEncoderLayer"/>(dim, heads, 4·dim, dropout, "gelu", batchFirst, normFirst)
/// run with isCausal, as PyTorch's <c>TransformerEncoderLayer(..., batch_first=True, norm_first=True)</c> with a
/// causal mask. Parameter keys: <c>tok_emb.weight</c>, <c>pos_emb.weight</c>, <c>blocks.{i}.</c> with the layer's
/// PyTorch names (<c>self_attn.in_proj_weight</c>, <c>self_attn.in_proj_bias</c>, <c>self_attn.out_proj.weight</c>/<c>bias</c>,
/// <c>linear1</c>, <c>linear2</c>, <c>norm1</c>, <c>norm2</c>), <c>ln_f.weight</c>, <c>ln_f.bias</c>.
/// Shape: (B, T) character indices, T ≤ context → (B, T, vocab) logits of the next character.
/// </summary>
internal sealed class Gpt : Module, IOnnxExportable
{
    private readonly Embedding _tokEmb, _posEmb;
    private readonly ModuleList _blocks;
    private readonly LayerNorm _lnF;

    /// <summary>Creates the model; <paramref name="g"/> draws the initial weights and, in training, the dropout masks.</summary>
    public Gpt(int vocab, int context, int dim, int layers, int heads, double dropout, Generator g)
    {
        if (dim % heads != 0) throw new ArgumentException($"Gpt: --dim ({dim}) must be divisible by --heads ({heads}).");
        (Vocab, Context, Dim, Layers, Heads) = (vocab, context, dim, layers, heads);
        _tokEmb = RegisterModule("tok_emb", new Embedding(vocab, dim, generator: g));
        _posEmb = RegisterModule("pos_emb", new Embedding(context, dim, generator: g));
        // N(0, 1) rows would make the tied head's first logits ~√dim large: GPT-2 draws them from N(0, 0.02²)
        _tokEmb.Weight.Copy(Tensor.Randn([vocab, dim], DType.Float32, g) * 0.02);
        _posEmb.Weight.Copy(Tensor.Randn([context, dim], DType.Float32, g) * 0.02);
        _blocks = RegisterModule("blocks", new ModuleList());
        for (int i = 0; i < layers; i++)
            _blocks.Add(new TransformerEncoderLayer(dim, heads, 4 * dim, dropout, "gelu", batchFirst: true, normFirst: true, generator: g));
        _lnF = RegisterModule("ln_f", new LayerNorm(dim));
    }

    public int Vocab { get; }

    public int Context { get; }

    public int Dim { get; }

    public int Layers { get; }

    public int Heads { get; }

    /// <summary>Logits of the next character at every position. Shape: (B, T) → (B, T, vocab).</summary>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 2) throw new ArgumentException($"Gpt: input must be (batch, time) character indices, got shape ({string.Join(", ", input.Shape.ToArray())}).");
        int t = input.Shape[1];
        if (t > Context) throw new ArgumentException($"Gpt: input has {t} positions but the model's context is {Context}.");
        var h = _tokEmb.Forward(input) + _posEmb.Forward(Tensor.Arange(t));
        foreach (TransformerEncoderLayer block in _blocks) h = block.Forward(h, null, isCausal: true);
        return Tensor.Linear(_lnF.Forward(h), _tokEmb.Weight);
    }

    /// <inheritdoc/>
    public bool InputIsIndices => true;

    /// <summary>
    /// The ONNX graph (nabla export): Gather of the token embedding, plus the first T rows of the position embedding,
    /// the blocks with the causal mask, ln_f, and the tied head as a MatMul with the token embedding's transpose
    /// (one initializer, tok_emb.weight, serves both). T is the sample's length.
    /// </summary>
    public OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input)
    {
        int t = input.Sample.Size(1);
        string w = context.Initializer(_tokEmb.Weight, "tok_emb.weight");
        string ids = context.IsInt64(input.Name) ? input.Name : context.Node("Cast", [input.Name], ("to", 7L));   // 7: INT64
        string pos = context.Node("Slice", [context.Initializer(_posEmb.Weight, "pos_emb.weight"), context.Int64s(0), context.Int64s(t), context.Int64s(0)]);
        var h = new OnnxValue(context.Node("Add", [context.Node("Gather", [w, ids], ("axis", 0L)), pos]),
            _tokEmb.Forward(input.Sample) + _posEmb.Forward(Tensor.Arange(t)));
        for (int i = 0; i < _blocks.Count; i++) h = context.EmitCausal(_blocks[i], h, $"blocks.{i}");
        h = context.Emit(_lnF, h, "ln_f");
        string logits = context.Node("MatMul", [h.Name, context.Node("Transpose", [w], ("perm", new long[] { 1, 0 }))]);
        return new OnnxValue(logits, Tensor.Linear(h.Sample, _tokEmb.Weight));
    }
}
