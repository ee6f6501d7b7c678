using System.Numerics;
using System.Runtime.InteropServices;
using Nabla.Autograd;

namespace Nabla;

/// <summary>
/// An n-dimensional array of <see cref="DType.Float32"/>, <see cref="DType.Float64"/>, <see cref="DType.Int64"/> or
/// <see cref="DType.Bool"/> values (only floating-point tensors take part in autodiff), with the graph
/// information reverse-mode autodiff needs. Views (reshape, transpose, slices, expand) share storage through
/// <see cref="Strides"/> and an offset; plain managed memory, nothing to dispose.
/// </summary>
public partial class Tensor
{
    // float[], double[], long[] or bool[]; shared by views.
    internal readonly Array _storage;
    internal readonly int _offset;
    internal readonly int[] _shape;
    internal readonly int[] _strides;
    private bool _requiresGrad;

    internal Tensor(Array storage, int[] shape, int[] strides, int offset)
    {
        _storage = storage;
        _shape = shape;
        _strides = strides;
        _offset = offset;
        DType = DTypeExtensions.Of(storage);
        Numel = ShapeUtil.Numel(shape);
    }

    internal Tensor(Array storage, int[] shape) : this(storage, shape, ShapeUtil.ContiguousStrides(shape), 0) { }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>The size of each dimension (empty for a 0-d tensor); a value that can be kept and used with LINQ.</summary>
    public TensorShape Shape => new(_shape);

    /// <summary>The step in elements between neighbours along each dimension (0 for a broadcast dimension).</summary>
    public ReadOnlySpan<int> Strides => _strides;

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public int Numel { get; }

    /// <summary>The size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => _shape[ShapeUtil.Dim("Size", dim, Rank)];

    /// <summary>Whether gradients flow to this tensor. Only leaves (tensors made by the user) may be switched.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (value && !DType.IsFloatingPoint())
                throw new InvalidOperationException($"RequiresGrad: only floating-point tensors can require gradients; this one is {DType.Name()}.");
            if (!value && GradFn is not null)
                throw new InvalidOperationException($"RequiresGrad: only leaf tensors can be switched off; this one was made by {GradFn.Name}. Use Detach().");
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient ∇J of this tensor after <see cref="Backward"/>; null until then.</summary>
    public Tensor? Grad
    {
        get
        {
            if (_grad is not null) _grad._escaped = true;
            return _grad;
        }
        set
        {
            if (value is not null) value._escaped = true;
            _grad = value;
        }
    }

    // Gradient reuse: a gradient only the library itself has read or written (the engine, the optimizers, gradient
    // clipping, DDP's buckets, which keep no reference past the call) cannot be reached by user code, so when ZeroGrad
    // drops it its array goes back to StoragePool and the next backward's gradient of that size reuses it, instead of a
    // fresh large-object-heap array each step. Reading or setting Grad (the public property), a tensor hook, a backward
    // observer or createGraph marks the gradient escaped, and it is then left to the GC as before.
    private Tensor? _grad;
    private bool _escaped;

    /// <summary>The library's own access to <see cref="Grad"/>: keeps no reference past the call (see above).</summary>
    internal Tensor? GradInternal
    {
        get => _grad;
        set => _grad = value;
    }

    internal void MarkEscaped() => _escaped = true;

    /// <summary>ZeroGrad (set to none): drops the gradient and pools its array when nothing outside the library saw it.</summary>
    internal void DropGrad()
    {
        var g = _grad;
        _grad = null;
        if (g is { _escaped: false, _offset: 0 } && g.IsContiguous && g.Numel == g._storage.Length) StoragePool.Return(g._storage);
    }

    /// <summary>The graph node that made this tensor, or null for a leaf.</summary>
    public Node? GradFn { get; internal set; }

    // which of GradFn's outputs this tensor is (0 for a single-output op)
    internal int OutputIndex { get; set; }

    /// <summary>True for tensors made by the user rather than by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    internal bool RetainsGrad { get; private set; }

    /// <summary>Keeps <see cref="Grad"/> for this non-leaf tensor during backward (the residual ∇J it received).</summary>
    public Tensor RetainGrad()
    {
        RetainsGrad = true;
        return this;
    }

