using System.Numerics;
using System.Numerics.Tensors;
using Nabla.NN;

namespace Nabla.Distributed;

/// <summary>
/// Parameters of one dtype whose gradients are all-reduced together: a pinned flat buffer (MPI reads and writes it while
/// the backward pass goes on) with a slot per parameter. It launches its all-reduce once every slot is filled.
/// </summary>
internal sealed unsafe class GradBucket
{
    private readonly Array _flat; // float[] or double[], pinned (allocated on the pinned object heap)
    private readonly int[] _offsets;
    private readonly bool[] _filled;
    private int _pending;

    public GradBucket(int index, DType dtype, Parameter[] parameters)
    {
        Index = index;
        DType = dtype;
        Parameters = parameters;
        _offsets = new int[parameters.Length];
        int n = 0;
        for (int i = 0; i < parameters.Length; i++)
        {
            _offsets[i] = n;
            n = checked(n + parameters[i].Numel);
        }
        Count = n;
        _flat = dtype switch
        {
            DType.Float32 => GC.AllocateUninitializedArray<float>(n, pinned: true),
            DType.Float64 => GC.AllocateUninitializedArray<double>(n, pinned: true),
            _ => throw new NotSupportedException($"DistributedDataParallel: parameters of dtype {dtype.Name()} cannot be all-reduced (float32 or float64)."),
        };
        _filled = new bool[parameters.Length];
        _pending = parameters.Length;
    }

    public int Index { get; }

    public DType DType { get; }

    public Parameter[] Parameters { get; }

    /// <summary>Elements in the flat buffer.</summary>
    public int Count { get; }

    /// <summary>The all-reduce in flight, once launched.</summary>
    public ProcessGroup.Pending? Op { get; private set; }

    public bool Ready => _pending == 0;

    /// <summary>Whether any slot was filled in the backward pass in progress.</summary>
    public bool Started => _pending < Parameters.Length;

    /// <summary>The parameters whose gradient has not arrived in the backward pass in progress.</summary>
    public IEnumerable<Parameter> Missing() => Parameters.Where((_, i) => !_filled[i]);

    private Tensor Slot(int i) => new(_flat, Parameters[i]._shape.ToArray(), ShapeUtil.ContiguousStrides(Parameters[i]._shape), _offsets[i]);

    /// <summary>Copies slot <paramref name="i"/>'s gradient in; true when it was the last one missing.</summary>
    public bool Fill(int i, Tensor grad)
    {
        if (_filled[i])
            throw new InvalidOperationException($"DistributedDataParallel: a parameter of shape {ShapeUtil.Format(Parameters[i].Shape)} received its gradient twice before the all-reduce of the first; call Forward before each Backward (and do not reuse a graph with retainGraph).");
        Slot(i).CopyFrom(grad);
        _filled[i] = true;
        return --_pending == 0;
    }

    public void Launch(ProcessGroup group)
    {
        fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_flat))
            Op = group.AllReduceStart(p, Count, DType);
    }

    /// <summary>Divides the summed gradients by <paramref name="worldSize"/>, writes them into the parameters' Grad and resets the bucket.</summary>
    public void Finish(int worldSize)
    {
        DTypeDispatch.Run("DistributedDataParallel", DType, new DivideBy(new Tensor(_flat, [Count]), worldSize));
        for (int i = 0; i < Parameters.Length; i++) Parameters[i].GradInternal!.CopyFrom(Slot(i));
        Reset();
    }

    public void Reset()
    {
        Array.Clear(_filled);
        _pending = Parameters.Length;
        Op = null;
    }

    // a division, as PyTorch's div_(world_size): multiplying by 1/3 would round differently
    private readonly struct DivideBy(Tensor t, int n) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            TensorPrimitives.Divide<T>(t.Span<T>(), T.CreateTruncating(n), t.Span<T>());
    }
}
