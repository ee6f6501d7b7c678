using System.Numerics;
using Nabla.Autograd;

namespace Nabla;

// Scatter writes src's elements into a copy of the input at int64 positions along a dim; ScatterAdd adds them.
// Backward: dSrc = gather(g, dim, index); dInput = g with the overwritten positions zeroed (Scatter) or g (ScatterAdd).
public partial class Tensor
{
    /// <summary>
    /// A copy of this tensor with out[index[i][j]][j] = src[i][j] for dim 0 (and likewise for other dims), as
    /// torch.scatter. index (int64) has this tensor's rank and is no larger than src, nor than this tensor outside
    /// dim; where index repeats a position the last write wins (PyTorch leaves it unspecified). Shape: unchanged.
    /// </summary>
    public Tensor Scatter(int dim, Tensor index, Tensor src) => ScatterCore("Scatter", dim, index, src, add: false);

    /// <summary>As <see cref="Scatter(int, Tensor, Tensor)"/> with the number <paramref name="value"/> written at every indexed position.</summary>
    public Tensor Scatter(int dim, Tensor index, double value) => ScatterCore("Scatter", dim, index, Full(index._shape, value, DType), add: false);

    /// <summary>
    /// A copy of this tensor with src's elements added at the positions of index along dim (torch.scatter_add);
    /// repeated positions add up. Shape: unchanged.
    /// </summary>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor src) => ScatterCore("ScatterAdd", dim, index, src, add: true);

    private Tensor ScatterCore(string op, int dim, Tensor index, Tensor src, bool add)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(src);
        int d = ShapeUtil.Dim(op, dim, Math.Max(Rank, 1));
        if (src.DType != DType) throw new ArgumentException($"{op}: src is {src.DType.Name()} but the input is {DType.Name()}; they must match.");
        int rank = Math.Max(Rank, 1);
        var self = Rank == 0 ? Reshape(1) : this;
        var idxT = index.Rank == 0 ? index.Reshape(1) : index;
        var srcT = src.Rank == 0 ? src.Reshape(1) : src;
        if (idxT.Rank != rank || srcT.Rank != rank)
            throw new ArgumentException($"{op}: index {ShapeUtil.Format(index._shape)}, src {ShapeUtil.Format(src._shape)} and input {ShapeUtil.Format(_shape)} must have the same rank.");
        for (int k = 0; k < rank; k++)
            if (idxT._shape[k] > srcT._shape[k] || (k != d && idxT._shape[k] > self._shape[k]))
                throw new ArgumentException($"{op}: index shape {ShapeUtil.Format(index._shape)} exceeds src {ShapeUtil.Format(src._shape)} or input {ShapeUtil.Format(_shape)} in dim {k}.");
        var idx = IndexPositions(op, idxT, self._shape[d], d);
        // the output (dense, self's shape) and src positions of every index element
        var outPos = new int[idx.Length];
        var srcPos = new int[idx.Length];
        var outStrides = ShapeUtil.ContiguousStrides(self._shape);
        var coord = new int[rank];
        for (int n = 0; n < idx.Length; n++)
        {
            int rem = n;
            for (int k = rank - 1; k >= 0; k--) { coord[k] = rem % idxT._shape[k]; rem /= idxT._shape[k]; }
            int s = srcT._offset, o = 0;
            for (int k = 0; k < rank; k++)
            {
                s += coord[k] * srcT._strides[k];
                o += (k == d ? idx[n] : coord[k]) * outStrides[k];
            }
            srcPos[n] = s;
            outPos[n] = o;
        }
        var y = Detach().Clone().Reshape(self._shape.ToArray());
        if (add) DTypeDispatch.RunNumber(op, DType, new ScatterKernel(srcT, srcPos, y, outPos, true));
        else DTypeDispatch.RunAny(op, DType, new ScatterWrite(srcT, srcPos, y, outPos));
        y = y.Reshape(_shape.ToArray());
        var input = this;
        return Engine.Record(y, op + "Backward", [this, src], g => [
            input.RequiresGrad ? (add ? g : g.Scatter(dim, index, 0.0)) : null,
            src.RequiresGrad ? GatherInto(g, dim, index, src) : null]);
    }

    // gather(g, dim, index) placed in a zero tensor of src's shape (index may be smaller than src)
    private static Tensor GatherInto(Tensor g, int dim, Tensor index, Tensor src)
    {
        var part = g.Gather(dim, index);
        if (ShapeUtil.SameShape(part._shape, src._shape)) return part;
        var pad = part;
        for (int k = 0; k < src.Rank; k++)
            if (pad._shape[k] < src._shape[k])
            {
                var zshape = pad._shape.ToArray();
                zshape[k] = src._shape[k] - pad._shape[k];
                pad = Cat([pad, Zeros(zshape, g.DType)], k);
            }
        return pad;
    }

    private readonly struct ScatterWrite(Tensor src, int[] srcPos, Tensor y, int[] outPos) : IAnyOp
    {
        public void Invoke<T>() where T : unmanaged
        {
            var s = src.Buffer<T>();
            var o = y.Span<T>();
            for (int i = 0; i < outPos.Length; i++) o[outPos[i]] = s[srcPos[i]];
        }
    }

    private readonly struct ScatterKernel(Tensor src, int[] srcPos, Tensor y, int[] outPos, bool add) : INumberOp
    {
        public void Invoke<T>() where T : unmanaged, INumber<T>
        {
            var s = src.Buffer<T>();
            var o = y.Span<T>();
            for (int i = 0; i < outPos.Length; i++) o[outPos[i]] = add ? o[outPos[i]] + s[srcPos[i]] : s[srcPos[i]];
        }
    }
}
