using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>The Transformer modules' structure (PyTorch's keys and order, deep-copied layers), masks, modes and errors.</summary>
public class TransformerModuleTests
{
    [Fact]
    public void EncoderLayerKeysAreExactlyPyTorchs()
    {
        var layer = new TransformerEncoderLayer(8, 2, 16);
        Assert.Equal([
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        ], layer.StateDict().Keys);
        var noBias = new TransformerEncoderLayer(8, 2, 16, bias: false);
        Assert.Equal(["self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight", "linear2.weight", "norm1.weight", "norm2.weight"],
            noBias.StateDict().Keys);
        var dec = new TransformerDecoderLayer(8, 2, 16);
        Assert.Equal(["self_attn", "multihead_attn", "linear1", "linear2", "norm1", "norm2", "norm3"],
            dec.StateDict().Keys.Select(k => k[..k.IndexOf('.')]).Distinct());
    }

    [Fact]
    public void StacksHoldDeepCopiesThatStartEqualAndTrainApart()
    {
        var layer = new TransformerEncoderLayer(4, 2, 6, dropout: 0);
        var enc = new TransformerEncoder(layer, 3, new LayerNorm(4));
        var state = enc.StateDict();
        Assert.Equal(3 * 12 + 2, state.Count);
        Assert.Contains("layers.2.self_attn.out_proj.bias", state.Keys);
        Assert.Contains("norm.weight", state.Keys);
        Assert.Equal(layer.Linear1.Weight.ToDoubleArray(), state["layers.0.linear1.weight"].ToDoubleArray());
        Assert.Equal(state["layers.0.linear1.weight"].ToDoubleArray(), state["layers.2.linear1.weight"].ToDoubleArray());
        Assert.NotSame(state["layers.0.linear1.weight"], state["layers.1.linear1.weight"]);
        Assert.NotSame(layer.Linear1.Weight, state["layers.0.linear1.weight"]);
        Assert.Equal(3 * layer.ParameterCount() + 8, enc.ParameterCount());
        // every copy's parameter is its own: changing one leaves the others
        ((Parameter)state["layers.1.linear1.weight"]).Copy(Tensor.Zeros(6, 4));
        Assert.NotEqual(state["layers.0.linear1.weight"].ToDoubleArray(), state["layers.1.linear1.weight"].ToDoubleArray());
        // a frozen parameter and eval mode carry over to the copies
        layer.Linear2.Weight.RequiresGrad = false;
        layer.Eval();
        var frozen = new TransformerEncoder(layer, 2);
        Assert.All(frozen.Layers, l => Assert.False(((TransformerEncoderLayer)l).Linear2.Weight.RequiresGrad));
        Assert.All(frozen.Layers, l => Assert.True(((TransformerEncoderLayer)l).Linear1.Weight.RequiresGrad));
        Assert.All(frozen.Layers, l => Assert.False(l.Training));
    }

    [Fact]
    public void TransformerHasPyTorchsKeysAndXavierMatrices()
    {
        var m = new Nabla.NN.Transformer(8, 2, 2, 1, 16, generator: new Generator(1));
        var keys = m.StateDict().Keys.ToList();
        Assert.Equal(2 * 12 + 2 + 1 * 18 + 2, keys.Count);
        Assert.Equal("encoder.layers.0.self_attn.in_proj_weight", keys[0]);
        Assert.Contains("encoder.norm.bias", keys);
        Assert.Contains("decoder.layers.0.multihead_attn.in_proj_weight", keys);
        Assert.Equal("decoder.norm.bias", keys[^1]);
        // xavier_uniform: |w| ≤ √(6 / (fan_in + fan_out)); the two encoder layers now differ
        var w = m.StateDict()["encoder.layers.0.linear1.weight"].ToDoubleArray();
        double bound = Math.Sqrt(6.0 / (8 + 16));
        Assert.All(w, v => Assert.True(Math.Abs(v) <= bound));
        Assert.True(w.Max() > 0.8 * bound);
        Assert.NotEqual(w, m.StateDict()["encoder.layers.1.linear1.weight"].ToDoubleArray());
    }

    [Fact]
    public void SquareSubsequentMaskIsZeroOnAndBelowTheDiagonal()
    {
        var mask = Nabla.NN.Transformer.GenerateSquareSubsequentMask(3).ToDoubleArray();
        double inf = double.NegativeInfinity;
        Assert.Equal([0, inf, inf, 0, 0, inf, 0, 0, 0], mask);
        Assert.Equal(DType.Float64, Nabla.NN.Transformer.GenerateSquareSubsequentMask(2, DType.Float64).DType);
    }

