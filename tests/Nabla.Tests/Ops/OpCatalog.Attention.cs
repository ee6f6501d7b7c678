namespace Nabla.Tests.Ops;

// The op-catalog entries of ScaledDotProductAttention: every option (bool masks, float masks as differentiable
// inputs, causal with L < S and L > S, a custom scale, dropout with a generator reseeded on every call so each
// evaluation draws the same mask), broadcast batch dims, a non-contiguous query and a single key. Sizes are odd and
// L ≠ S so no kernel path can lean on multiples of the vector width. Without dropout and without a differentiable
// float mask the op runs the fused tiled kernel (Kernels/Attention); the sdpa_blocks_* entries span several of its
// 64-row/64-key blocks.
public static partial class OpCatalog
{
    /// <summary>A fixed bool mask (true = takes part) with key 0 always taking part, so no row is fully masked.</summary>
    private static Tensor KeepMask(int[] shape, int salt)
    {
        var m = new bool[shape.Aggregate(1, (a, b) => a * b)];
        int s = shape[^1];
        for (int i = 0; i < m.Length; i++) m[i] = i % s == 0 || (i * 7 + salt) % 3 != 0;
        return Tensor.FromArray(m, shape);
    }

    private static IEnumerable<OpCase> AttentionCases()
    {
        yield return new("sdpa_plain", g => [Randn(g, 2, 2, 3, 4), Randn(g, 2, 2, 5, 4), Randn(g, 2, 2, 5, 3)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2]));
        yield return new("sdpa_bool_mask", g => [Randn(g, 2, 3, 5), Randn(g, 2, 6, 5), Randn(g, 2, 6, 3)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], KeepMask([3, 6], 1)));
        yield return new("sdpa_bool_mask_per_batch", g => [Randn(g, 2, 2, 3, 3), Randn(g, 2, 2, 5, 3), Randn(g, 2, 2, 5, 2)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], KeepMask([2, 1, 3, 5], 2)));
        yield return new("sdpa_float_mask", g => [Randn(g, 2, 3, 5), Randn(g, 2, 4, 5), Randn(g, 2, 4, 3), Randn(g, 3, 4)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], x[3]));
        yield return new("sdpa_float_mask_full", g => [Randn(g, 2, 3, 2), Randn(g, 2, 4, 2), Randn(g, 2, 4, 3), Randn(g, 2, 3, 4)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], x[3]));
        yield return new("sdpa_float_mask_constant", g => [Randn(g, 2, 3, 5), Randn(g, 2, 4, 5), Randn(g, 2, 4, 3)], x =>
            Tensor.ScaledDotProductAttention(x[0], x[1], x[2], Tensor.Randn([2, 1, 4], DType.Float64, new Generator(8)).To(x[0].DType)));
        yield return new("sdpa_blocks_bool_mask", g => [Randn(g, 70, 3), Randn(g, 130, 3), Randn(g, 130, 2)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], KeepMask([70, 130], 4)));
        yield return new("sdpa_blocks_causal", g => [Randn(g, 1, 130, 2), Randn(g, 1, 66, 2), Randn(g, 1, 66, 3)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true));
        yield return new("sdpa_causal", g => [Randn(g, 2, 4, 3), Randn(g, 2, 6, 3), Randn(g, 2, 6, 5)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true));
        yield return new("sdpa_causal_long_query", g => [Randn(g, 1, 5, 3), Randn(g, 1, 3, 3), Randn(g, 1, 3, 2)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true));
        yield return new("sdpa_scale", g => [Randn(g, 3, 4, 5), Randn(g, 3, 2, 5), Randn(g, 3, 2, 5)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], scale: 0.7));
        yield return new("sdpa_dropout", g => [Randn(g, 2, 4, 3), Randn(g, 2, 5, 3), Randn(g, 2, 5, 3)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2], dropoutP: 0.3, generator: new Generator(5)));
        yield return new("sdpa_broadcast_batch", g => [Randn(g, 2, 3, 3, 4), Randn(g, 3, 5, 4), Randn(g, 1, 3, 5, 2)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2]));
        yield return new("sdpa_transposed_query", g => [Randn(g, 2, 4, 3), Randn(g, 2, 5, 4), Randn(g, 2, 5, 3)],
            x => Tensor.ScaledDotProductAttention(x[0].Transpose(-1, -2), x[1], x[2]));
        yield return new("sdpa_single_key", g => [Randn(g, 2, 3, 4), Randn(g, 2, 1, 4), Randn(g, 2, 1, 3)],
            x => Tensor.ScaledDotProductAttention(x[0], x[1], x[2]));
    }
}
