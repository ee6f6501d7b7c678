using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Views share storage; their backward puts the residual back into the input's shape.
public partial class Tensor
{
    private Tensor View(int[] shape, int[] strides, int offset) => new(_storage, shape, strides, offset);

    /// <summary>A dense row-major copy, or this tensor when it is already contiguous.</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        var y = Clone();
        return y;
    }

    /// <summary>A dense copy of the data (gradients flow back to this tensor).</summary>
    public Tensor Clone()
    {
        var y = Empty(DType, _shape.ToArray());
        DTypeDispatch.RunAny("Clone", DType, new CopyDense(this, y));
        return Engine.Record(y, "CloneBackward", [this], g => [g]);
    }

    /// <summary>A copy converted to <paramref name="dtype"/> (this tensor when it already has it).</summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return this;
        var y = Empty(dtype, _shape.ToArray());
        Contiguous().ConvertInto("To", y);
        var from = DType;
        return Engine.Record(y, "ToBackward", [this], g => [g.To(from)]);
    }

    private int[] InferShape(string op, int[] shape)
    {
        var result = (int[])shape.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be -1, got {ShapeUtil.Format(shape)}.");
                infer = i;
            }
            else if (result[i] < 0) throw new ArgumentException($"{op}: invalid dimension {result[i]} in {ShapeUtil.Format(shape)}.");
            else known *= result[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Numel % known != 0)
                throw new ArgumentException($"{op}: shape {ShapeUtil.Format(shape)} is invalid for input of shape {ShapeUtil.Format(_shape)} ({Numel} elements).");
            result[infer] = (int)(Numel / known);
        }
        if (ShapeUtil.Numel(result) != Numel)
            throw new ArgumentException($"{op}: shape {ShapeUtil.Format(shape)} is invalid for input of shape {ShapeUtil.Format(_shape)} ({Numel} elements).");
        return result;
    }

    /// <summary>The same elements in a new shape (one dim may be -1); a view when contiguous, else a copy. Shape: (*) → shape.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var newShape = InferShape("Reshape", shape);
        var src = Contiguous();
        var y = src.View(newShape, ShapeUtil.ContiguousStrides(newShape), src._offset);
        var old = _shape;
        return Engine.Record(y, "ReshapeBackward", [this], g => [g.Reshape(old)]);
    }

    /// <summary>A view in a new shape; the tensor must be contiguous (see <see cref="Reshape"/>).</summary>
    public Tensor View(params int[] shape)
    {
        if (!IsContiguous) throw new InvalidOperationException($"View: the tensor of shape {ShapeUtil.Format(_shape)} is not contiguous; use Reshape or Contiguous().View.");
        return Reshape(shape);
    }

    /// <summary>Flattens dims startDim..endDim into one. Shape: (N, C, H, W) → (N, C·H·W) with the defaults 1, -1.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = ShapeUtil.Dim("Flatten", startDim, Rank), e = ShapeUtil.Dim("Flatten", endDim, Rank);
        if (s > e) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim}.");
        var shape = new List<int>();
        for (int i = 0; i < s; i++) shape.Add(_shape[i]);
        int m = 1;
        for (int i = s; i <= e; i++) m *= _shape[i];
        shape.Add(m);
        for (int i = e + 1; i < Rank; i++) shape.Add(_shape[i]);
        return Reshape([.. shape]);
    }

    /// <summary>Reorders the dims (a view). Shape: dims permuted.</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank) throw new ArgumentException($"Permute: got {dims.Length} dims for a tensor of rank {Rank}.");
        var shape = new int[Rank];
        var strides = new int[Rank];
        var inverse = new int[Rank];
        var seen = new bool[Rank];
        for (int i = 0; i < Rank; i++)
        {
            int d = ShapeUtil.Dim("Permute", dims[i], Rank);
            if (seen[d]) throw new ArgumentException($"Permute: dim {d} appears twice in {ShapeUtil.Format(dims)}.");
            seen[d] = true;
            shape[i] = _shape[d];
            strides[i] = _strides[d];
            inverse[d] = i;
        }
        var y = View(shape, strides, _offset);
        return Engine.Record(y, "PermuteBackward", [this], g => [g.Permute(inverse)]);
    }

    /// <summary>Swaps two dims (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var perm = new int[Rank];
        for (int i = 0; i < Rank; i++) perm[i] = i;
        int a = ShapeUtil.Dim("Transpose", dim0, Rank), b = ShapeUtil.Dim("Transpose", dim1, Rank);
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>The transpose of a matrix (a view). Shape: (m, n) → (n, m).</summary>
    public Tensor T
    {
        get
        {
            if (Rank != 2) throw new InvalidOperationException($"T: expected a 2-D tensor, got shape {ShapeUtil.Format(_shape)}; use Transpose or Permute.");
            return Transpose(0, 1);
        }
    }

    /// <summary>Elements start, start+step, ... below end along one dim (a view); negative bounds count from the end, bounds are clamped as in Python.</summary>
    public Tensor Slice(int dim, int start, int end, int step = 1)
    {
        int d = ShapeUtil.Dim("Slice", dim, Rank);
        if (step <= 0) throw new ArgumentException($"Slice: step must be positive, got {step}.");
        int n = _shape[d];
        if (start < 0) start += n;
        if (end < 0) end += n;
        start = Math.Clamp(start, 0, n);
        end = Math.Clamp(end, start, n);
        var shape = _shape.ToArray();
        var strides = _strides.ToArray();
        shape[d] = (end - start + step - 1) / step;
        strides[d] = _strides[d] * step;
        var y = View(shape, strides, _offset + start * _strides[d]);
        var inShape = _shape;
        return Engine.Record(y, "SliceBackward", [this], g =>
        {
            var gx = Empty(g.DType, inShape.ToArray());
            gx.Slice(d, start, end, step).CopyFrom(g);
            // under createGraph the scatter is recorded too: its backward is this slice again
            return [Engine.Record(gx, "SliceBackwardBackward", [g], gg => [gg.Slice(d, start, end, step)])];
        });
    }

    /// <summary>length elements from start along one dim (a view).</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        int d = ShapeUtil.Dim("Narrow", dim, Rank);
        if (start < 0 || length < 0 || start + length > _shape[d])
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: [{start}, {start + length}) is out of range for dim {d} of size {_shape[d]}.");
        return Slice(d, start, start + length);
    }

    /// <summary>The slice at <paramref name="index"/> of one dim, with that dim removed (a view).</summary>
    public Tensor Select(int dim, int index)
    {
        int d = ShapeUtil.Dim("Select", dim, Rank);
        int i = index < 0 ? index + _shape[d] : index;
        if ((uint)i >= (uint)_shape[d]) throw new IndexOutOfRangeException($"Select: index {index} is out of range for dim {d} of size {_shape[d]}.");
        return Narrow(d, i, 1).Squeeze(d);
    }

    /// <summary>Removes a dim of size 1 (or all of them when <paramref name="dim"/> is null).</summary>
    public Tensor Squeeze(int? dim = null)
    {
        var keep = new List<int>();
        int d = dim is int dd ? ShapeUtil.Dim("Squeeze", dd, Rank) : -1;
        for (int i = 0; i < Rank; i++)
            if (!(_shape[i] == 1 && (dim is null || i == d))) keep.Add(i);
        var shape = keep.Select(i => _shape[i]).ToArray();
        var strides = keep.Select(i => _strides[i]).ToArray();
        var inShape = _shape;
        return Engine.Record(View(shape, strides, _offset), "SqueezeBackward", [this], g => [g.Reshape(inShape)]);
    }

    /// <summary>Inserts a dim of size 1 at <paramref name="dim"/> (in [−rank−1, rank]).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = ShapeUtil.Dim("Unsqueeze", dim, Rank + 1);
        var shape = _shape.ToList();
        var strides = _strides.ToList();
        shape.Insert(d, 1);
        strides.Insert(d, d < Rank ? _strides[d] * _shape[d] : 1);
        return Engine.Record(View([.. shape], [.. strides], _offset), "UnsqueezeBackward", [this], g => [g.Squeeze(d)]);
    }

    /// <summary>Broadcasts size-1 dims (and new leading dims) to <paramref name="shape"/> without copying; -1 keeps a dim.</summary>
    public Tensor Expand(params int[] shape)
    {
        if (shape.Length < Rank) throw new ArgumentException($"Expand: target {ShapeUtil.Format(shape)} has fewer dims than the tensor's {ShapeUtil.Format(_shape)}.");
        var outShape = new int[shape.Length];
        var strides = new int[shape.Length];
        int lead = shape.Length - Rank;
        for (int i = 0; i < shape.Length; i++)
        {
            int src = i - lead;
            int size = shape[i] == -1 && src >= 0 ? _shape[src] : shape[i];
            if (src < 0)
            {
                if (size < 0) throw new ArgumentException($"Expand: -1 is not allowed for a new leading dim in {ShapeUtil.Format(shape)}.");
                outShape[i] = size;
                strides[i] = 0;
            }
            else if (_shape[src] == size)
            {
                outShape[i] = size;
                strides[i] = _strides[src];
            }
            else if (_shape[src] == 1)
            {
                outShape[i] = size;
                strides[i] = 0;
            }
            else throw new ArgumentException($"Expand: the tensor of shape {ShapeUtil.Format(_shape)} cannot be expanded to {ShapeUtil.Format(shape)} (dim {i}: {_shape[src]} vs {size}).");
        }
        var inShape = _shape;
        return Engine.Record(View(outShape, strides, _offset), "ExpandBackward", [this], g => [g.SumTo(inShape)]);
    }

    /// <summary>Sums a broadcast result back down to <paramref name="shape"/> (the backward of broadcasting).</summary>
    internal Tensor SumTo(ReadOnlySpan<int> shape)
    {
        if (ShapeUtil.SameShape(_shape, shape)) return this;
        int lead = Rank - shape.Length;
        var dims = new List<int>();
        for (int i = 0; i < Rank; i++)
            if (i < lead || (shape[i - lead] == 1 && _shape[i] != 1)) dims.Add(i);
        var s = Sum([.. dims], keepDim: true);
        return s.Reshape(shape.ToArray());
    }

    // strides of this tensor seen through a broadcast to outShape (0 on broadcast dims)
    internal int[] BroadcastStrides(ReadOnlySpan<int> outShape)
    {
        var strides = new int[outShape.Length];
        int lead = outShape.Length - Rank;
        for (int i = lead; i < outShape.Length; i++)
            strides[i] = _shape[i - lead] == 1 ? 0 : _strides[i - lead];
        return strides;
    }

    /// <summary>Copies <paramref name="src"/> (broadcast to this shape) into this tensor's elements; no graph.</summary>
    internal void CopyFrom(Tensor src)
    {
        src = src.To(DType);
        ShapeUtil.Broadcast("CopyFrom", src._shape, _shape);
        var ss = src.BroadcastStrides(_shape);
        DTypeDispatch.RunAny("CopyFrom", DType, new CopyStrided(src, ss, this));
    }

    // the dense copy of a strided tensor
    private readonly struct CopyDense(Tensor src, Tensor dst) : IAnyOp
    {
        public void Invoke<T>() where T : unmanaged =>
            Strided.Copy(src.Buffer<T>(), src._offset, src._strides, src._shape, dst.Buffer<T>(), 0);
    }

    // src read with srcStrides (its broadcast strides) into dst through dst's own strides
    private readonly struct CopyStrided(Tensor src, int[] srcStrides, Tensor dst) : IAnyOp
    {
        public void Invoke<T>() where T : unmanaged =>
            Strided.CopyStrided(src.Buffer<T>(), src._offset, srcStrides, dst._shape, dst.Buffer<T>(), dst._offset, dst._strides);
    }
}