    [Fact]
    public void IsCausalEqualsTheExplicitCausalMaskAndMasksTheFuture()
    {
        var g = new Generator(2);
        var layer = new TransformerEncoderLayer(4, 2, 6, dropout: 0, dtype: DType.Float64, generator: g);
        var x = Tensor.Randn([5, 2, 4], DType.Float64, g);
        var causal = layer.Forward(x, null, isCausal: true).ToDoubleArray();
        Assert.Equal(layer.Forward(x, Nabla.NN.Transformer.GenerateSquareSubsequentMask(5, DType.Float64)).ToDoubleArray(), causal);
        // changing the last position does not move the earlier outputs
        var x2 = x.Clone();
        x2.Narrow(0, 4, 1).CopyFrom(Tensor.Randn([1, 2, 4], DType.Float64, g));
        var y2 = layer.Forward(x2, null, isCausal: true).ToDoubleArray();
        Assert.Equal(causal[..32], y2[..32]);
        Assert.NotEqual(causal[32..], y2[32..]);
    }

    [Fact]
    public void DropoutActsInTrainingOnlyAndUnbatchedMatchesBatchOfOne()
    {
        var g = new Generator(3);
        var layer = new TransformerDecoderLayer(4, 2, 6, dropout: 0.5, normFirst: true, dtype: DType.Float64, generator: g);
        var (t, mem) = (Tensor.Randn([3, 4], DType.Float64, g), Tensor.Randn([2, 4], DType.Float64, g));
        var train1 = layer.Forward(t, mem).ToDoubleArray();
        Assert.NotEqual(train1, layer.Forward(t, mem).ToDoubleArray());
        layer.Eval();
        var eval = layer.Forward(t, mem).ToDoubleArray();
        Assert.Equal(eval, layer.Forward(t, mem).ToDoubleArray());
        var batched = layer.Forward(t.Unsqueeze(1), mem.Unsqueeze(1)).ToDoubleArray();
        Assert.Equal(eval, batched);
        var enc = new TransformerEncoder(new TransformerEncoderLayer(4, 2, 6, dropout: 0.5, dtype: DType.Float64, generator: g), 2);
        enc.Eval();
        Assert.All(enc.Layers, l => Assert.False(l.Training));
    }

    [Fact]
    public void BadOptionsAndShapesAreRefusedNamingTheModule()
    {
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerEncoderLayer(6, 4));
        Assert.Contains("TransformerEncoderLayer: d_model must be a positive multiple of nhead, got d_model=6, nhead=4", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => new TransformerDecoderLayer(4, 2, activation: "tanh"));
        Assert.Contains("TransformerDecoderLayer: activation must be one of relu, gelu, gelu_tanh, got 'tanh'", e2.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerEncoderLayer(4, 2, dropout: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TransformerEncoder(new TransformerEncoderLayer(4, 2, 6), 0));
        var layer = new TransformerEncoderLayer(4, 2, 6);
        var e3 = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(3, 2, 5)));
        Assert.Contains("TransformerEncoderLayer: expected src of shape (L, N, 4) or unbatched (L, 4), got [3, 2, 5]", e3.Message);
        var m = new Nabla.NN.Transformer(4, 2, 1, 1, 6);
        var e4 = Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Zeros(3, 2, 4), Tensor.Zeros(3, 3, 4)));
        Assert.Contains("Transformer: the batch sizes of src and tgt must be equal", e4.Message);
        Assert.Throws<NotSupportedException>(() => m.Forward(Tensor.Zeros(3, 2, 4)));
        Assert.Throws<NotSupportedException>(() => new TransformerDecoderLayer(4, 2, 6).Forward(Tensor.Zeros(3, 2, 4)));
        Assert.Contains("TransformerEncoderLayer(d_model=4, nhead=2, dim_feedforward=6, dropout=0.1, activation=relu\n", layer.ToString().Replace("\r", ""));
    }

    [Fact]
    public void TrainsATinyCausalModelWithTiedEmbeddings()
    {
        // a tiny decoder-only model learns to copy the previous token: a few Adam steps bring the loss down
        var g = new Generator(4);
        var embed = new Embedding(6, 8, generator: g);
        var pos = new LearnedPositionalEmbedding(8, 8, batchFirst: true, generator: g);
        var layer = new TransformerEncoderLayer(8, 2, 16, dropout: 0, batchFirst: true, normFirst: true, generator: g);
        var head = new Linear(8, 6, bias: false, generator: g) { Weight = embed.Weight };
        var parameters = embed.Parameters().Concat(pos.Parameters()).Concat(layer.Parameters()).ToList();
        var opt = new Nabla.Optim.Adam(parameters, lr: 0.02);
        var tokens = Tensor.RandInt(0, 6, [16, 8], DType.Float32, g);
        var inputs = tokens.Narrow(1, 1, 7);
        var targets = tokens.Narrow(1, 0, 7).Contiguous().Reshape(-1);
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            var h = layer.Forward(pos.Forward(embed.Forward(inputs)), null, isCausal: true);
            var loss = Tensor.CrossEntropy(head.Forward(h).Reshape(-1, 6), targets);
            foreach (var p in parameters) p.Grad = null;
            loss.Backward();
            opt.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < 0.5 * first, $"loss {first:G4} → {last:G4}");
    }
}
