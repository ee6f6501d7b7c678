using Nabla.Autograd;
using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>
/// Gradcheck (float64, central differences, eps 1e-6, atol 1e-5, rtol 1e-3) through the Transformer modules with
/// respect to their inputs and every parameter, for each option: post- and pre-norm, relu/gelu/gelu_tanh, float and
/// bool attention masks (shared and per head), key padding masks, is_causal, batch_first, unbatched inputs, no bias,
/// and dropout in training mode (its masks fixed by resetting the generator before every forward).
/// Sizes are tiny: d_model 4, 2 heads, feed-forward 6, sequences of 3 and 4, batch 2.
/// </summary>
public class TransformerGradTests
{
    private sealed record GradCase(Module Module, Tensor[] Inputs, Func<Tensor> Forward);

    public static TheoryData<string> Cases() => new(All().Keys);

    private const DType F64 = DType.Float64;

    private static Tensor Seq(Generator g, bool batchFirst, int length, int n = 2) =>
        Tensor.Randn(batchFirst ? [n, length, 4] : [length, n, 4], F64, g);

    private static Tensor CausalFloat(int n) => Nabla.NN.Transformer.GenerateSquareSubsequentMask(n, F64);

    private static Tensor Bools(bool[] values, params int[] shape) => Tensor.FromArray(values, shape);

    // key 0 is never padded nor masked, so no query loses all its keys (that would be NaN, as in PyTorch)
    private static Tensor Padding() => Bools([false, false, false, false, false, true], 2, 3);

