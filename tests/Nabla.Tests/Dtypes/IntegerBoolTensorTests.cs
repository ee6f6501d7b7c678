using Nabla.IO;
using Nabla.NN;

namespace Nabla.Tests.Dtypes;

/// <summary>int64 and bool tensors: storage, creation, casts, printing, comparisons, promotion, ArgMax, sums.</summary>
public class IntegerBoolTensorTests
{
    [Fact]
    public void Int64HoldsIndicesBeyondFloat32sExactRange()
    {
        // 16,777,217 = 2^24 + 1: float32 stores it as 16,777,216
        var t = Tensor.FromArray([16_777_217L, -3, long.MaxValue]);
        Assert.Equal(DType.Int64, t.DType);
        Assert.Equal([16_777_217L, -3, long.MaxValue], t.ToInt64Array());
        Assert.Equal(16_777_216f, t.ToArray()[0]);
        Assert.Equal("tensor([           16777217,                  -3, 9223372036854775807])", t.ToString());
        Assert.Equal(16_777_217.0, t[0]);
        Assert.Equal([0L, 0], Tensor.Zeros([2], DType.Int64).ToInt64Array());
        Assert.Equal([7L, 7], Tensor.Full([2], 7, DType.Int64).ToInt64Array());
        Assert.Equal([0L, 1, 2], Tensor.Arange(3, DType.Int64).ToInt64Array());
        var r = Tensor.RandInt(0, 5, [1000], DType.Int64, new Generator(1)).ToInt64Array();
        Assert.All(r, v => Assert.InRange(v, 0, 4));
        Assert.Equal(5, r.Distinct().Count());
        var e = Assert.Throws<InvalidOperationException>(() => t.RequiresGrad = true);
        Assert.Contains("only floating-point tensors can require gradients; this one is int64", e.Message);
    }

