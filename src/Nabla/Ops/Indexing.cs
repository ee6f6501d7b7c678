using System.Numerics;
using Nabla.Autograd;

namespace Nabla;

// Gather and IndexSelect read elements at integer positions; their backward adds the residual back at the same positions.
public partial class Tensor
{
    private static int CheckIndex(string op, double v, int size, int dim)
    {
        int i = (int)v;
        if (i != v) throw new ArgumentException($"{op}: index {v} is not an integer.");
        if (i < 0) i += size;
        if ((uint)i >= (uint)size) throw new IndexOutOfRangeException($"{op}: index {v} is out of range for dim {dim} of size {size}.");
        return i;
    }

    /// <summary>
    /// out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and likewise for other dims), as torch.gather.
    /// Shape: index's shape; index must have this tensor's rank and not exceed it in the other dims.
    /// </summary>
    public Tensor Gather(int dim, Tensor index)
    {
        int d = ShapeUtil.Dim("Gather", dim, Rank);
        if (index.Rank != Rank) throw new ArgumentException($"Gather: index has shape {ShapeUtil.Format(index._shape)} but input has {ShapeUtil.Format(_shape)}; ranks must match.");
        for (int k = 0; k < Rank; k++)
            if (k != d && index._shape[k] > _shape[k])
                throw new ArgumentException($"Gather: index shape {ShapeUtil.Format(index._shape)} exceeds input shape {ShapeUtil.Format(_shape)} in dim {k}.");
        var idx = IndexPositions("Gather", index, _shape[d], d);
        var positions = new int[idx.Length];
        var densePositions = new int[idx.Length];
        var denseStrides = ShapeUtil.ContiguousStrides(_shape);
        var coord = new int[Rank];
        for (int n = 0; n < idx.Length; n++)
        {
            int rem = n;
            for (int k = Rank - 1; k >= 0; k--)
            {
                coord[k] = rem % index._shape[k];
                rem /= index._shape[k];
            }
            coord[d] = idx[n];
            int pos = _offset, dense = 0;
            for (int k = 0; k < Rank; k++)
            {
                pos += coord[k] * _strides[k];
                dense += coord[k] * denseStrides[k];
            }
            positions[n] = pos;
            densePositions[n] = dense;
        }
        var y = Empty(DType, index._shape.ToArray());
        DTypeDispatch.RunAny("Gather", DType, new GatherAt(this, positions, y));
        var inShape = _shape;
        // under createGraph g is scattered by a recorded ScatterAdd (its backward is this Gather), so it can be differentiated
        return Engine.Record(y, "GatherBackward", [this], g => [GradMode.IsEnabled
            ? Zeros(inShape.ToArray(), g.DType).ScatterAdd(d, index, g)
            : AddAtPositions(densePositions, g, inShape)]);
    }

    /// <summary>Picks the slices at <paramref name="index"/> (a 1-D tensor of positions) along <paramref name="dim"/>. Shape: dim's size becomes index's length.</summary>
    public Tensor IndexSelect(int dim, Tensor index)
    {
        int d = ShapeUtil.Dim("IndexSelect", dim, Rank);
        if (index.Rank != 1) throw new ArgumentException($"IndexSelect: index must be 1-D, got shape {ShapeUtil.Format(index._shape)}.");
        var idx = IndexPositions("IndexSelect", index, _shape[d], d);
        var parts = new Tensor[idx.Length];
        for (int i = 0; i < idx.Length; i++) parts[i] = Narrow(d, idx[i], 1);
        if (parts.Length == 0)
        {
            var shape = _shape.ToArray();
            shape[d] = 0;
            return Empty(DType, shape);
        }
        return Cat(parts, d);
    }

    // dst[i] = src's storage at positions[i]
    private readonly struct GatherAt(Tensor src, int[] positions, Tensor dst) : IAnyOp
    {
        public void Invoke<T>() where T : unmanaged
        {
            var s = src.Buffer<T>();
            var o = dst.Buffer<T>();
            for (int i = 0; i < positions.Length; i++) o[i] = s[positions[i]];
        }
    }

    // adds g[i] at dense position i of a zero tensor of the input's shape (repeated indices add up)
    private static Tensor AddAtPositions(int[] densePositions, Tensor g, int[] shape)
    {
        var dense = Empty(g.DType, shape.ToArray());
        var gc = g.Contiguous();
        DTypeDispatch.Run("GatherBackward", g.DType, new ScatterAddAt(gc, densePositions, dense));
        return dense;
    }

    private readonly struct ScatterAddAt(Tensor g, int[] densePositions, Tensor dense) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var d = dense.Buffer<T>();
            var s = g.Span<T>();
            for (int i = 0; i < densePositions.Length; i++) d[densePositions[i]] += s[i];
        }
    }
}
