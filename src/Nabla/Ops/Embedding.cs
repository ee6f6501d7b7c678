using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Autograd;

namespace Nabla;

// Embedding: a table lookup, y[n] = W[idx[n]]. Backward: dW[k] = Σ_{n: idx[n] = k} g[n] (rows of padding_idx get 0);
// with scale_grad_by_freq each term is divided by count(k), the times k occurs in the batch (by design not the
// derivative of y). max_norm renormalises the looked-up rows of W in place before the lookup, outside the graph.
public partial class Tensor
{
    /// <summary>
    /// Looks up rows of <paramref name="weight"/> at the integer positions in <paramref name="indices"/> (stored as
    /// floats, as class targets are), as torch.nn.functional.embedding. The row <paramref name="paddingIdx"/> (negative
    /// counts from the end; null for none) receives no gradient. With <paramref name="maxNorm"/>, each looked-up row
    /// whose <paramref name="normType"/>-norm exceeds it is first scaled in place (no graph) by maxNorm/(norm + 1e-7),
    /// as PyTorch's embedding_renorm_. With <paramref name="scaleGradByFreq"/>, a row's gradient is divided by the
    /// number of times its index occurs in <paramref name="indices"/>. Shape: weight (N, D), indices (*) → (*, D).
    /// </summary>
    public static Tensor Embedding(Tensor weight, Tensor indices, int? paddingIdx = null, double? maxNorm = null, double normType = 2,
        bool scaleGradByFreq = false)
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
        if (maxNorm is double mn) EmbeddingRenorm(weight, idx, mn, normType);
        int[]? counts = null;
        if (scaleGradByFreq)
        {
            counts = new int[rows];
            foreach (int k in idx) counts[k]++;
        }
        var w = weight.Detach().Contiguous();
        var y = Empty(weight.DType, [.. indices._shape, dim]);
        DTypeDispatch.Run(op, weight.DType, new EmbeddingForward(w, idx, dim, y));
        return Engine.Record(y, op + "Backward", [weight], g =>
        {
            // under createGraph dW is a recorded ScatterAdd of the (scaled) residual rows, so it can be differentiated
            if (GradMode.IsEnabled) return [EmbeddingGradAsOps(g, idx, rows, dim, pad, counts)];
            var gc = g.Contiguous();
            var dw = Empty(g.DType, [rows, dim]);
            DTypeDispatch.Run(op, g.DType, new EmbeddingBackward(gc, idx, dim, pad ?? -1, counts, dw));
            return [dw];
        });
    }

    // dW = Σ_n e_{idx[n]}·s[n]·g[n] with s[n] = 0 for padding_idx, 1/count(idx[n]) with scale_grad_by_freq, else 1
    private static Tensor EmbeddingGradAsOps(Tensor g, int[] idx, int rows, int dim, int? pad, int[]? counts)
    {
        int m = idx.Length;
        var positions = new float[m * dim];
        var scale = new double[m];
        bool scaled = false;
        for (int n = 0; n < m; n++)
        {
            positions.AsSpan(n * dim, dim).Fill(idx[n]);
            scale[n] = idx[n] == pad ? 0 : counts is null ? 1 : 1.0 / counts[idx[n]];
            scaled |= scale[n] != 1;
        }
        var rowsOfG = g.Reshape(m, dim);
        if (scaled) rowsOfG = rowsOfG * FromArray(scale, m, 1).To(g.DType);
        return Zeros([rows, dim], g.DType).ScatterAdd(0, FromArray(positions, m, dim), rowsOfG);
    }

    // PyTorch's embedding_renorm_: each distinct looked-up row with ‖row‖_p > maxNorm is scaled by maxNorm/(‖row‖_p + 1e-7)
    private static void EmbeddingRenorm(Tensor weight, int[] idx, double maxNorm, double normType)
    {
        if (!(maxNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"Embedding: max_norm must be ≥ 0, got {maxNorm}.");
        using var _ = NoGrad();
        foreach (int k in idx.Distinct().Order())
        {
            var row = weight.Detach().Narrow(0, k, 1);
            double norm = row.Norm(normType).Item();
            if (norm > maxNorm) row.CopyFrom(row * (maxNorm / (norm + 1e-7)));
        }
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

    // scatter-add in index order (fixed order, so deterministic); the padding row stays zero; counts: divide by the frequency
    private readonly struct EmbeddingBackward(Tensor g, int[] idx, int dim, int pad, int[]? counts, Tensor dw) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var gs = g.Span<T>();
            var ds = dw.Span<T>();
            for (int n = 0; n < idx.Length; n++)
            {
                if (idx[n] == pad) continue;
                var row = ds.Slice(idx[n] * dim, dim);
                if (counts is null) TensorPrimitives.Add<T>(row, gs.Slice(n * dim, dim), row);
                else TensorPrimitives.MultiplyAdd<T>(gs.Slice(n * dim, dim), T.One / T.CreateTruncating(counts[idx[n]]), row, row);
            }
        }
    }
}
