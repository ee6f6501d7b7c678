using Nabla.NN;

namespace Nabla.Cli;

/// <summary>
/// A small decoder-only transformer over characters (GPT-2's layout, as nanoGPT's): token embedding plus learned
/// position embedding, <c>layers</c> pre-norm blocks of causal multi-head self-attention and a GELU MLP (4·dim),
/// a final LayerNorm, and an output head that shares the token embedding's weight (weight tying, so the logits are
/// h·Wᵀ and the head adds no parameters). Embeddings start from N(0, 0.02²).
/// Parameter keys: <c>tok_emb.weight</c>, <c>pos_emb.weight</c>, <c>blocks.{i}.</c> with PyTorch's
/// <c>nn.TransformerEncoderLayer</c> names (<c>self_attn.in_proj_weight</c>, <c>self_attn.in_proj_bias</c>,
/// <c>self_attn.out_proj.weight</c>/<c>bias</c>, <c>linear1</c>, <c>linear2</c>, <c>norm1</c>, <c>norm2</c>),
/// <c>ln_f.weight</c>, <c>ln_f.bias</c>; PyTorch's <c>TransformerEncoderLayer(dim, heads, 4·dim, dropout, "gelu",
/// batch_first=True, norm_first=True)</c> with a causal mask computes the same block.
/// Shape: (B, T) character indices, T ≤ context → (B, T, vocab) logits of the next character.
/// </summary>
internal sealed class Gpt : Module
{
    private readonly Embedding _tokEmb, _posEmb;
    private readonly GptBlock[] _blocks;
    private readonly LayerNorm _lnF;

    public Gpt(int vocab, int context, int dim, int layers, int heads, double dropout, Generator g, Generator? dropoutGenerator = null)
    {
        if (dim % heads != 0) throw new ArgumentException($"Gpt: --dim ({dim}) must be divisible by --heads ({heads}).");
        (Vocab, Context, Dim, Layers, Heads) = (vocab, context, dim, layers, heads);
        _tokEmb = RegisterModule("tok_emb", new Embedding(vocab, dim, generator: g));
        _posEmb = RegisterModule("pos_emb", new Embedding(context, dim, generator: g));
        // N(0, 1) rows would make the tied head's first logits ~√dim large: GPT-2 draws them from N(0, 0.02²)
        _tokEmb.Weight.Copy(Tensor.Randn([vocab, dim], DType.Float32, g) * 0.02);
        _posEmb.Weight.Copy(Tensor.Randn([context, dim], DType.Float32, g) * 0.02);
        var blocks = RegisterModule("blocks", new Sequential());
        _blocks = new GptBlock[layers];
        for (int i = 0; i < layers; i++) blocks.Add(_blocks[i] = new GptBlock(dim, heads, dropout, g, dropoutGenerator));
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
        var mask = CausalMask(t);
        foreach (var block in _blocks) h = block.Forward(h, mask);
        return Tensor.Linear(_lnF.Forward(h), _tokEmb.Weight);
    }

    /// <summary>True above the diagonal: position i may not attend to j &gt; i. Shape: (T, T).</summary>
    internal static Tensor CausalMask(int t)
    {
        var m = new bool[t * t];
        for (int i = 0; i < t; i++)
            for (int j = i + 1; j < t; j++) m[i * t + j] = true;
        return Tensor.FromArray(m, t, t);
    }
}

/// <summary>
/// One pre-norm block, x + SA(LN(x)) then x + MLP(LN(x)), with PyTorch's TransformerEncoderLayer parameter names.
/// Shape: (B, T, D) → (B, T, D).
/// </summary>
internal sealed class GptBlock : Module
{
    private readonly int _heads;
    private readonly double _dropout;
    private readonly Generator? _dropoutGenerator;
    private readonly Parameter _inProjWeight, _inProjBias;
    private readonly Linear _outProj, _linear1, _linear2;
    private readonly LayerNorm _norm1, _norm2;

    public GptBlock(int dim, int heads, double dropout, Generator g, Generator? dropoutGenerator)
    {
        (_heads, _dropout, _dropoutGenerator) = (heads, dropout, dropoutGenerator);
        var attn = RegisterModule("self_attn", new AttnParams());
        // PyTorch's MultiheadAttention: in_proj xavier-uniform, biases zero
        double bound = Math.Sqrt(6.0 / (dim + 3 * dim));
        _inProjWeight = attn.Add("in_proj_weight", new Parameter(Tensor.Uniform([3 * dim, dim], -bound, bound, DType.Float32, g)));
        _inProjBias = attn.Add("in_proj_bias", new Parameter(Tensor.Zeros([3 * dim], DType.Float32)));
        _outProj = attn.AddModule("out_proj", new Linear(dim, dim, generator: g));
        _outProj.Bias!.Copy(Tensor.Zeros([dim], DType.Float32));
        _linear1 = RegisterModule("linear1", new Linear(dim, 4 * dim, generator: g));
        _linear2 = RegisterModule("linear2", new Linear(4 * dim, dim, generator: g));
        _norm1 = RegisterModule("norm1", new LayerNorm(dim));
        _norm2 = RegisterModule("norm2", new LayerNorm(dim));
    }

    public override Tensor Forward(Tensor input) => Forward(input, Gpt.CausalMask(input.Shape[1]));

    public Tensor Forward(Tensor x, Tensor mask)
    {
        x = x + Drop(SelfAttention(_norm1.Forward(x), mask));
        return x + Drop(_linear2.Forward(Drop(_linear1.Forward(_norm2.Forward(x)).Gelu())));
    }

    private Tensor Drop(Tensor x) => _dropout > 0 ? x.Dropout(_dropout, Training, _dropoutGenerator) : x;

    // softmax(q·kᵀ/√d masked)·v per head, composed from MatMul and Softmax
    private Tensor SelfAttention(Tensor x, Tensor mask)
    {
        int b = x.Shape[0], t = x.Shape[1], d = x.Shape[2], hd = d / _heads;
        var qkv = Tensor.Linear(x, _inProjWeight, _inProjBias).Reshape(b, t, 3, _heads, hd).Permute(2, 0, 3, 1, 4); // (3, B, H, T, hd)
        Tensor q = qkv.Select(0, 0), k = qkv.Select(0, 1), v = qkv.Select(0, 2);
        var att = (q.MatMul(k.Transpose(-2, -1)) * (1.0 / Math.Sqrt(hd))).MaskedFill(mask, double.NegativeInfinity).Softmax(-1);
        if (_dropout > 0) att = att.Dropout(_dropout, Training, _dropoutGenerator);
        var y = att.MatMul(v).Permute(0, 2, 1, 3).Reshape(b, t, d);
        return _outProj.Forward(y);
    }

    // holds self_attn's parameters under PyTorch's names (MultiheadAttention keeps in_proj_* itself, out_proj as a Linear)
    private sealed class AttnParams : Module
    {
        public Parameter Add(string name, Parameter p) => RegisterParameter(name, p)!;

        public T AddModule<T>(string name, T m) where T : Module => RegisterModule(name, m);

        public override Tensor Forward(Tensor input) => throw new NotSupportedException("GptBlock.self_attn holds parameters only.");
    }
}
