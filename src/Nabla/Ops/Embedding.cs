using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Autograd;

namespace Nabla;

// Embedding: a table lookup, y[n] = W[idx[n]]. Backward: dW[k] = Σ_{n: idx[n] = k} g[n] (rows of padding_idx get 0).
public partial class Tensor
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> at the integer positions in <paramref name="indices"/> (stored as
    /// floats, as class targets are). The row <paramref name="paddingIdx"/> (negative counts from the end; null for
    /// none) receives no gradient. Shape: weight (N, D), indices (*) → (*, D).
    /// </summary>
    public static Tensor Embedding(Tensor weight, Tensor indices, int? paddingIdx = null)
    {
        const string op = "Embedding";
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(indices);
        if (weight.Rank != 2) throw new ArgumentException($"{op}: weight must be 2-D (num_embeddings, embedding_dim), got {ShapeUtil.Format(weight._shape)}.");
        int rows = weight._shape[0], dim = weight._shape[1];
        int? pad = paddingIdx;
        if (pad is int p)
        {
            if (p < -rows || p >= rows) throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"{op}: padding_idx {p} is out of range for {rows} embeddings.");
            pad = p < 0 ? p + rows : p;
        }
        var raw = indices.ToDoubleArray();
        var idx = new int[raw.Length];
        for (int n = 0; n < raw.Length; n++)
        {
            double v = raw[n];
            if (v != Math.Floor(v) || v < 0 || v >= rows)
                throw new IndexOutOfRangeException($"{op}: index {v} (element {n} of indices of shape {ShapeUtil.Format(indices._shape)}) is out of range for {rows} embeddings.");
            idx[n] = (int)v;
        }
        var w = weight.Detach().Contiguous();
        var y = Empty(weight.DType, [.. indices._shape, dim]);
        DTypeDispatch.Run(op, weight.DType, new EmbeddingForward(w, idx, dim, y));
        return Engine.Record(y, op + "Backward", [weight], g =>
        {
            var gc = g.Contiguous();
            var dw = Empty(g.DType, [rows, dim]);
            DTypeDispatch.Run(op, g.DType, new EmbeddingBackward(gc, idx, dim, pad ?? -1, dw));
            return [dw];
        });
    }

    private readonly struct EmbeddingForward(Tensor w, int[] idx, int dim, Tensor y) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var ws = w.Span<T>();
            var ys = y.Span<T>();
            for (int n = 0; n < idx.Length; n++) ws.Slice(idx[n] * dim, dim).CopyTo(ys.Slice(n * dim, dim));
        }
    }

    // scatter-add in index order (fixed order, so deterministic); the padding row stays zero
    private readonly struct EmbeddingBackward(Tensor g, int[] idx, int dim, int pad, Tensor dw) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var gs = g.Span<T>();
            var ds = dw.Span<T>();
            for (int n = 0; n < idx.Length; n++)
            {
                if (idx[n] == pad) continue;
                var row = ds.Slice(idx[n] * dim, dim);
                TensorPrimitives.Add<T>(row, gs.Slice(n * dim, dim), row);
            }
        }
    }
}