    private static Dictionary<string, Func<GradCase>> All()
    {
        var d = new Dictionary<string, Func<GradCase>>();

        GradCase Encoder(Func<Generator, TransformerEncoderLayer> make, bool batchFirst, Func<TransformerEncoderLayer, Tensor, Tensor> run, bool unbatched = false)
        {
            var g = new Generator(3);
            var m = make(g);
            var x = unbatched ? Tensor.Randn([3, 4], F64, g) : Seq(g, batchFirst, 3);
            var state = g.GetState();
            return new(m, [x], () => { g.SetState(state); return run(m, x); });
        }
        d["enc_post_relu"] = () => Encoder(g => new(4, 2, 6, dropout: 0, dtype: F64, generator: g), false, (m, x) => m.Forward(x));
        d["enc_pre_relu_float_mask"] = () => Encoder(g => new(4, 2, 6, dropout: 0, normFirst: true, dtype: F64, generator: g), false,
            (m, x) => m.Forward(x, CausalFloat(3)));
        d["enc_post_gelu_bool_mask_padding"] = () => Encoder(g => new(4, 2, 6, dropout: 0, activation: "gelu", dtype: F64, generator: g), false,
            (m, x) => m.Forward(x, Bools([false, true, false, false, false, true, false, true, false], 3, 3), Padding()));
        d["enc_pre_gelu_tanh_is_causal"] = () => Encoder(g => new(4, 2, 6, dropout: 0, activation: "gelu_tanh", normFirst: true, dtype: F64, generator: g), false,
            (m, x) => m.Forward(x, null, isCausal: true));
        d["enc_post_batch_first_padding_per_head_mask"] = () => Encoder(g => new(4, 2, 6, dropout: 0, batchFirst: true, dtype: F64, generator: g), true,
            (m, x) => m.Forward(x, Tensor.Uniform([4, 3, 3], -1, 1, F64, new Generator(8)), Padding()));
        d["enc_pre_unbatched"] = () => Encoder(g => new(4, 2, 6, dropout: 0, normFirst: true, dtype: F64, generator: g), false,
            (m, x) => m.Forward(x, CausalFloat(3)), unbatched: true);
        d["enc_post_no_bias"] = () => Encoder(g => new(4, 2, 6, dropout: 0, bias: false, dtype: F64, generator: g), false, (m, x) => m.Forward(x));
        d["enc_post_dropout_train"] = () => Encoder(g => new(4, 2, 6, dropout: 0.3, dtype: F64, generator: g), false, (m, x) => m.Forward(x));
        d["enc_pre_dropout_train_causal"] = () => Encoder(g => new(4, 2, 6, dropout: 0.3, normFirst: true, activation: "gelu", dtype: F64, generator: g), false,
            (m, x) => m.Forward(x, null, isCausal: true));

        GradCase Decoder(Func<Generator, TransformerDecoderLayer> make, bool batchFirst, Func<TransformerDecoderLayer, Tensor, Tensor, Tensor> run, bool unbatched = false)
        {
            var g = new Generator(4);
            var m = make(g);
            var tgt = unbatched ? Tensor.Randn([4, 4], F64, g) : Seq(g, batchFirst, 4);
            var memory = unbatched ? Tensor.Randn([3, 4], F64, g) : Seq(g, batchFirst, 3);
            var state = g.GetState();
            return new(m, [tgt, memory], () => { g.SetState(state); return run(m, tgt, memory); });
        }
        d["dec_post_relu"] = () => Decoder(g => new(4, 2, 6, dropout: 0, dtype: F64, generator: g), false, (m, t, mem) => m.Forward(t, mem));
        d["dec_post_relu_masks"] = () => Decoder(g => new(4, 2, 6, dropout: 0, dtype: F64, generator: g), false,
            (m, t, mem) => m.Forward(t, mem, CausalFloat(4), Tensor.Uniform([4, 3], -1, 1, F64, new Generator(9)),
                Bools([false, false, true, false, false, false, false, true], 2, 4), Padding()));
        d["dec_pre_gelu_batch_first_causal"] = () => Decoder(g => new(4, 2, 6, dropout: 0, activation: "gelu", normFirst: true, batchFirst: true, dtype: F64, generator: g), true,
            (m, t, mem) => m.Forward(t, mem, memoryKeyPaddingMask: Padding(), tgtIsCausal: true));
        d["dec_pre_unbatched_bool_memory_mask"] = () => Decoder(g => new(4, 2, 6, dropout: 0, normFirst: true, dtype: F64, generator: g), false,
            (m, t, mem) => m.Forward(t, mem, tgtIsCausal: true, memoryMask: Bools([false, true, true, false, false, true, false, true, false, false, false, false], 4, 3)), unbatched: true);
        d["dec_post_no_bias_gelu_tanh"] = () => Decoder(g => new(4, 2, 6, dropout: 0, activation: "gelu_tanh", bias: false, dtype: F64, generator: g), false,
            (m, t, mem) => m.Forward(t, mem, tgtIsCausal: true));
        d["dec_post_dropout_train"] = () => Decoder(g => new(4, 2, 6, dropout: 0.25, dtype: F64, generator: g), false,
            (m, t, mem) => m.Forward(t, mem, tgtIsCausal: true));

        d["encoder_stack_norm"] = () =>
        {
            var g = new Generator(5);
            var m = new TransformerEncoder(new TransformerEncoderLayer(4, 2, 6, dropout: 0, dtype: F64, generator: g), 2, new LayerNorm(4, dtype: F64));
            Perturb(m, g);
            var x = Seq(g, false, 3);
            return new(m, [x], () => m.Forward(x, null, Padding(), isCausal: true));
        };
        d["decoder_stack"] = () =>
        {
            var g = new Generator(6);
            var m = new TransformerDecoder(new TransformerDecoderLayer(4, 2, 6, dropout: 0, normFirst: true, dtype: F64, generator: g), 2);
            Perturb(m, g);
            var (t, mem) = (Seq(g, false, 4), Seq(g, false, 3));
            return new(m, [t, mem], () => m.Forward(t, mem, CausalFloat(4)));
        };
        foreach (bool pre in new[] { false, true })
            d[$"transformer_{(pre ? "pre" : "post")}"] = () =>
            {
                var g = new Generator(7);
                var m = new Nabla.NN.Transformer(4, 2, 1, 1, 6, dropout: 0, normFirst: pre, batchFirst: pre, dtype: F64, generator: g);
                Perturb(m, g);
                var (src, tgt) = (Seq(g, pre, 3), Seq(g, pre, 4));
                return new(m, [src, tgt], () => m.Forward(src, tgt, tgtMask: CausalFloat(4), srcKeyPaddingMask: Padding(), memoryKeyPaddingMask: Padding()));
            };

        d["rotary_full"] = () =>
        {
            var rope = new RotaryEmbedding(4);
            var x = Tensor.Randn([2, 3, 4], F64, new Generator(1));
            return new(rope, [x], () => rope.Forward(x));
        };
        d["rotary_partial_offset"] = () =>
        {
            var rope = new RotaryEmbedding(2, @base: 100);
            var x = Tensor.Randn([2, 2, 3, 5], F64, new Generator(2));
            return new(rope, [x], () => rope.Forward(x, offset: 4));
        };
        d["learned_positions_batch_first_offset"] = () =>
        {
            var g = new Generator(3);
            var pe = new LearnedPositionalEmbedding(6, 4, batchFirst: true, dtype: F64, generator: g);
            var x = Seq(g, true, 3);
            return new(pe, [x], () => pe.Forward(x, offset: 2));
        };
        d["sinusoidal_dropout_train"] = () =>
        {
            var g = new Generator(4);
            var pe = new SinusoidalPositionalEncoding(4, dropout: 0.5, maxLen: 8, generator: g);
            var x = Seq(g, false, 3);
            var state = g.GetState();
            return new(pe, [x], () => { g.SetState(state); return pe.Forward(x, offset: 1); });
        };
        return d;
    }

    /// <summary>Moves every parameter a little, so the copies of a stacked layer (equal at start) and zero biases differ.</summary>
    private static void Perturb(Module m, Generator g)
    {
        foreach (var p in m.Parameters()) p.Copy(p + Tensor.Randn(p.Shape.ToArray(), F64, g) * 0.2);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void GradCheckInputsAndParameters(string name)
    {
        var c = All()[name]();
        var inputs = new List<Tensor>(c.Inputs);
        inputs.AddRange(c.Module.Parameters());
        var result = GradCheck.Check(c.Forward, inputs);
        Assert.True(result.Passed, $"{name}: {result}");
        Assert.True(result.Checked > 0, $"{name}: nothing checked");
    }
}
