using System.Runtime.InteropServices;

namespace Nabla.Distributed;

/// <summary>
/// The few MPI calls Nabla needs, bound at run time to Open MPI's <c>libmpi.so.40</c> (Debian's openmpi-bin and
/// libopenmpi-dev), so a program that never trains distributed never loads it. Open MPI's handles are the addresses
/// of exported globals (<c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>, <c>MPI_FLOAT</c> is
/// <c>&amp;ompi_mpi_float</c>, <c>MPI_SUM</c> is <c>&amp;ompi_mpi_op_sum</c>); <c>MPI_IN_PLACE</c> is <c>(void*)1</c>.
/// Every collective is non-blocking (<c>MPI_I*</c>) so <see cref="ProcessGroup"/> can poll it with a deadline.
/// </summary>
internal static unsafe class Mpi
{
    public const int Success = 0;
    public const int ThreadFunneled = 1; // Open MPI: SINGLE 0, FUNNELED 1, SERIALIZED 2, MULTIPLE 3
    public static readonly nint InPlace = 1;

    private static readonly Lazy<Api> s_api = new(Load);

    public static Api Lib => s_api.Value;

    /// <summary>The entry points and handles of the loaded library.</summary>
    internal sealed class Api
    {
        public required nint CommWorld, Float, Double, Byte, Long, OpSum, OpMax;
        public required delegate* unmanaged<int*, nint, int, int*, int> InitThread;
        public required delegate* unmanaged<int*, int> Initialized;
        public required delegate* unmanaged<int*, int> Finalized;
        public required delegate* unmanaged<int> Finalize;
        public required delegate* unmanaged<nint, int, int> Abort;
        public required delegate* unmanaged<nint, int*, int> CommRank;
        public required delegate* unmanaged<nint, int*, int> CommSize;
        public required delegate* unmanaged<nint, nint*, int> CommDup;
        // (buffer, count, datatype, root, comm, request*)
        public required delegate* unmanaged<void*, int, nint, int, nint, nint*, int> Ibcast;
        // (sendbuf, recvbuf, count, datatype, op, comm, request*)
        public required delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int> Iallreduce;
        public required delegate* unmanaged<nint, nint*, int> Ibarrier;
        // (buffer, count, datatype, dest/source, tag, comm, request*)
        public required delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int> Isend;
        public required delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int> Irecv;
        // (request*, flag*, status*)
        public required delegate* unmanaged<nint*, int*, void*, int> Test;
        public required delegate* unmanaged<nint*, int> Cancel;
        public required delegate* unmanaged<nint*, int> RequestFree;
    }

    private const int RtldNow = 2, RtldGlobal = 0x100;

    // Open MPI opens its own components (dlopen) and they resolve symbols against libmpi: load it RTLD_GLOBAL, as mpi4py does.
    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern nint DlOpen(byte* file, int flags);

    private static Api Load()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Nabla.Distributed: MPI is supported on Linux with Open MPI (libmpi.so.40).");
        nint lib = 0;
        foreach (var name in new[] { "libmpi.so.40", "libmpi.so" })
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(name + "\0");
            fixed (byte* p = bytes) lib = DlOpen(p, RtldNow | RtldGlobal);
            if (lib != 0) break;
        }
        if (lib == 0)
            throw new DllNotFoundException("Nabla.Distributed: cannot load Open MPI's libmpi.so.40; install it (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev, or run .ci/install-mpi.sh).");
        nint F(string symbol) => NativeLibrary.TryGetExport(lib, symbol, out var a) ? a
            : throw new EntryPointNotFoundException($"Nabla.Distributed: libmpi has no '{symbol}'; Nabla needs Open MPI 4 or later (its handles are exported globals).");
        return new Api
        {
            CommWorld = F("ompi_mpi_comm_world"),
            Float = F("ompi_mpi_float"),
            Double = F("ompi_mpi_double"),
            Byte = F("ompi_mpi_byte"),
            Long = F("ompi_mpi_long"),
            OpSum = F("ompi_mpi_op_sum"),
            OpMax = F("ompi_mpi_op_max"),
            InitThread = (delegate* unmanaged<int*, nint, int, int*, int>)F("MPI_Init_thread"),
            Initialized = (delegate* unmanaged<int*, int>)F("MPI_Initialized"),
            Finalized = (delegate* unmanaged<int*, int>)F("MPI_Finalized"),
            Finalize = (delegate* unmanaged<int>)F("MPI_Finalize"),
            Abort = (delegate* unmanaged<nint, int, int>)F("MPI_Abort"),
            CommRank = (delegate* unmanaged<nint, int*, int>)F("MPI_Comm_rank"),
            CommSize = (delegate* unmanaged<nint, int*, int>)F("MPI_Comm_size"),
            CommDup = (delegate* unmanaged<nint, nint*, int>)F("MPI_Comm_dup"),
            Ibcast = (delegate* unmanaged<void*, int, nint, int, nint, nint*, int>)F("MPI_Ibcast"),
            Iallreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int>)F("MPI_Iallreduce"),
            Ibarrier = (delegate* unmanaged<nint, nint*, int>)F("MPI_Ibarrier"),
            Isend = (delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int>)F("MPI_Isend"),
            Irecv = (delegate* unmanaged<void*, int, nint, int, int, nint, nint*, int>)F("MPI_Irecv"),
            Test = (delegate* unmanaged<nint*, int*, void*, int>)F("MPI_Test"),
            Cancel = (delegate* unmanaged<nint*, int>)F("MPI_Cancel"),
            RequestFree = (delegate* unmanaged<nint*, int>)F("MPI_Request_free"),
        };
    }

    /// <summary>Throws naming the call when an MPI function did not return MPI_SUCCESS.</summary>
    public static void Check(int code, string call)
    {
        if (code != Success) throw new InvalidOperationException($"Nabla.Distributed: {call} failed with MPI error code {code}.");
    }
}
