using Nabla.IO;
using Nabla.NN;
using Xunit.Abstractions;

namespace Nabla.Tests.NN;

/// <summary>
/// Nabla's Transformer modules against PyTorch 1.13 (tests/fixtures/torch/make_transformer_fixtures.py, float64): each
/// PyTorch state dict loads strictly (so every key matches), the output on the saved inputs and masks matches, and so do
/// the gradients of sum(out·seed) for every input and parameter. Rotary and sinusoidal cases are the formulas as
/// GPT-NeoX and the PyTorch tutorial write them in torch.
/// </summary>
public class TransformerTorchTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-10;   // float64 on both sides: max |nabla − torch| / max |torch|

    public static TheoryData<string> Cases => new(
        "encoder_layer_post_relu", "encoder_layer_pre_gelu_batch_first", "decoder_layer_post_relu", "decoder_layer_pre_gelu_batch_first",
        "encoder_stack_norm", "transformer_post", "transformer_pre_batch_first", "rotary_partial_offset", "sinusoidal");

    private const int E = 8, H = 2, FF = 16;

    private static (Module? Model, Func<Dictionary<string, Tensor>, Tensor> Forward) Build(string name, DType dtype = DType.Float64)
    {
        var g = new Generator(5);
        switch (name)
        {
            case "encoder_layer_post_relu":
            {
                var m = new TransformerEncoderLayer(E, H, FF, dropout: 0, dtype: dtype, generator: g);
                return (m, x => m.Forward(x["src"], x["src_mask"], x["src_key_padding_mask"]));
            }
            case "encoder_layer_pre_gelu_batch_first":
            {
                var m = new TransformerEncoderLayer(E, H, FF, dropout: 0, activation: "gelu", batchFirst: true, normFirst: true, dtype: dtype, generator: g);
                return (m, x => m.Forward(x["src"], x["src_mask"], x["src_key_padding_mask"]));
            }
            case "decoder_layer_post_relu" or "decoder_layer_pre_gelu_batch_first":
            {
                bool pre = name.Contains("pre", StringComparison.Ordinal);
                var m = new TransformerDecoderLayer(E, H, FF, dropout: 0, activation: pre ? "gelu" : "relu", batchFirst: pre, normFirst: pre, dtype: dtype, generator: g);
                return (m, x => m.Forward(x["tgt"], x["memory"], x["tgt_mask"], x.GetValueOrDefault("memory_mask"), x["tgt_key_padding_mask"], x["memory_key_padding_mask"]));
            }
            case "encoder_stack_norm":
            {
                var m = new TransformerEncoder(new TransformerEncoderLayer(E, H, FF, dropout: 0, dtype: dtype, generator: g), 2, new LayerNorm(E, dtype: dtype));
                return (m, x => m.Forward(x["src"], x["mask"]));
            }
            case "transformer_post" or "transformer_pre_batch_first":
            {
                bool pre = name.Contains("pre", StringComparison.Ordinal);
                var m = new Nabla.NN.Transformer(E, H, 2, 2, FF, dropout: 0, batchFirst: pre, normFirst: pre, dtype: dtype, generator: g);
                return (m, x => m.Forward(x["src"], x["tgt"], tgtMask: x["tgt_mask"], srcKeyPaddingMask: x["src_key_padding_mask"], memoryKeyPaddingMask: x["memory_key_padding_mask"]));
            }
            case "rotary_partial_offset":
            {
                var rope = new RotaryEmbedding(6);
                return (null, x => rope.Forward(x["x"], offset: 3));
            }
            case "sinusoidal":
            {
                var pe = new SinusoidalPositionalEncoding(10, dropout: 0, maxLen: 50);
                return (null, x => pe.Forward(x["x"]));
            }
            default: throw new ArgumentException(name);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorchForwardAndBackward(string name)
    {
        var file = SafeTensors.Load(Path.Combine(Docs.NablaProcess.RepoRoot, "tests", "fixtures", "torch", "transformer", name + ".safetensors"));
        var t = file.Tensors;
        var bools = file.Metadata["bool_inputs"].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var (model, forward) = Build(name);
        if (model is not null)
        {
            var state = t.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["model.".Length..], kv => kv.Value);
            model.LoadStateDict(state, strict: true);
            model.Eval();
        }
        var inputs = new Dictionary<string, Tensor>();
        foreach (var (key, v) in t.Where(kv => kv.Key.StartsWith("in.", StringComparison.Ordinal)))
        {
            string k = key["in.".Length..];
            inputs[k] = bools.Contains(k) ? Tensor.Gt(v, Tensor.Scalar(0.5, DType.Float64)) : v.Clone();
            if (!bools.Contains(k) && t.ContainsKey("grad." + k)) inputs[k].RequiresGrad = true;
        }

        var y = forward(inputs);
        Check(name, "out", y, t["out"]);
        (y * t["seed"]).Sum().Backward();
        int checkedGrads = 0;
        foreach (var (k, v) in inputs)
            if (t.TryGetValue("grad." + k, out var expected)) { Check(name, "grad." + k, v.Grad!, expected); checkedGrads++; }
        if (model is not null)
            foreach (var (k, p) in model.NamedParameters()) { Check(name, "grad.model." + k, p.Grad!, t["grad.model." + k]); checkedGrads++; }
        Assert.Equal(t.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)), checkedGrads);
    }

    /// <summary>
    /// The same fixtures in float32: PyTorch's float64 weights and inputs rounded to float32 give outputs within 1e-5 of
    /// the float64 reference's scale (float32's own rounding, through the float32 kernels).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32ModelsMatchPyTorchsFloat64Outputs(string name)
    {
        var file = SafeTensors.Load(Path.Combine(Docs.NablaProcess.RepoRoot, "tests", "fixtures", "torch", "transformer", name + ".safetensors"));
        var t = file.Tensors;
        var bools = file.Metadata["bool_inputs"].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var (model, forward) = Build(name, DType.Float32);
        if (model is not null)
        {
            model.LoadStateDict(t.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["model.".Length..], kv => kv.Value.To(DType.Float32)), strict: true);
            model.Eval();
        }
        var inputs = t.Where(kv => kv.Key.StartsWith("in.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["in.".Length..],
            kv => bools.Contains(kv.Key["in.".Length..]) ? Tensor.Gt(kv.Value, Tensor.Scalar(0.5, DType.Float64)) : kv.Value.To(DType.Float32));
        var y = forward(inputs);
        Assert.Equal(DType.Float32, y.DType);
        double err = TorchTwinsError(y.To(DType.Float64), t["out"]);
        output.WriteLine($"{name} float32 out: scaled error {err:G3}");
        Assert.True(err <= 1e-5, $"{name}: float32 output differs from PyTorch's float64 by {err:G3} of its scale");
    }

    private void Check(string name, string key, Tensor actual, Tensor expected)
    {
        Assert.NotNull(actual);
        double err = TorchTwinsError(actual, expected);
        output.WriteLine($"{name} {key}: scaled error {err:G3}");
        Assert.True(err <= Tolerance, $"{name}: {key} differs from PyTorch's by {err:G3} of its scale");
    }

    private static double TorchTwinsError(Tensor actual, Tensor expected) => Interop.TorchTwins.ScaledError(actual, expected);
}
