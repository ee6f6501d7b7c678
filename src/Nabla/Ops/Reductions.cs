using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

/// <summary>The result of a max/min, sort or top-k along a dim: the values and where they were (int64 indices, as PyTorch).</summary>
public readonly record struct ValuesIndices(Tensor Values, Tensor Indices);

// Reductions over any dims with keepDim. Sum's backward broadcasts the residual back over the reduced dims.
public partial class Tensor
{
    private bool[] ReducedMask(string op, int[]? dims)
    {
        var mask = new bool[Rank];
        if (dims is null || dims.Length == 0)
        {
            Array.Fill(mask, true);
            return mask;
        }
        foreach (int dim in dims)
        {
            int d = ShapeUtil.Dim(op, dim, Rank);
            if (mask[d]) throw new ArgumentException($"{op}: dim {d} appears more than once in {ShapeUtil.Format(dims)}.");
            mask[d] = true;
        }
        return mask;
    }

    private int[] ReducedShape(bool[] mask, bool keepDim)
    {
        var shape = new List<int>();
        for (int i = 0; i < Rank; i++)
        {
            if (!mask[i]) shape.Add(_shape[i]);
            else if (keepDim) shape.Add(1);
        }
        return [.. shape];
    }

    // dx = g broadcast back over the reduced dims
    /// <summary>
    /// Sum over <paramref name="dims"/> (all dims when null or empty); int64 and bool tensors sum exactly into int64
    /// (so <c>Eq(pred, target).Sum()</c> counts). Shape: reduced dims removed, or kept as 1.
    /// </summary>
    public Tensor Sum(int[]? dims = null, bool keepDim = false)
    {
        var mask = ReducedMask("Sum", dims);
        var outShape = ReducedShape(mask, keepDim);
        if (!DType.IsFloatingPoint()) return SumInt64(mask, outShape);
        var keptShape = ReducedShape(mask, keepDim: true);
        var y = Empty(DType, outShape);
        DTypeDispatch.Run("Sum", DType, new SumOp(this, mask, y));
        var inShape = _shape;
        return Engine.Record(y, "SumBackward", [this], g => [g.Reshape(keptShape).Expand(inShape).Contiguous()]);
    }

    // integer sums: the reduced dims moved last, each row added up in long (wraps on overflow, as PyTorch)
    private Tensor SumInt64(bool[] mask, int[] outShape)
    {
        var perm = Enumerable.Range(0, Rank).Where(i => !mask[i]).Concat(Enumerable.Range(0, Rank).Where(i => mask[i])).ToArray();
        var x = To(DType.Int64).Permute(perm).Contiguous().Span<long>();
        var y = Empty(DType.Int64, outShape);
        var ys = y.Span<long>();
        int n = ys.Length == 0 ? 0 : x.Length / ys.Length;
        for (int r = 0; r < ys.Length; r++)
        {
            long acc = 0;
            foreach (long v in x.Slice(r * n, n)) acc += v;
            ys[r] = acc;
        }
        return y;
    }

    /// <summary>Sum over one dim.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);

    private void SumCore<T>(bool[] mask, T[] dst) where T : IFloatingPointIeee754<T>
    {
        // reduced dims a prefix of a contiguous tensor: a column sum, no copy
        int prefix = 0;
        while (prefix < Rank && mask[prefix]) prefix++;
        bool isPrefix = true;
        for (int i = prefix; i < Rank; i++) isPrefix &= !mask[i];
        int reduced = 1;
        for (int i = 0; i < Rank; i++) if (mask[i]) reduced *= _shape[i];
        int kept = reduced == 0 ? ShapeUtil.Numel(ReducedShape(mask, false)) : Numel / reduced;
        if (reduced == 0)
        {
            Array.Clear(dst);
            return;
        }
        if (isPrefix && IsContiguous)
        {
            Reduce.SumColumns<T>(Span<T>(), reduced, kept, dst);
            return;
        }
        // move reduced dims last, make dense, sum rows
        var perm = new List<int>();
        for (int i = 0; i < Rank; i++) if (!mask[i]) perm.Add(i);
        for (int i = 0; i < Rank; i++) if (mask[i]) perm.Add(i);
        Tensor x;
        using (NoGrad()) x = Detach().Permute([.. perm]).Contiguous();
        Reduce.SumRows<T>(x.Span<T>(), kept, reduced, dst);
    }

    /// <summary>Mean over <paramref name="dims"/> (all when null). Shape: as <see cref="Sum(int[], bool)"/>.</summary>
    public Tensor Mean(int[]? dims = null, bool keepDim = false)
    {
        if (!DType.IsFloatingPoint())
            throw new NotSupportedException($"Mean: could not infer the output dtype; the input must be float32 or float64, got {DType.Name()} (convert with To(DType.Float32)).");
        var mask = ReducedMask("Mean", dims);
        long count = 1;
        for (int i = 0; i < Rank; i++) if (mask[i]) count *= _shape[i];
        return Sum(dims, keepDim) / count;
    }

