using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Nabla.Distributed;

/// <summary>
/// The processes of one MPI job (<c>mpirun -np N</c>) and the collectives data-parallel training needs: broadcast,
/// all-reduce (sum) and barrier, as PyTorch's <c>torch.distributed</c> with the MPI backend. Every collective has a
/// deadline (<see cref="Timeout"/>): a rank that waits longer asks the others which collective they are at and throws
/// a <see cref="DistributedTimeoutException"/> naming the ranks that never arrived, instead of hanging forever.
/// MPI runs funneled: every call must come from the thread that called <see cref="Init"/>.
/// </summary>
public sealed unsafe partial class ProcessGroup : IDisposable
{
    private static ProcessGroup? s_world;
    private readonly nint _comm;
    private readonly nint _diagnosisComm; // a duplicate of the world, so the timeout's questions never match a collective
    private readonly int _thread;
    private long _collectives;            // collectives started so far: the number the timeout diagnosis compares
    private bool _finalized;

    private ProcessGroup(nint comm, nint diagnosisComm, int rank, int size, TimeSpan timeout)
    {
        _comm = comm;
        _diagnosisComm = diagnosisComm;
        Rank = rank;
        WorldSize = size;
        Timeout = timeout;
        _thread = Environment.CurrentManagedThreadId;
    }

    /// <summary>True when this process was started by Open MPI's <c>mpirun</c> (its environment names the job).</summary>
    public static bool IsLaunchedByMpi => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null;

    /// <summary>The group <see cref="Init"/> made, or null before it.</summary>
    public static ProcessGroup? World => s_world;

    /// <summary>
    /// Initialises MPI (<c>MPI_Init_thread</c>, funneled) and returns the world group; later calls return the same group.
    /// <paramref name="timeout"/> bounds every collective's wait (default: the <c>NABLA_DIST_TIMEOUT</c> environment
    /// variable in seconds, else 10 minutes).
    /// </summary>
    /// <exception cref="DllNotFoundException">Open MPI's libmpi.so.40 is not installed.</exception>
    public static ProcessGroup Init(TimeSpan? timeout = null)
    {
        if (s_world is { } w)
        {
            if (timeout is { } t) w.Timeout = t;
            return w;
        }
        var api = Mpi.Lib;
        int initialized, provided, rank, size;
        Mpi.Check(api.Initialized(&initialized), "MPI_Initialized");
        if (initialized == 0)
        {
            Mpi.Check(api.InitThread(null, 0, Mpi.ThreadFunneled, &provided), "MPI_Init_thread");
            if (provided < Mpi.ThreadFunneled)
                throw new InvalidOperationException($"Nabla.Distributed: MPI provides thread level {provided}, Nabla needs MPI_THREAD_FUNNELED ({Mpi.ThreadFunneled}).");
        }
        Mpi.Check(api.CommRank(api.CommWorld, &rank), "MPI_Comm_rank");
        Mpi.Check(api.CommSize(api.CommWorld, &size), "MPI_Comm_size");
        nint dup;
        Mpi.Check(api.CommDup(api.CommWorld, &dup), "MPI_Comm_dup");
        return s_world = new ProcessGroup(api.CommWorld, dup, rank, size, timeout ?? DefaultTimeout());
    }

