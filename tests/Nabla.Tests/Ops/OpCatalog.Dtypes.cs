namespace Nabla.Tests.Ops;

// The ops that take int64 indices or bool masks: Where, MaskedFill, Cumsum, Sort, TopK, Scatter, ScatterAdd, and
// Gather with an int64 index. The index and mask tensors are captured data, not differentiated.
public static partial class OpCatalog
{
    private static Tensor Long(long[] values, params int[] shape) => shape.Length == 0 ? Tensor.FromArray(values) : Tensor.FromArray(values, shape);

    private static Tensor Mask(bool[] values, params int[] shape) => shape.Length == 0 ? Tensor.FromArray(values) : Tensor.FromArray(values, shape);

    private static IEnumerable<OpCase> DtypeCases()
    {
        var m23 = Mask([true, false, true, false, false, true], 2, 3);
        yield return new("where", g => [Randn(g, 2, 3), Randn(g, 2, 3)], x => Tensor.Where(m23, x[0], x[1]));
        yield return new("where_broadcast_cond_row_other_0d", g => [Randn(g, 2, 3), Randn(g)], x => Tensor.Where(Mask([true, false, true], 3), x[0], x[1]));
        yield return new("where_transposed_scalar", g => [Randn(g, 3, 2)], x => Tensor.Where(m23, x[0].T, -1.5));
        yield return new("where_mask_from_comparison", g => [Randn(g, 3, 4)], x => Tensor.Where(x[0].Detach().Gt(0), x[0], x[0] * 0.1));
        yield return new("masked_fill", g => [Randn(g, 2, 3)], x => x[0].MaskedFill(m23, 7.0));
        yield return new("masked_fill_broadcast_mask", g => [Randn(g, 2, 3)], x => x[0].MaskedFill(Mask([false, true, false], 3), double.NegativeInfinity).Exp());
        yield return new("cumsum_dim0", g => [Randn(g, 3, 4)], x => x[0].Cumsum(0));
        yield return new("cumsum_dim_neg1_transposed", g => [Randn(g, 4, 3)], x => x[0].T.Cumsum(-1));
        yield return new("cumsum_0d", g => [Randn(g)], x => x[0].Cumsum(0));
        yield return new("sort_last", g => [Randn(g, 3, 5)], x => x[0].Sort().Values);
        yield return new("sort_dim0_descending", g => [Randn(g, 4, 3)], x => x[0].Sort(0, descending: true).Values);
        yield return new("topk_largest", g => [Randn(g, 3, 5)], x => x[0].TopK(2).Values);
        yield return new("topk_smallest_dim0", g => [Randn(g, 5, 3)], x => x[0].TopK(3, 0, largest: false).Values);
        var idx = Long([0, 2, 1, 2, 0, 0], 2, 3);   // no position written twice (that order is unspecified)
        yield return new("scatter_dim0_both", g => [Randn(g, 3, 3), Randn(g, 2, 3)], x => x[0].Scatter(0, idx, x[1]));
        yield return new("scatter_dim1_src_larger", g => [Randn(g, 2, 4), Randn(g, 3, 3)], x => x[0].Scatter(1, Long([3, 0, 1, 2], 2, 2), x[1]));
        yield return new("scatter_value", g => [Randn(g, 3, 3)], x => x[0].Scatter(0, idx, 2.5));
        yield return new("scatter_add_repeated", g => [Randn(g, 3, 3), Randn(g, 2, 3)], x => x[0].ScatterAdd(0, Long([1, 1, 1, 1, 0, 1], 2, 3), x[1]));
        yield return new("scatter_add_dim1_transposed", g => [Randn(g, 3, 2), Randn(g, 2, 4)], x => x[0].T.ScatterAdd(1, Long([0, 2, 2, 1, 1, 1, 0, 0], 2, 4), x[1]));
        yield return new("gather_int64_negative", g => [Randn(g, 3, 4)], x => x[0].Gather(1, Long([0, -1, 3, 2, 2, 1], 3, 2)));
        yield return new("cross_entropy_int64_target", g => [Randn(g, 4, 3)], x => Tensor.CrossEntropy(x[0], Long([2, 0, 1, 2])));
        yield return new("embedding_int64", g => [Randn(g, 5, 3)], x => Tensor.Embedding(x[0], Long([4, 0, 4, 2], 2, 2)));
    }
}
