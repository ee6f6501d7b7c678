using System.Numerics;
using Nabla.Kernels;

namespace Nabla;

// What the normalisation ops share: input/parameter checks naming the op, the (N, C, L) view of an input, the
// fixed work partition, and in-place writes of running statistics (buffers live outside the graph).
public partial class Tensor
{
    /// <summary>(N, C, L) of an input (N, C, *): L is the product of the spatial dims (1 when there are none).</summary>
    internal static (int N, int C, int L) ChannelLayout(string op, Tensor input)
    {
        if (input.Rank < 2)
            throw new ArgumentException($"{op}: expected an input of shape (N, C, *) with at least 2 dims, got {ShapeUtil.Format(input._shape)}.");
        int l = 1;
        for (int d = 2; d < input.Rank; d++) l *= input._shape[d];
        return (input._shape[0], input._shape[1], l);
    }

    /// <summary>Checks an optional parameter (weight or bias): the expected shape and the input's dtype.</summary>
    internal static void CheckNormParam(string op, string name, Tensor? p, ReadOnlySpan<int> shape, Tensor input)
    {
        if (p is null) return;
        if (!ShapeUtil.SameShape(p._shape, shape))
            throw new ArgumentException($"{op}: expected {name} of shape {ShapeUtil.Format(shape)}, got {ShapeUtil.Format(p._shape)} (input shape {ShapeUtil.Format(input._shape)}).");
        CheckSameDType(op, input, p);
    }

    /// <summary>Checks an optional running statistic: shape [C], contiguous (it is updated in place); any dtype.</summary>
    internal static void CheckRunningStat(string op, string name, Tensor? t, int c, Tensor input)
    {
        if (t is null) return;
        if (t.Rank != 1 || t._shape[0] != c)
            throw new ArgumentException($"{op}: expected {name} of shape [{c}] for an input of shape {ShapeUtil.Format(input._shape)} (C = dim 1), got {ShapeUtil.Format(t._shape)}.");
        if (!t.IsContiguous) throw new ArgumentException($"{op}: {name} must be contiguous (it is updated in place).");
    }

    /// <summary>The values of an optional per-channel parameter as doubles, or <paramref name="fill"/> when it is null.</summary>
    internal static double[] ParamValues(Tensor? p, int count, double fill) =>
        p is null ? Enumerable.Repeat(fill, count).ToArray() : p.ToDoubleArray();

    /// <summary>running = (1 − momentum)·running + momentum·value, in place, outside the graph.</summary>
    internal static void UpdateRunning(Tensor running, double[] value, double momentum) =>
        DTypeDispatch.Run("UpdateRunning", running.DType, new UpdateRunningOp(running, value, momentum));

    private readonly struct UpdateRunningOp(Tensor running, double[] value, double momentum) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var s = running.Span<T>();
            for (int i = 0; i < s.Length; i++) s[i] = T.CreateTruncating((1 - momentum) * double.CreateTruncating(s[i]) + momentum * value[i]);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> over <paramref name="parts"/> fixed parts: inline when the work is small (a thread
    /// hand-off would cost more), else on <see cref="Threading"/>. The parts never share a reduction, so both ways
    /// give the same bits.
    /// </summary>
    internal static void NormParallel(int parts, long elements, Action<int> body)
    {
        if (elements < 32768)
        {
            for (int p = 0; p < parts; p++) body(p);
            return;
        }
        Threading.For(parts, body);
    }

    /// <summary>Rows per part for row-wise norms: at most 64 parts of at least ~64K elements, chosen from the sizes only.</summary>
    internal static int RowsPerPart(int rows, int d)
    {
        long parts = Math.Clamp((long)rows * d / 65536, 1, 64);
        parts = Math.Min(parts, Math.Max(rows, 1));
        return (int)Math.Max(1, (rows + parts - 1) / parts);   // ≥ 1 so an empty input makes zero parts, not a division by zero
    }

    /// <summary>The graph inputs of a norm op: the input, then weight and bias when present.</summary>
    internal static Tensor[] NormInputs(Tensor input, Tensor? weight, Tensor? bias)
    {
        var list = new List<Tensor>(3) { input };
        if (weight is not null) list.Add(weight);
        if (bias is not null) list.Add(bias);
        return list.ToArray();
    }

    /// <summary>The gradients of a norm op in the order of <see cref="NormInputs"/>.</summary>
    internal static Tensor?[] NormGrads(Tensor? dx, Tensor? weight, double[] dw, Tensor? bias, double[] db, int[] paramShape)
    {
        var list = new List<Tensor?>(3) { dx };
        if (weight is not null) list.Add(weight.RequiresGrad ? ParamGrad(dw, paramShape, weight.DType) : null);
        if (bias is not null) list.Add(bias.RequiresGrad ? ParamGrad(db, paramShape, bias.DType) : null);
        return list.ToArray();
    }

    // the per-channel sums in the parameter's dtype, made without an op: the profiler times an op from the previous
    // event's end, so a To op here took the time of the backward's kernels (the conv-BN step's profile showed "To")
    private static Tensor ParamGrad(double[] sums, int[] shape, DType dtype) => dtype switch
    {
        DType.Float32 => FromArray(Array.ConvertAll(sums, v => (float)v), shape),
        DType.Float64 => FromArray(sums, shape),
        _ => FromArray(sums, shape).To(dtype),
    };

    internal static T Cast<T>(double v) where T : INumberBase<T> => T.CreateTruncating(v);
}