    private static TimeSpan DefaultTimeout()
    {
        var s = Environment.GetEnvironmentVariable("NABLA_DIST_TIMEOUT");
        if (s is null) return TimeSpan.FromMinutes(10);
        if (double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var sec) && sec > 0) return TimeSpan.FromSeconds(sec);
        throw new ArgumentException($"Nabla.Distributed: NABLA_DIST_TIMEOUT must be a positive number of seconds, got '{IO.Untrusted.Excerpt(s, 40)}'.");
    }

    /// <summary>This process's rank, 0 to <see cref="WorldSize"/> − 1.</summary>
    public int Rank { get; }

    /// <summary>The number of processes.</summary>
    public int WorldSize { get; }

    /// <summary>How long a collective may wait for the other ranks before it fails.</summary>
    public TimeSpan Timeout
    {
        get => _timeout;
        set => _timeout = value > TimeSpan.Zero ? value
            : throw new ArgumentOutOfRangeException(nameof(value), $"ProcessGroup.Timeout must be positive, got {value}.");
    }

    private TimeSpan _timeout;

    /// <summary>Copies rank <paramref name="root"/>'s values of <paramref name="tensor"/> into every rank's (in place). Shape: any, contiguous, the same on every rank.</summary>
    public void Broadcast(Tensor tensor, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if ((uint)root >= (uint)WorldSize) throw new ArgumentOutOfRangeException(nameof(root), $"ProcessGroup.Broadcast: root {root} is not a rank of this group of {WorldSize}.");
        using var pin = Pin("Broadcast", tensor);
        var type = DataType("Broadcast", tensor.DType);
        CheckThread("Broadcast");
        nint request;
        Mpi.Check(Mpi.Lib.Ibcast(pin.Address, tensor.Numel, type, root, _comm, &request), "MPI_Ibcast");
        Wait(Started("Broadcast", request));
    }

    /// <summary>Replaces <paramref name="tensor"/> on every rank by the sum over ranks (in place). Shape: any, contiguous, the same on every rank.</summary>
    public void AllReduce(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var pin = Pin("AllReduce", tensor);
        Wait(AllReduceStart(pin.Address, tensor.Numel, tensor.DType));
    }

    /// <summary>Returns once every rank has called it.</summary>
    public void Barrier()
    {
        CheckThread("Barrier");
        nint request;
        Mpi.Check(Mpi.Lib.Ibarrier(_comm, &request), "MPI_Ibarrier");
        Wait(Started("Barrier", request));
    }

    /// <summary>Ends the whole job at once (<c>MPI_Abort</c>): every rank exits with <paramref name="errorCode"/>.</summary>
    public void Abort(int errorCode = 1)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        Mpi.Lib.Abort(_comm, errorCode);
    }

    /// <summary>Finalizes MPI (<c>MPI_Finalize</c>, which every rank must reach); the group cannot be used after.</summary>
    public void Dispose()
    {
        if (_finalized) return;
        CheckThread("Dispose");
        _finalized = true;
        if (ReferenceEquals(s_world, this)) s_world = null; // World is null again: layers that sync (SyncBatchNorm) run alone
        int done;
        Mpi.Check(Mpi.Lib.Finalized(&done), "MPI_Finalized");
        if (done == 0) Mpi.Check(Mpi.Lib.Finalize(), "MPI_Finalize");
    }

    // An in-place sum over ranks of count elements at address (pinned by the caller until the operation completes).
    internal Pending AllReduceStart(void* address, int count, DType dtype)
    {
        var type = DataType("AllReduce", dtype);
        CheckThread("AllReduce");
        nint request;
        Mpi.Check(Mpi.Lib.Iallreduce((void*)Mpi.InPlace, address, count, type, Mpi.Lib.OpSum, _comm, &request), "MPI_Iallreduce");
        return Started("AllReduce", request);
    }

    private static nint DataType(string op, DType dtype) => dtype switch
    {
        DType.Float32 => Mpi.Lib.Float,
        DType.Float64 => Mpi.Lib.Double,
        DType.Int64 => Mpi.Lib.Long, // MPI_LONG is 64-bit on the LP64 Linux targets Open MPI runs on
        DType.Bool when op == "Broadcast" => Mpi.Lib.Byte,
        _ => throw new NotSupportedException($"ProcessGroup.{op}: dtype {dtype.Name()} is not supported (float32, float64, int64{(op == "Broadcast" ? " or bool" : "")})."),
    };

    private Pending Started(string op, nint request) => new(op, ++_collectives, request);

    private void CheckThread(string op)
    {
        if (_finalized) throw new ObjectDisposedException(nameof(ProcessGroup), $"ProcessGroup.{op}: MPI was finalized.");
        if (Environment.CurrentManagedThreadId != _thread)
            throw new InvalidOperationException($"ProcessGroup.{op}: MPI runs funneled; call it from the thread that called ProcessGroup.Init.");
    }

    /// <summary>A started collective: its MPI request and its number in this rank's sequence of collectives.</summary>
    internal sealed class Pending(string op, long sequence, nint request)
    {
        private nint _request = request;

        public string Op { get; } = op;

        public long Sequence { get; } = sequence;

        public bool Done { get; private set; }

        /// <summary>Lets MPI progress this operation; true once it has completed.</summary>
        public bool Test()
        {
            if (Done) return true;
            int flag;
            nint r = _request;
            Mpi.Check(Mpi.Lib.Test(&r, &flag, null), "MPI_Test");
            _request = r;
            Done = flag != 0;
            return Done;
        }
    }

    /// <summary>Polls <paramref name="op"/> until it completes or <see cref="Timeout"/> passes (then diagnoses and throws).</summary>
    internal void Wait(Pending op)
    {
        CheckThread(op.Op);
        if (op.Test()) return;
        var clock = Stopwatch.StartNew();
        for (int polls = 0; !op.Test(); polls++)
        {
            if (clock.Elapsed > Timeout) throw TimedOut(op, clock.Elapsed);
            // spin briefly (a collective usually completes in microseconds), then give the core away: ranks often share cores
            if (polls < 64) Thread.SpinWait(20);
            else if (clock.ElapsedMilliseconds < 20) Thread.Yield();
            else Thread.Sleep(1);
        }
    }

    private readonly struct PinnedTensor(GCHandle handle, void* address) : IDisposable
    {
        public void* Address { get; } = address;

        public void Dispose() => handle.Free();
    }

    private static PinnedTensor Pin(string op, Tensor t)
    {
        if (!t.IsContiguous) throw new ArgumentException($"ProcessGroup.{op}: the tensor must be contiguous (shape {ShapeUtil.Format(t.Shape)}, strides {ShapeUtil.Format(t.Strides)}); call Contiguous() first.");
        var h = GCHandle.Alloc(t._storage, GCHandleType.Pinned);
        return new PinnedTensor(h, (byte*)h.AddrOfPinnedObject() + (long)t._offset * t.DType.ElementSize());
    }
}
