using Nabla.Autograd;
using Nabla.IO;
using Nabla.NN;
using Nabla.Tests.Interop;

namespace Nabla.Tests.NN;

/// <summary>
/// MultiheadAttention: PyTorch 1.13's torch.nn.MultiheadAttention state dicts load strictly and reproduce its outputs
/// and attention weights (tests/fixtures/torch/make_attention_fixtures.py, float32, eval mode), gradcheck (float64)
/// through every option, PyTorch's keys and initialisation, and the error messages.
/// </summary>
public class MultiheadAttentionTests
{
    private static readonly Lazy<Dictionary<string, Tensor>> s_fixture = new(() =>
        SafeTensors.Load(Path.Combine(TorchTwins.FixtureDir, "attention_mha.safetensors")).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value));

    // the fixture script's CASES: module options, self-attention, average_attn_weights, is_causal
    private static (MultiheadAttention Module, bool Self, bool Average, bool Causal) Build(string name, DType dtype = DType.Float32, Generator? g = null) => name switch
    {
        "self" => (new MultiheadAttention(8, 2, dtype: dtype, generator: g), true, true, false),
        "masks" => (new MultiheadAttention(8, 4, dtype: dtype, generator: g), false, false, false),
        "batch_first_kvdim" => (new MultiheadAttention(6, 3, kdim: 5, vdim: 3, batchFirst: true, dtype: dtype, generator: g), false, true, false),
        "bias_kv_zero_attn" => (new MultiheadAttention(8, 2, bias: false, addBiasKv: true, addZeroAttn: true, dtype: dtype, generator: g), false, false, false),
        "unbatched" => (new MultiheadAttention(4, 2, dtype: dtype, generator: g), false, true, false),
        "causal" => (new MultiheadAttention(8, 2, batchFirst: true, dtype: dtype, generator: g), true, true, true),
        _ => throw new ArgumentException(name),
    };

    public static TheoryData<string> Cases => new("self", "masks", "batch_first_kvdim", "bias_kv_zero_attn", "unbatched", "causal");

    [Theory]
    [MemberData(nameof(Cases))]
    public void PyTorchStateDictReproducesOutputsAndWeights(string name)
    {
        var io = s_fixture.Value;
        var (m, self, average, causal) = Build(name);
        var state = io.Where(kv => kv.Key.StartsWith(name + "/", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[(name.Length + 1)..], kv => kv.Value);
        Assert.Equal(state.Keys.Order(), m.StateDict().Keys.Order());   // PyTorch's keys (the file sorts them)
        m.LoadStateDict(state);
        m.Eval();
        var q = io[name + ".query"];
        var (k, v) = self ? (q, q) : (io[name + ".key"], io[name + ".value"]);
        Tensor? Mask(string key) => io.TryGetValue($"{name}.{key}_bool", out var b) ? b.Ne(0) : io.GetValueOrDefault($"{name}.{key}");
        var (y, w) = m.Forward(q, k, v, Mask("key_padding_mask"), needWeights: true, Mask("attn_mask"), average, causal);
        Assert.True(TorchTwins.ScaledError(y, io[name + ".output"]) <= 1e-5, $"{name}: output differs by {TorchTwins.ScaledError(y, io[name + ".output"]):G3}");
        Assert.True(TorchTwins.ScaledError(w!, io[name + ".weights"]) <= 1e-5, $"{name}: weights differ by {TorchTwins.ScaledError(w!, io[name + ".weights"]):G3}");
        // without weights the output is the same (the SDPA path)
        var (y2, w2) = m.Forward(q, k, v, Mask("key_padding_mask"), needWeights: false, Mask("attn_mask"), average, causal);
        Assert.Null(w2);
        Assert.True(TorchTwins.ScaledError(y2, io[name + ".output"]) <= 1e-5, $"{name}: output without weights differs");
    }

    private static Tensor KeepOut(int[] shape, int salt)
    {
        // true = NOT allowed (MultiheadAttention's convention); key 0 always allowed
        var m = new bool[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < m.Length; i++) m[i] = i % shape[^1] != 0 && (i * 5 + salt) % 3 == 0;
        return Tensor.FromArray(m, shape);
    }

    public static TheoryData<string> GradCases => new("self", "masks", "batch_first_kvdim", "bias_kv_zero_attn", "unbatched", "causal", "dropout");

    [Theory]
    [MemberData(nameof(GradCases))]
    public void GradCheckThroughEveryOption(string name)
    {
        var g = new Generator(21);
        var dropoutGen = new Generator(3);
        var m = name == "dropout" ? new MultiheadAttention(4, 2, dropout: 0.25, generator: dropoutGen, dtype: DType.Float64) : Build(name, DType.Float64, g).Module;
        bool self = name is "self" or "causal" or "dropout", average = name is not ("masks" or "bias_kv_zero_attn");
        foreach (var p in m.Parameters()) p.Copy(Tensor.Randn(p.Shape.ToArray(), DType.Float64, g) * 0.5);
        int e = m.EmbedDim, l = 3, s = 4, n = 2;
        int[] Shape(int t, int f) => name == "unbatched" ? [t, f] : m.BatchFirst ? [n, t, f] : [t, n, f];
        var q = Tensor.Randn(Shape(l, e), DType.Float64, g);
        var k = self ? q : Tensor.Randn(Shape(s, m.KDim), DType.Float64, g);
        var v = self ? q : Tensor.Randn(Shape(s, m.VDim), DType.Float64, g);
        if (self) s = l;
        Tensor? kpm = name switch
        {
            "masks" or "bias_kv_zero_attn" => KeepOut([n, s], 1),
            "unbatched" => Tensor.Randn([s], DType.Float64, g),
            _ => null,
        };
        Tensor? attn = name switch
        {
            "masks" => Tensor.Randn([l, s], DType.Float64, g),
            "batch_first_kvdim" => KeepOut([n * m.NumHeads, l, s], 2),
            "bias_kv_zero_attn" => KeepOut([l, s], 3),
            _ => null,
        };
        var inputs = new List<Tensor> { q };
        if (!self) inputs.AddRange([k, v]);
        inputs.AddRange(m.Parameters());
        if (kpm is not null && kpm.DType == DType.Float64) inputs.Add(kpm);
        if (attn is not null && attn.DType == DType.Float64) inputs.Add(attn);
        var result = GradCheck.Check(() =>
        {
            dropoutGen.ManualSeed(3);
            var (y, w) = m.Forward(q, k, v, kpm, needWeights: true, attn, average, isCausal: name == "causal");
            return [y, w!];
        }, inputs);
        Assert.True(result.Passed, $"{name}: {result}");
    }

    [Fact]
    public void KeysShapesAndInitialisationAsPyTorch()
    {
        var m = new MultiheadAttention(16, 4, generator: new Generator(1));
        Assert.Equal(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], m.StateDict().Keys);
        Assert.Equal([48, 16], m.InProjWeight!.Shape.ToArray());
        // xavier_uniform on (3E, E): bound √(6 / (E + 3E))
        double bound = Math.Sqrt(6.0 / 64), max = m.InProjWeight.ToDoubleArray().Max(Math.Abs);
        Assert.InRange(max, 0.9 * bound, bound);
        Assert.All(m.InProjBias!.ToDoubleArray(), x => Assert.Equal(0.0, x));
        Assert.All(m.OutProj.Bias!.ToDoubleArray(), x => Assert.Equal(0.0, x));
        Assert.InRange(m.OutProj.Weight.ToDoubleArray().Max(Math.Abs), 0.2, 0.25);   // Linear's ±1/√16
        var sep = new MultiheadAttention(6, 2, bias: false, addBiasKv: true, kdim: 5, vdim: 3);
        Assert.Equal(["q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v", "out_proj.weight"], sep.StateDict().Keys);
        Assert.Equal([6, 5], sep.KProjWeight!.Shape.ToArray());
        Assert.Equal([1, 1, 6], sep.BiasK!.Shape.ToArray());
    }

    [Fact]
    public void ModuleForwardIsSelfAttentionAndDropoutOnlyInTraining()
    {
        var m = new MultiheadAttention(8, 2, dropout: 0.5, batchFirst: true, generator: new Generator(4));
        var x = Tensor.Randn([2, 5, 8], generator: new Generator(5));
        m.Eval();
        var (y, _) = m.Forward(x, x, x);
        Assert.True(TorchTwins.ScaledError(m.Forward(x), y) <= 1e-6);   // the fused kernel vs the composed path (with weights)
        m.Train();
        Assert.NotEqual(y.ToDoubleArray(), m.Forward(x).ToDoubleArray());
    }

    [Fact]
    public void BadInputsNameTheModuleAndShapes()
    {
        var e = Assert.Throws<ArgumentException>(() => new MultiheadAttention(10, 3));
        Assert.Contains("divisible", e.Message);
        var m = new MultiheadAttention(8, 2);
        e = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(5, 2, 7)));
        Assert.Contains("MultiheadAttention", e.Message);
        Assert.Contains("[2, 5, 7]", e.Message);
        var x = Tensor.Zeros(5, 2, 8);
        e = Assert.Throws<ArgumentException>(() => m.Forward(x, x, x, keyPaddingMask: Tensor.Zeros([2, 4], DType.Bool)));
        Assert.Contains("key_padding_mask", e.Message);
        e = Assert.Throws<ArgumentException>(() => m.Forward(x, x, x, attnMask: Tensor.Zeros([5, 4], DType.Bool)));
        Assert.Contains("attn_mask", e.Message);
        e = Assert.Throws<ArgumentException>(() => m.Forward(x, x, x, attnMask: Tensor.Zeros([5, 5], DType.Float64)));
        Assert.Contains("float64", e.Message);
    }
}