    [Fact]
    public void CastsTruncateTowardZeroAndNonZeroIsTrue()
    {
        var x = Tensor.FromArray([-1.7, -0.2, 0, 0.5, 2.9, double.NaN]);
        Assert.Equal([-1L, 0, 0, 0, 2, 0], x.To(DType.Int64).ToInt64Array());
        Assert.Equal([true, true, false, true, true, true], x.To(DType.Bool).ToBoolArray());
        Assert.Equal([1.0, 0.0], Tensor.FromArray([true, false]).To(DType.Float64).ToDoubleArray());
        Assert.Equal([1L, 0], Tensor.FromArray([true, false]).To(DType.Int64).ToInt64Array());
        Assert.Equal([false, true], Tensor.FromArray([0L, -5]).To(DType.Bool).ToBoolArray());
        Assert.Equal("tensor([ True, False])", Tensor.FromArray([true, false]).ToString());
        Assert.Equal("tensor(3)", Tensor.Scalar(3, DType.Int64).ToString());
        // views and copies work for every dtype
        var m = Tensor.FromArray([1L, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal([1L, 4, 2, 5, 3, 6], m.T.Contiguous().ToInt64Array());
        Assert.Equal([4L, 5, 6], m.Select(0, 1).ToInt64Array());
        Assert.Equal([2L, 2, 2, 5, 5, 5], m.Narrow(1, 1, 1).Expand(2, 3).Contiguous().ToInt64Array());
        Assert.Equal([1L, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6], Tensor.Cat([m, m], 0).ToInt64Array());
    }

    [Fact]
    public void ComparisonsReturnBoolAndPromoteTheirInputs()
    {
        var a = Tensor.FromArray([1f, 2f, float.NaN]);
        var b = Tensor.FromArray([1f, 3f, float.NaN]);
        var eq = Tensor.Eq(a, b);
        Assert.Equal(DType.Bool, eq.DType);
        Assert.Equal([true, false, false], eq.ToBoolArray());
        Assert.Equal([false, true, true], Tensor.Ne(a, b).ToBoolArray());
        Assert.Equal([false, true, false], Tensor.Lt(a, b).ToBoolArray());
        Assert.Equal([true, true, false], a.Le(2).ToBoolArray());
        // int64 against float32 compares in float32 (torch.result_type); int64 against int64 exactly
        Assert.Equal([true, false, false], Tensor.Eq(Tensor.FromArray([1L, 3, 4]), a).ToBoolArray());
        Assert.Equal([false, true], Tensor.Gt(Tensor.FromArray([16_777_216L, 16_777_217L]), Tensor.FromArray([16_777_216L])).ToBoolArray());
        // accuracy the PyTorch way: (pred == target).sum() counts in int64
        var logits = Tensor.FromArray(new float[,] { { 0.1f, 2f }, { 3f, 0f }, { 0f, 1f } });
        var pred = logits.ArgMax(1);
        Assert.Equal(DType.Int64, pred.DType);
        Assert.Equal([1L, 0, 1], pred.ToInt64Array());
        var correct = Tensor.Eq(pred, Tensor.FromArray([1L, 1, 1])).Sum();
        Assert.Equal(DType.Int64, correct.DType);
        Assert.Equal(2.0, correct.Item());
        Assert.Equal(DType.Int64, logits.Max(1).Indices.DType);
        var me = Assert.Throws<NotSupportedException>(() => eq.Mean());
        Assert.Contains("Mean: could not infer the output dtype", me.Message);
    }

    [Fact]
    public void ArithmeticPromotesAsTorchResultType()
    {
        var f = Tensor.FromArray([1.5, 2.5]);
        var mask = Tensor.FromArray([true, false]);
        var i = Tensor.FromArray([3L, -4]);
        Assert.Equal(DType.Float64, (f * mask).DType);
        Assert.Equal([1.5, 0], (f * mask).ToDoubleArray());
        Assert.Equal([4.5, -1.5], (f + i).ToDoubleArray());
        Assert.Equal(DType.Int64, (i + i).DType);
        Assert.Equal([6L, -8], (i * 2).ToInt64Array());
        Assert.Equal([4L, -4], (i + mask).ToInt64Array());
        Assert.Equal(DType.Float32, (i * 0.5).DType);   // a fraction meets an integer tensor as the default float
        Assert.Equal([1.5, -2.0], (i * 0.5).ToDoubleArray());
        Assert.Equal(DType.Float32, (i / i).DType);     // true division
        Assert.Equal([1.0, 1.0], (i / i).ToDoubleArray());
        Assert.Equal([3L, 0], Tensor.Maximum(i, Tensor.FromArray([0L])).ToInt64Array());
        var e = Assert.Throws<ArgumentException>(() => f + Tensor.FromArray([1f, 2f]));
        Assert.Contains("Add: dtypes differ (float64 vs float32)", e.Message);
        var u = Assert.Throws<NotSupportedException>(() => i.Exp());
        Assert.Contains("int64", u.Message);
        // a float gradient still flows through a masked product
        var x = Tensor.FromArray([1.0, 2.0]).RequireGrad();
        (x * mask).Sum().Backward();
        Assert.Equal([1.0, 0.0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void BatchNormCountsInInt64AndLoadsPyTorchAndOldNablaCounters()
    {
        var bn = new BatchNorm1d(2);
        Assert.Equal(DType.Int64, bn.NumBatchesTracked!.DType);
        bn.Forward(Tensor.Randn([4, 2]));
        Assert.Equal([1L], bn.NumBatchesTracked.Reshape(1).ToInt64Array());
        var state = bn.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Detach().Clone());
        // PyTorch's I64 counter, through a safetensors file
        state["num_batches_tracked"] = Tensor.Scalar(16_777_217, DType.Int64);
        var file = SafeTensors.Deserialize(SafeTensors.Serialize(state)).Tensors;
        Assert.Equal(DType.Int64, file["num_batches_tracked"].DType);
        bn.LoadStateDict(file);
        Assert.Equal([16_777_217L], bn.NumBatchesTracked.Reshape(1).ToInt64Array());
        // older Nabla files stored it as float64 (and float32 is accepted too): whole numbers load
        state["num_batches_tracked"] = Tensor.Scalar(5, DType.Float32);
        bn.LoadStateDict(state);
        Assert.Equal([5L], bn.NumBatchesTracked.Reshape(1).ToInt64Array());
        state["num_batches_tracked"] = Tensor.Scalar(5.5, DType.Float64);
        var e = Assert.Throws<ArgumentException>(() => bn.LoadStateDict(state));
        Assert.Contains("'num_batches_tracked': dtype float64 in the state dict, int64 in the model", e.Message);
    }
}
