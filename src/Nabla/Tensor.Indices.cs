namespace Nabla;

// Integer positions read from a tensor: class targets and the index arguments of Gather, Scatter, IndexSelect.
public partial class Tensor
{
    /// <summary>
    /// The class index of every element of <paramref name="target"/>, validated for a loss over
    /// <paramref name="classes"/> classes: each must be in [0, classes) or equal <paramref name="ignoreIndex"/> (returned
    /// as −1). PyTorch takes int64 targets; Nabla also accepts whole-number float targets (exact only up to 2^24 in
    /// float32), the older convention its data sets used. Errors name <paramref name="op"/>, the element and the range.
    /// </summary>
    internal static int[] ClassTargets(string op, Tensor target, int classes, int ignoreIndex)
    {
        var labels = new int[target.Numel];
        if (target.DType == DType.Int64 || target.DType == DType.Bool)
        {
            var t = target.ToInt64Array();
            for (int i = 0; i < t.Length; i++)
            {
                if (t[i] == ignoreIndex) { labels[i] = -1; continue; }
                if (t[i] < 0 || t[i] >= classes)
                    throw new ArgumentException($"{op}: target {i} is {t[i]}, expected a class index in [0, {classes}).");
                labels[i] = (int)t[i];
            }
            return labels;
        }
        var d = target.ToDoubleArray();
        for (int i = 0; i < d.Length; i++)
        {
            if (d[i] == ignoreIndex) { labels[i] = -1; continue; }
            if (d[i] != Math.Floor(d[i]) || d[i] < 0 || d[i] >= classes)
                throw new ArgumentException($"{op}: target {i} is {d[i]}, expected a class index in [0, {classes}).");
            labels[i] = (int)d[i];
        }
        return labels;
    }

    /// <summary>
    /// The positions in <paramref name="index"/> along a dim of <paramref name="size"/> (negative counts from the end),
    /// as int. Index tensors are int64 as PyTorch's; whole-number floats are accepted as well. Errors name the op.
    /// </summary>
    internal static int[] IndexPositions(string op, Tensor index, int size, int dim)
    {
        if (index.DType == DType.Bool)
            throw new ArgumentException($"{op}: index must be an int64 tensor, got bool (use MaskedFill or Where for masks).");
        var result = new int[index.Numel];
        if (index.DType == DType.Int64)
        {
            var l = index.ToInt64Array();
            for (int i = 0; i < l.Length; i++)
            {
                long v = l[i] < 0 ? l[i] + size : l[i];
                if (v < 0 || v >= size) throw new IndexOutOfRangeException($"{op}: index {l[i]} is out of range for dim {dim} of size {size}.");
                result[i] = (int)v;
            }
            return result;
        }
        var d = index.ToDoubleArray();
        for (int i = 0; i < d.Length; i++) result[i] = CheckIndex(op, d[i], size, dim);
        return result;
    }
}
