using Nabla.Onnx.Protos;

namespace Nabla.Onnx.Import;

// Shape and indexing operators; int64 values (shapes, indices) stay exact as float64 tensors.
internal static partial class OnnxOps
{
    private static OnnxValueData Gather(OnnxNode n)
    {
        var data = n.In(0);
        var idx = n.In(1);
        int axis = Axis(n, 0);
        if (axis < 0) axis += data.T.Rank;
        int size = data.T.Size(axis);
        var raw = idx.T.ToDoubleArray();
        var fixedIdx = raw.Select(v => v < 0 ? v + size : v).ToArray();
        if (fixedIdx.Any(v => v < 0 || v >= size))
            throw new IndexOutOfRangeException($"Gather: an index is outside [-{size}, {size}) on axis {axis}.");
        int[] idxShape = idx.T.Shape.ToArray();
        if (!data.IsInt && axis == 0 && data.T.Rank == 2)   // an embedding lookup
            return F(Tensor.Embedding(data.T, OnnxValueData.Make(fixedIdx, idxShape)));
        var picked = data.T.IndexSelect(axis, Tensor.FromArray(fixedIdx, fixedIdx.Length));
        int[] outShape = [.. data.T.Shape[..axis].ToArray(), .. idxShape, .. data.T.Shape[(axis + 1)..].ToArray()];
        return data with { T = picked.Reshape(outShape) };
    }

    private static OnnxValueData Flatten(OnnxNode n)
    {
        var x = n.In(0);
        int r = x.T.Rank, axis = Axis(n, 1);
        if (axis < 0) axis += r;
        int outer = 1;
        for (int i = 0; i < axis; i++) outer *= x.T.Size(i);
        return x with { T = x.T.Reshape(outer, x.T.Numel / Math.Max(outer, 1)) };
    }

    // 0 copies the input's size (unless allowzero), −1 is inferred
    private static int[] ReshapeTarget(Tensor x, long[] shape, bool allowZero) =>
        shape.Select((v, i) => v == 0 && !allowZero ? x.Size(i) : checked((int)v)).ToArray();

    private static long[] AxesOf(OnnxNode n) => n.Optional(1)?.Longs() ?? n.Ints("axes") ?? [];

    private static Tensor Squeeze(OnnxNode n)
    {
        var x = n.X(0);
        long[] axes = AxesOf(n);
        if (axes.Length == 0) return x.Reshape(x.Shape.ToArray().Where(d => d != 1).ToArray());
        foreach (int a in axes.Select(a => (int)(a < 0 ? a + x.Rank : a)).OrderDescending()) x = x.Squeeze(a);
        return x;
    }

    private static Tensor Unsqueeze(OnnxNode n)
    {
        var x = n.X(0);
        long[] axes = AxesOf(n);
        int outRank = x.Rank + axes.Length;
        foreach (int a in axes.Select(a => (int)(a < 0 ? a + outRank : a)).Order()) x = x.Unsqueeze(a);
        return x;
    }

    private static OnnxValueData Concat(OnnxNode n)
    {
        var parts = Enumerable.Range(0, n.InputCount).Select(n.Optional).Where(v => v is not null).Select(v => v!).ToList();
        bool isInt = parts.All(p => p.IsInt);
        var ts = parts.Select(p => isInt ? p.T : p.T.To(DType.Float32)).ToList();
        var y = Tensor.Cat(ts, Axis(n, 0));
        return isInt ? OnnxValueData.Int(y) : F(y);
    }

    private static OnnxValueData[] Split(OnnxNode n)
    {
        var x = n.In(0);
        int axis = Axis(n, 0);
        if (axis < 0) axis += x.T.Rank;
        int count = n.OutputCount, size = x.T.Size(axis);
        long[] split = n.Optional(1)?.Longs() ?? n.Ints("split")
            ?? Enumerable.Range(0, count).Select(i => (long)(size / count + (i < size % count ? 1 : 0))).ToArray();
        if (!n.Has("split") && n.Optional(1) is null && size % count != 0)   // opset 18: the last part is the smaller one
            split = Enumerable.Range(0, count).Select(i => (long)Math.Min((size + count - 1) / count, size - i * ((size + count - 1) / count))).ToArray();
        var outs = new OnnxValueData[split.Length];
        int start = 0;
        for (int i = 0; i < split.Length; i++)
        {
            outs[i] = x with { T = x.T.Narrow(axis, start, (int)split[i]) };
            start += (int)split[i];
        }
        return outs;
    }

    private static Tensor Slice(OnnxNode n)
    {
        var x = n.X(0);
        long[] starts = n.In(1).Longs(), ends = n.In(2).Longs();
        long[] axes = n.Optional(3)?.Longs() ?? Enumerable.Range(0, starts.Length).Select(a => (long)a).ToArray();
        long[] steps = n.Optional(4)?.Longs() ?? Enumerable.Repeat(1L, starts.Length).ToArray();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = (int)(axes[i] < 0 ? axes[i] + x.Rank : axes[i]);
            long dim = x.Size(axis);
            n.Refuse(steps[i] <= 0, "a step of " + steps[i] + " (positive steps are supported)");
            long s = starts[i] < 0 ? starts[i] + dim : starts[i], e = ends[i] < 0 ? ends[i] + dim : ends[i];
            s = Math.Clamp(s, 0, dim);
            e = Math.Clamp(e, 0, dim);
            if (e < s) e = s;
            x = x.Slice(axis, (int)s, (int)e, (int)steps[i]);
        }
        return x;
    }

    private static OnnxValueData Shape(OnnxNode n)
    {
        int[] shape = n.X().Shape.ToArray();
        int r = shape.Length;
        long start = n.Int("start", 0), end = n.Int("end", r);
        start = Math.Clamp(start < 0 ? start + r : start, 0, r);
        end = Math.Clamp(end < 0 ? end + r : end, 0, r);
        var dims = shape[(int)start..(int)Math.Max(start, end)].Select(d => (long)d).ToArray();
        return OnnxValueData.Int(dims, dims.Length);
    }

    private static OnnxValueData Constant(OnnxNode n)
    {
        if (n.TensorAttr("value") is { } t) return OnnxValueData.FromProto(t);
        if (n.Has("value_float")) return F(Tensor.Scalar(n.Float("value_float", 0)));
        if (n.Has("value_int")) return OnnxValueData.Int([n.Int("value_int", 0)]).Reshaped([]);
        if (n.Ints("value_ints") is { } ints) return OnnxValueData.Int(ints, ints.Length);
        throw new NotSupportedException("Constant without value, value_float, value_int or value_ints is not supported.");
    }

    private static OnnxValueData ConstantOfShape(OnnxNode n)
    {
        int[] shape = n.In(0).Ints();
        var value = n.TensorAttr("value") is { } t ? OnnxValueData.FromProto(t) : F(Tensor.Scalar(0));
        double v = value.T.Reshape(-1).ToDoubleArray()[0];
        return value.IsInt ? OnnxValueData.Int(Tensor.Full(shape, v, DType.Float64)) : F(Tensor.Full(shape, v));
    }
}