    /// <summary>True when the elements are laid out densely in row-major order.</summary>
    public bool IsContiguous
    {
        get
        {
            // an empty tensor has no elements to lay out (its strides are arbitrary), as in PyTorch
            if (Numel == 0) return true;
            int s = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (_shape[i] != 1 && _strides[i] != s) return false;
                s *= _shape[i];
            }
            return true;
        }
    }

    internal T[] Buffer<T>() => (T[])_storage;

    // true for a tensor made by Empty: the only tensor over its storage when created (views and Detach share it)
    internal bool OwnsStorage { get; private init; }

    /// <summary>The elements of a contiguous tensor as a span over its storage (writes go into the tensor).</summary>
    internal Span<T> Span<T>()
    {
        if (!IsContiguous) throw new InvalidOperationException("Span: tensor is not contiguous; call Contiguous() first.");
        return new Span<T>((T[])_storage, _offset, Numel);
    }

    /// <summary>The elements in row-major order, converted to float.</summary>
    public float[] ToArray()
    {
        var dst = new float[Numel];
        Contiguous().ConvertInto("ToArray", new Tensor(dst, _shape));
        return dst;
    }

    /// <summary>The elements in row-major order, converted to double.</summary>
    public double[] ToDoubleArray()
    {
        var dst = new double[Numel];
        Contiguous().ConvertInto("ToDoubleArray", new Tensor(dst, _shape));
        return dst;
    }

    /// <summary>The elements in row-major order as int64 (floats truncated toward zero, true is 1), as tensor.long().tolist().</summary>
    public long[] ToInt64Array()
    {
        var dst = new long[Numel];
        Contiguous().ConvertInto("ToInt64Array", new Tensor(dst, _shape));
        return dst;
    }

    /// <summary>The elements in row-major order as bool (non-zero is true), as tensor.bool().tolist().</summary>
    public bool[] ToBoolArray()
    {
        var dst = new bool[Numel];
        Contiguous().ConvertInto("ToBoolArray", new Tensor(dst, _shape));
        return dst;
    }

    /// <summary>Writes this contiguous tensor's elements into <paramref name="dst"/>'s storage (dense, same numel), converted to its dtype.</summary>
    internal void ConvertInto(string op, Tensor dst) => DTypeDispatch.RunAny(op, DType, new ConvertFrom(this, dst, op));

    private readonly struct ConvertFrom(Tensor src, Tensor dst, string op) : IAnyOp
    {
        public void Invoke<TSrc>() where TSrc : unmanaged => DTypeDispatch.RunAny(op, dst.DType, new ConvertTo<TSrc>(src, dst));
    }

    private readonly struct ConvertTo<TSrc>(Tensor src, Tensor dst) : IAnyOp where TSrc : unmanaged
    {
        public void Invoke<TDst>() where TDst : unmanaged
        {
            var s = src.Span<TSrc>();
            var d = dst.Span<TDst>();
            // the same type is a plain copy (the JIT drops the branch that does not apply)
            if (typeof(TSrc) == typeof(TDst)) MemoryMarshal.Cast<TSrc, TDst>(s).CopyTo(d);
            else for (int i = 0; i < d.Length; i++) d[i] = ScalarConvert.Convert<TSrc, TDst>(s[i]);
        }
    }

    /// <summary>The value of a one-element tensor.</summary>
    public double Item()
    {
        if (Numel != 1) throw new InvalidOperationException($"Item: a tensor with {Numel} elements (shape {ShapeUtil.Format(_shape)}) cannot be converted to a scalar.");
        return ElementAt(_offset);
    }

    /// <summary>The element at the given index (one int per dimension, negative counts from the end).</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public double this[params int[] index]
    {
        get
        {
            return ElementAt(Position(index));
        }
    }

    private double ElementAt(int pos) => DTypeDispatch.RunAny<ReadElement, double>("Item", DType, new ReadElement(this, pos));

    private readonly struct ReadElement(Tensor t, int pos) : IAnyFunc<double>
    {
        public double Invoke<T>() where T : unmanaged => ScalarConvert.ToDouble(t.Buffer<T>()[pos]);
    }

    internal int Position(ReadOnlySpan<int> index)
    {
        if (index.Length != Rank) throw new ArgumentException($"Indexer: expected {Rank} indices for shape {ShapeUtil.Format(_shape)}, got {index.Length}.");
        int pos = _offset;
        for (int d = 0; d < Rank; d++)
        {
            int i = index[d] < 0 ? index[d] + _shape[d] : index[d];
            if ((uint)i >= (uint)_shape[d]) throw new IndexOutOfRangeException($"Indexer: index {index[d]} is out of range for dim {d} of size {_shape[d]}.");
            pos += i * _strides[d];
        }
        return pos;
    }

    /// <summary>A tensor sharing this one's data but cut from the graph (no gradient flows through it).</summary>
    public Tensor Detach() => new(_storage, _shape, _strides, _offset);

    /// <summary>Runs backpropagation from this scalar (or with an upstream gradient of this tensor's shape).</summary>
    /// <param name="gradient">∇J of this tensor; required unless it has one element (then 1).</param>
    /// <param name="retainGraph">Keep the graph so backward can run through it again (default: <paramref name="createGraph"/>).</param>
    /// <param name="createGraph">Record the backward pass as graph ops, so the gradients left in <see cref="Grad"/> can be
    /// differentiated again (second-order gradients); see <see cref="Autograd.Autograd.Grad"/>.</param>
    public void Backward(Tensor? gradient = null, bool? retainGraph = null, bool createGraph = false) =>
        Engine.Backward(this, gradient, retainGraph ?? createGraph, createGraph);

    /// <summary>Same-shape, same-dtype check used by the ops; throws naming the op.</summary>
    internal static void CheckSameDType(string op, Tensor a, Tensor b)
    {
        if (a.DType != b.DType) throw new ArgumentException($"{op}: dtypes differ ({a.DType.Name()} vs {b.DType.Name()}); convert one with To(DType).");
    }

    /// <summary>The storage position of every element, in row-major order.</summary>
    internal int[] StoragePositions()
    {
        var positions = new int[Numel];
        int k = 0;
        Kernels.Strided.ForEachRow(_shape, _strides, _offset, default, 0, default, 0, (n, o, s, _, _, _, _) =>
        {
            for (int i = 0; i < n; i++) positions[k++] = o + i * s;
        });
        return positions;
    }
}
