using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Scaled dot-product attention, PyTorch's F.scaled_dot_product_attention:
//   A = softmax(Q·Kᵀ·scale + bias), y = dropout(A)·V
// where bias is the float mask, or 0/−∞ from a bool mask (true = takes part) or the causal mask (key j ≤ query i).
// Without dropout (and without a float mask that needs a gradient) it runs the fused kernel (Kernels/Attention):
// saved are only y and lse = log Σ exp(scores) per query row; the backward recomputes A tile by tile:
//   D = rowsum(dY∘Y), dS = A∘(dY·Vᵀ − D), dQ = scale·dS·K, dK = scale·dSᵀ·Q, dV = Aᵀ·dY.
// Otherwise the composed form, whose backward is that of MatMul, Where/Add, Softmax, Dropout and MatMul.
public partial class Tensor
{
    /// <summary>
    /// Attention of each query over the keys (torch.nn.functional.scaled_dot_product_attention):
    /// softmax(Q·Kᵀ·scale + mask)·V, with dropout on the attention weights when <paramref name="dropoutP"/> &gt; 0.
    /// <paramref name="attnMask"/> is bool (true = the key takes part in the query's attention) or float (added to the
    /// scores), broadcastable to (..., L, S). <paramref name="isCausal"/> masks key j for query i when j &gt; i (the
    /// top-left-aligned lower triangle, as PyTorch), and cannot be combined with a mask. <paramref name="scale"/>
    /// defaults to 1/√E. A query whose keys are all masked gets NaN, as in PyTorch.
    /// Shape: query (..., L, E), key (..., S, E), value (..., S, Ev) → (..., L, Ev).
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null,
        double dropoutP = 0.0, bool isCausal = false, double? scale = null, Generator? generator = null)
    {
        CheckAttention("ScaledDotProductAttention", query, key, value, attnMask, dropoutP, isCausal);
        bool fused = dropoutP == 0 && !(attnMask is { RequiresGrad: true } && attnMask.DType != DType.Bool);
        return fused ? AttentionFused(query, key, value, attnMask, isCausal, scale)
            : AttentionComposed(query, key, value, attnMask, dropoutP, isCausal, scale, generator).Output;
    }

    /// <summary>The fused kernel (no dropout; a float mask is a constant here).</summary>
    internal static Tensor AttentionFused(Tensor query, Tensor key, Tensor value, Tensor? attnMask, bool isCausal, double? scale)
    {
        const string op = "ScaledDotProductAttention";
        int l = query._shape[^2], e = query._shape[^1], s = key._shape[^2], ev = value._shape[^1];
        var batch = ShapeUtil.Broadcast(op, ShapeUtil.Broadcast(op, query._shape.AsSpan(0, query.Rank - 2), key._shape.AsSpan(0, key.Rank - 2)), value._shape.AsSpan(0, value.Rank - 2));
        int nb = ShapeUtil.Numel(batch);
        Tensor Dense(Tensor t, int rows, int cols) => t.Detach().Expand([.. batch, rows, cols]).Contiguous();
        var (q, k, v) = (Dense(query, l, e), Dense(key, s, e), Dense(value, s, ev));
        var mask = MaskLayout(attnMask, batch, l, s);
        double sc = scale ?? 1 / Math.Sqrt(e);
        var y = Uninitialized(query.DType, [.. batch, l, ev]);
        var lse = Uninitialized(query.DType, [nb, l]);
        DTypeDispatch.Run(op, query.DType, new AttentionForward(nb, l, s, e, ev, sc, q, k, v, mask, isCausal, y, lse));
        return Engine.Record(y, op + "Backward", [query, key, value], g =>
        {
            var dq = Uninitialized(g.DType, q._shape.ToArray());
            var dk = Uninitialized(g.DType, k._shape.ToArray());
            var dv = Uninitialized(g.DType, v._shape.ToArray());
            var d = Uninitialized(g.DType, [nb, l]);
            DTypeDispatch.Run(op, g.DType, new AttentionBackward(nb, l, s, e, ev, sc, q, k, v, mask, isCausal, y, lse, g.Contiguous(), d, dq, dk, dv));
            return [query.RequiresGrad ? dq.SumTo(query._shape) : null,
                    key.RequiresGrad ? dk.SumTo(key._shape) : null,
                    value.RequiresGrad ? dv.SumTo(value._shape) : null];
        }, firstOrderOnly: true);
    }

    /// <summary>The mask as the kernel reads it: its storage, where each batch's (L, S) block starts, and its row stride.</summary>
    private static (Tensor Storage, int[] BatchOffsets, int RowStride)? MaskLayout(Tensor? attnMask, int[] batch, int l, int s)
    {
        if (attnMask is null) return null;
        var m = attnMask.Detach().Expand([.. batch, l, s]);
        if (s > 1 && m._strides[^1] != 1) m = m.Contiguous();
        var offsets = new int[ShapeUtil.Numel(batch)];
        for (int b = 0; b < offsets.Length; b++)
        {
            int rest = b, off = m._offset;
            for (int dim = batch.Length - 1; dim >= 0; dim--)
            {
                off += rest % batch[dim] * m._strides[dim];
                rest /= batch[dim];
            }
            offsets[b] = off;
        }
        return (m, offsets, l > 1 ? m._strides[^2] : 0);
    }

    private static AttentionMask<T> KernelMask<T>((Tensor Storage, int[] BatchOffsets, int RowStride)? m, bool causal) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m is not { } mm) return new(null, null, null, 0, causal);
        bool isBool = mm.Storage.DType == DType.Bool;
        return new(isBool ? mm.Storage.Buffer<bool>() : null, isBool ? null : mm.Storage.Buffer<T>(), mm.BatchOffsets, mm.RowStride, causal);
    }

    private readonly struct AttentionForward(int nb, int l, int s, int e, int ev, double scale, Tensor q, Tensor k, Tensor v,
        (Tensor, int[], int)? mask, bool causal, Tensor y, Tensor lse) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            FlashAttention.Forward(nb, l, s, e, ev, T.CreateChecked(scale), Mem<T>(q), Mem<T>(k), Mem<T>(v), KernelMask<T>(mask, causal), Mem<T>(y), Mem<T>(lse));
    }

    private readonly struct AttentionBackward(int nb, int l, int s, int e, int ev, double scale, Tensor q, Tensor k, Tensor v,
        (Tensor, int[], int)? mask, bool causal, Tensor y, Tensor lse, Tensor g, Tensor d, Tensor dq, Tensor dk, Tensor dv) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            FlashAttention.Backward(nb, l, s, e, ev, T.CreateChecked(scale), Mem<T>(q), Mem<T>(k), Mem<T>(v), KernelMask<T>(mask, causal),
                Mem<T>(y), Mem<T>(lse), Mem<T>(g), Mem<T>(d), Mem<T>(dq), Mem<T>(dk), Mem<T>(dv));
    }

    /// <summary>The composed attention, also returning the attention weights (after dropout) for MultiheadAttention's need_weights.</summary>
    internal static (Tensor Output, Tensor Weights) AttentionComposed(Tensor query, Tensor key, Tensor value, Tensor? attnMask,
        double dropoutP, bool isCausal, double? scale, Generator? generator)
    {
        double s = scale ?? 1 / Math.Sqrt(query._shape[^1]);
        var scores = MatMul(query, key.Transpose(-1, -2)) * s;
        if (isCausal) attnMask = CausalMask(query._shape[^2], key._shape[^2]);
        if (attnMask is not null)
            scores = attnMask.DType == DType.Bool ? Where(attnMask, scores, double.NegativeInfinity) : scores + attnMask;
        var weights = scores.Softmax(-1);
        if (dropoutP > 0) weights = weights.Dropout(dropoutP, training: true, generator);
        return (MatMul(weights, value), weights);
    }

    /// <summary>The bool (L, S) lower triangle: true where key j ≤ query i.</summary>
    internal static Tensor CausalMask(int l, int s)
    {
        var m = new bool[l * s];
        for (int i = 0; i < l; i++)
            for (int j = 0; j <= i && j < s; j++) m[i * s + j] = true;
        return FromArray(m, l, s);
    }

    private static void CheckAttention(string op, Tensor query, Tensor key, Tensor value, Tensor? attnMask, double dropoutP, bool isCausal)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (query.Rank < 2 || key.Rank < 2 || value.Rank < 2)
            throw new ArgumentException($"{op}: query, key and value need shapes (..., L, E), (..., S, E) and (..., S, Ev), got {ShapeUtil.Format(query._shape)}, {ShapeUtil.Format(key._shape)} and {ShapeUtil.Format(value._shape)}.");
        if (!query.DType.IsFloatingPoint() || key.DType != query.DType || value.DType != query.DType)
            throw new ArgumentException($"{op}: query, key and value must share one floating-point dtype, got {query.DType.Name()}, {key.DType.Name()} and {value.DType.Name()}.");
        if (key._shape[^1] != query._shape[^1])
            throw new ArgumentException($"{op}: key's last dim must equal query's embedding size E = {query._shape[^1]}, got key of shape {ShapeUtil.Format(key._shape)}.");
        if (value._shape[^2] != key._shape[^2])
            throw new ArgumentException($"{op}: value must have as many rows as key (S = {key._shape[^2]}), got value of shape {ShapeUtil.Format(value._shape)}.");
        var batch = ShapeUtil.Broadcast(op, ShapeUtil.Broadcast(op, query._shape.AsSpan(0, query.Rank - 2), key._shape.AsSpan(0, key.Rank - 2)), value._shape.AsSpan(0, value.Rank - 2));
        if (!(dropoutP >= 0 && dropoutP < 1))
            throw new ArgumentOutOfRangeException(nameof(dropoutP), $"{op}: dropoutP must be in [0, 1), got {dropoutP}.");
        if (attnMask is null) return;
        if (isCausal)
            throw new ArgumentException($"{op}: give either attnMask or isCausal, not both (the causal mask is built from L and S).");
        if (attnMask.DType != DType.Bool && attnMask.DType != query.DType)
            throw new ArgumentException($"{op}: attnMask must be bool or {query.DType.Name()} like query, got {attnMask.DType.Name()}.");
        int[] scoreShape = [.. batch, query._shape[^2], key._shape[^2]];
        if (attnMask.Rank > scoreShape.Length || !ShapeUtil.SameShape(ShapeUtil.Broadcast(op, attnMask._shape, scoreShape), scoreShape))
            throw new ArgumentException($"{op}: attnMask of shape {ShapeUtil.Format(attnMask._shape)} does not broadcast to the attention weights' shape {ShapeUtil.Format(scoreShape)} (..., L, S).");
    }
}
