namespace Nabla.Tests.Dtypes;

/// <summary>Forward values of Where, MaskedFill, Cumsum, Sort, TopK, Scatter and ScatterAdd, worked out by hand.</summary>
public class IndexOpsForwardTests
{
    private static readonly Tensor M = Tensor.FromArray([1.0, 5, 3, 4, 2, 6], 2, 3);

    [Fact]
    public void WhereAndMaskedFill()
    {
        var mask = Tensor.FromArray([true, false, true]);
        Assert.Equal([1.0, -1, 3, 4, -1, 6], Tensor.Where(mask, M, -1.0).ToDoubleArray());
        Assert.Equal([0.0, 5, 0, 0, 2, 0], M.MaskedFill(mask, 0).ToDoubleArray());
        // the filled value is exact even where the other branch is inf or NaN (no 0·inf)
        var x = Tensor.FromArray([double.PositiveInfinity, double.NaN]);
        Assert.Equal([1.0, 1.0], x.MaskedFill(Tensor.FromArray([true, true]), 1).ToDoubleArray());
        Assert.Equal(DType.Int64, Tensor.Where(Tensor.FromArray([true, false]), Tensor.FromArray([1L, 2]), Tensor.FromArray([true, true])).DType);
        var e = Assert.Throws<ArgumentException>(() => Tensor.Where(Tensor.FromArray([1f, 0f]), M, M));
        Assert.Contains("Where: condition must be a bool tensor, got float32", e.Message);
        var b = Assert.Throws<ArgumentException>(() => Tensor.FromArray([1.0, 2]).MaskedFill(Tensor.FromArray([true, false, true]), 0));
        Assert.Contains("MaskedFill", b.Message);
    }

    [Fact]
    public void Cumsum()
    {
        Assert.Equal([1.0, 6, 9, 4, 6, 12], M.Cumsum(1).ToDoubleArray());
        Assert.Equal([1.0, 5, 3, 5, 7, 9], M.Cumsum(0).ToDoubleArray());
        Assert.Equal([1L, 1, 2], Tensor.FromArray([true, false, true]).Cumsum(0).ToInt64Array());
        // the backward of a sum of the running sums: element j appears in n − j of them
        var x = Tensor.FromArray([1.0, 2, 3, 4]).RequireGrad();
        x.Cumsum(0).Sum().Backward();
        Assert.Equal([4.0, 3, 2, 1], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void SortAndTopK()
    {
        var (v, i) = M.Sort(1);
        Assert.Equal([1.0, 3, 5, 2, 4, 6], v.ToDoubleArray());
        Assert.Equal(DType.Int64, i.DType);
        Assert.Equal([0L, 2, 1, 1, 0, 2], i.ToInt64Array());
        Assert.Equal([1L, 0, 1, 0, 1, 0], M.Sort(0, descending: true).Indices.ToInt64Array());
        // NaN sorts last ascending and first descending; ties keep their order
        var n = Tensor.FromArray([2.0, double.NaN, 1, 2]);
        Assert.Equal([2L, 0, 3, 1], n.Sort().Indices.ToInt64Array());
        Assert.Equal([1L, 0, 3, 2], n.Sort(descending: true).Indices.ToInt64Array());
        var (tv, ti) = M.TopK(2);
        Assert.Equal([5.0, 3, 6, 4], tv.ToDoubleArray());
        Assert.Equal([1L, 2, 2, 0], ti.ToInt64Array());
        Assert.Equal([2, 2], tv.Shape.ToArray());
        Assert.Equal([1.0, 2], M.TopK(1, 0, largest: false).Values.ToDoubleArray().Take(2).ToArray());
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => M.TopK(4));
        Assert.Contains("TopK: k (4) is out of range for dim 1 of size 3", e.Message);
        var x = Tensor.FromArray([3.0, 1, 2]).RequireGrad();
        (x.TopK(2).Values * Tensor.FromArray([10.0, 1])).Sum().Backward();
        Assert.Equal([10.0, 0, 1], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void ScatterAndScatterAdd()
    {
        var zeros = Tensor.Zeros([3, 3], DType.Float64);
        var src = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);
        var idx = Tensor.FromArray([0L, 2, 1, 2, 0, 0], 2, 3);
        // out[idx[i][j]][j] = src[i][j]
        Assert.Equal([1.0, 5, 6, 0, 0, 3, 4, 2, 0], zeros.Scatter(0, idx, src).ToDoubleArray());
        Assert.Equal([9.0, 0, 9, 0, 0, 0, 0, 0, 0], zeros.Scatter(1, Tensor.FromArray([0L, 2], 1, 2), 9.0).ToDoubleArray());
        var added = Tensor.Ones([2, 2], DType.Float64).ScatterAdd(1, Tensor.FromArray([1L, 1, 0, 1], 2, 2), Tensor.FromArray([1.0, 2, 3, 4], 2, 2));
        Assert.Equal([1.0, 4, 4, 5], added.ToDoubleArray());
        Assert.Equal([0L, 3], Tensor.Zeros([2], DType.Int64).ScatterAdd(0, Tensor.FromArray([1L, 1]), Tensor.FromArray([1L, 2])).ToInt64Array());
        var e = Assert.Throws<IndexOutOfRangeException>(() => zeros.Scatter(0, Tensor.FromArray([3L], 1, 1), 1.0));
        Assert.Contains("Scatter: index 3 is out of range for dim 0 of size 3", e.Message);
        var b = Assert.Throws<ArgumentException>(() => zeros.Scatter(0, Tensor.FromArray([true], 1, 1), 1.0));
        Assert.Contains("index must be an int64 tensor, got bool", b.Message);
    }
}
