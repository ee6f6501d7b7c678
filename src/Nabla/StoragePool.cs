namespace Nabla;

/// <summary>
/// Recycles the storage of gradient tensors that a backward pass made and used up, so that the next training step's
/// tensors reuse those arrays instead of fresh memory (fresh arrays cost page faults and GC work: a CNN step allocates
/// tens of megabytes). Only arrays that <see cref="Autograd.Engine"/> allocated during the same backward call and
/// that nothing else can reach are returned: an interior node's residual once its backward has run, residuals that
/// were summed into a new one, a leaf's residual once added into its existing <see cref="Tensor.Grad"/>. Never the
/// gradient a caller passed, a leaf's new <c>Grad</c>, a retained gradient, a residual a backward passed through or
/// viewed, or anything a user <see cref="Autograd.Function"/> saw.
/// </summary>
/// <remarks>
/// Arrays of at least <see cref="MinLength"/> elements, up to <see cref="MaxBytes"/> in all; exact lengths only.
/// Thread-safe. A rented array holds stale values: <see cref="Tensor.Uninitialized"/> hands it out as is (or
/// NaN-filled under <see cref="Tensor.PoisonUninitialized"/>), zeroed allocations clear it.
/// </remarks>
internal static class StoragePool
{
    /// <summary>
    /// Smallest array pooled (1 KiB of float32): a training step's small tensors (a classifier's logits and their
    /// gradient, biases' gradients) are pooled too, so that a step allocates its objects only.
    /// </summary>
    public const int MinLength = 256;

    /// <summary>Most bytes the pool holds; arrays returned past it are left to the GC.</summary>
    public const long MaxBytes = 256L << 20;

    private static readonly Lock s_lock = new();
    // keyed by the array's type (float[], double[], long[], bool[], int[]) and length
    private static readonly Dictionary<(Type Type, int Length), Stack<Array>> s_free = new();
    private static long s_bytes;

    /// <summary>Off: nothing is returned or rented (tests compare against it).</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Bytes held now.</summary>
    public static long Bytes
    {
        get
        {
            lock (s_lock) return s_bytes;
        }
    }

    [ThreadStatic] private static long t_rentedBytes;

    /// <summary>
    /// Bytes of pooled arrays handed out on the calling thread so far: with <see cref="GC.GetAllocatedBytesForCurrentThread"/>,
    /// what a computation's tensors needed, pooled or not (the CLI sizes its evaluation batches by it).
    /// </summary>
    public static long RentedBytesOnThisThread => t_rentedBytes;

    /// <summary>Arrays handed out again since the process started (tests and benchmarks read it).</summary>
    public static long Reused { get; private set; }

    /// <summary>A pooled array of exactly <paramref name="length"/> elements of <paramref name="dtype"/>, or null.</summary>
    public static Array? Rent(DType dtype, int length) => Rent(dtype switch
    {
        DType.Float32 => typeof(float[]),
        DType.Float64 => typeof(double[]),
        DType.Int64 => typeof(long[]),
        _ => typeof(bool[]),
    }, length);

    /// <summary>A pooled <typeparamref name="T"/>[] of exactly <paramref name="length"/> elements (an op's saved buffer), or null.</summary>
    public static T[]? Rent<T>(int length) where T : unmanaged => (T[]?)Rent(typeof(T[]), length);

    private static Array? Rent(Type type, int length)
    {
        if (length < MinLength || !Enabled) return null;
        lock (s_lock)
        {
            if (!s_free.TryGetValue((type, length), out var stack) || stack.Count == 0) return null;
            var a = stack.Pop();
            s_bytes -= SizeOf(a);
            Reused++;
            t_rentedBytes += SizeOf(a);
            return a;
        }
    }

    /// <summary>Takes back an array nothing references any more (the caller guarantees it).</summary>
    public static void Return(Array a)
    {
        if (a.Length < MinLength || !Enabled) return;
        long size = SizeOf(a);
        lock (s_lock)
        {
            if (s_bytes + size > MaxBytes) return;
            var key = (a.GetType(), a.Length);
            if (!s_free.TryGetValue(key, out var stack)) s_free[key] = stack = new Stack<Array>();
            stack.Push(a);
            s_bytes += size;
        }
    }

    /// <summary>Drops every pooled array (the GC reclaims them).</summary>
    public static void Clear()
    {
        lock (s_lock)
        {
            s_free.Clear();
            s_bytes = 0;
        }
    }

    private static long SizeOf(Array a) => (long)a.Length * a switch
    {
        double[] or long[] => 8,
        bool[] => 1,
        _ => 4,
    };

    // ---- which arrays a backward pass allocated: only those may come back

    [ThreadStatic] private static HashSet<Array>? t_fresh;
    [ThreadStatic] private static HashSet<Array>? t_spare;   // the last recorder, cleared, for the next pass

    /// <summary>Starts recording the arrays allocated on this thread (a backward pass); returns the previous recorder.</summary>
    internal static HashSet<Array>? BeginRecording()
    {
        var previous = t_fresh;
        t_fresh = t_spare ?? new HashSet<Array>(ReferenceEqualityComparer.Instance);
        t_spare = null;
        return previous;
    }

    /// <summary>Pauses recording (a backward that builds a graph: nothing it allocates may be recycled); returns the previous recorder.</summary>
    internal static HashSet<Array>? PauseRecording()
    {
        var previous = t_fresh;
        t_fresh = null;
        return previous;
    }

    /// <summary>Stops recording and restores the recorder a nested backward interrupted.</summary>
    internal static void EndRecording(HashSet<Array>? previous)
    {
        if (t_fresh is { } done)
        {
            // kept for the next pass, holding no array; one grown past a large graph's arrays is dropped, as Engine's scratch
            bool keep = done.Count <= 4096;
            done.Clear();
            if (keep) t_spare = done;
        }
        t_fresh = previous;
    }

    /// <summary>Notes an array allocated for a tensor on this thread.</summary>
    internal static void Allocated(Array a)
    {
        if (a.Length >= MinLength) t_fresh?.Add(a);
    }

    /// <summary>Returns <paramref name="t"/>'s storage when this backward pass allocated it (and forgets it).</summary>
    internal static void Recycle(Tensor t)
    {
        if (t_fresh is { } fresh && fresh.Remove(t._storage)) Return(t._storage);
    }
}