    /// <summary>Mean over one dim.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);

    /// <summary>Variance over <paramref name="dims"/> with Bessel's correction by default (correction 1), as torch.var.</summary>
    public Tensor Var(int[]? dims = null, int correction = 1, bool keepDim = false)
    {
        var mask = ReducedMask("Var", dims);
        long count = 1;
        for (int i = 0; i < Rank; i++) if (mask[i]) count *= _shape[i];
        var dev = this - Mean(dims, keepDim: true);
        return (dev * dev).Sum(dims, keepDim) / Math.Max(0, count - correction);
    }

    /// <summary>Maximum along <paramref name="dim"/> with the index of its first occurrence. Shape: dim removed or kept as 1.</summary>
    public ValuesIndices Max(int dim, bool keepDim = false) => Extreme("Max", dim, keepDim, max: true);

    /// <summary>Minimum along <paramref name="dim"/> with the index of its first occurrence.</summary>
    public ValuesIndices Min(int dim, bool keepDim = false) => Extreme("Min", dim, keepDim, max: false);

    /// <summary>The largest element (a 0-d tensor).</summary>
    public Tensor Max() => Reshape(-1).Max(0).Values;

    /// <summary>The smallest element (a 0-d tensor).</summary>
    public Tensor Min() => Reshape(-1).Min(0).Values;

    /// <summary>Index of the maximum along <paramref name="dim"/>.</summary>
    public Tensor ArgMax(int dim, bool keepDim = false) => Max(dim, keepDim).Indices;

    /// <summary>Index of the minimum along <paramref name="dim"/>.</summary>
    public Tensor ArgMin(int dim, bool keepDim = false) => Min(dim, keepDim).Indices;

    // the residual goes to the arg-max position only
    private ValuesIndices Extreme(string op, int dim, bool keepDim, bool max)
    {
        int d = ShapeUtil.Dim(op, dim, Rank);
        if (Rank > 0 && _shape[d] == 0) throw new ArgumentException($"{op}: cannot reduce over dim {d} of size 0 (shape {ShapeUtil.Format(_shape)}).");
        var mask = new bool[Rank];
        if (Rank > 0) mask[d] = true;
        var outShape = ReducedShape(mask, keepDim);
        int n = Rank == 0 ? 1 : _shape[d];
        int rows = Numel / n;
        // move dim d last keeping the others in order, so row r of x is output element r (a Transpose(d, -1)
        // would swap d with the last dim and scramble the row order for rank ≥ 3)
        var perm = new int[Rank];
        var inverse = new int[Rank];
        for (int i = 0, k = 0; i < Rank; i++) if (i != d) perm[k++] = i;
        if (Rank > 0) perm[^1] = d;
        for (int i = 0; i < Rank; i++) inverse[perm[i]] = i;
        Tensor x;
        using (NoGrad()) x = Rank == 0 ? this : Detach().Permute(perm).Contiguous();
        var values = Empty(DType, outShape);
        var indices = Empty(DType.Int64, outShape);
        var idx = new int[rows];
        DTypeDispatch.Run(op, DType, new ArgExtremeOp(x, rows, n, max, values, idx));
        var ind = indices.Span<long>();
        for (int i = 0; i < rows; i++) ind[i] = idx[i];
        var inShape = _shape;
        Engine.Record(values, op + "Backward", [this], g =>
        {
            // under createGraph: g scattered by a recorded ScatterAdd, so it can be differentiated
            if (GradMode.IsEnabled)
            {
                if (Rank == 0) return [g];
                return [Zeros(inShape.ToArray(), g.DType).ScatterAdd(d, keepDim ? indices : indices.Unsqueeze(d), keepDim ? g : g.Unsqueeze(d))];
            }
            // scatter g into a dense buffer laid out as x (dim d last) at the arg positions, then permute back
            var gt = g.Contiguous();
            var tShape = x._shape;
            var buf = Empty(g.DType, tShape.ToArray());
            DTypeDispatch.Run(op, g.DType, new ScatterRowsOp(gt, n, idx, buf));
            return [Rank == 0 ? buf : buf.Permute(inverse).Contiguous()];
        });
        return new ValuesIndices(values, indices);
    }

    // the typed kernel calls, dispatched on the dtype (DTypeDispatch)
    private readonly struct SumOp(Tensor x, bool[] mask, Tensor y) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => x.SumCore(mask, y.Buffer<T>());
    }

    private readonly struct ArgExtremeOp(Tensor x, int rows, int n, bool max, Tensor values, int[] idx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Reduce.ArgExtremeRows(x.Span<T>(), rows, n, max, values.Buffer<T>(), idx);
    }

    // dense[r·n + idx[r]] = g[r]: row r's residual at its arg position
    private readonly struct ScatterRowsOp(Tensor g, int n, int[] idx, Tensor dense) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var gs = g.Span<T>();
            var d = dense.Buffer<T>();
            for (int r = 0; r < idx.Length; r++) d[r * n + idx[r]] = gs[r];
        }
    }
}
