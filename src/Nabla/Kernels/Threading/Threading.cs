using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Nabla.Kernels;

/// <summary>
/// How many threads Nabla's kernels may use, and the one helper they use to run fixed work partitions on them.
/// </summary>
/// <remarks>
/// Kernels split work into a number of parts that depends only on the problem size, never on
/// <see cref="MaxThreads"/>, and each part writes its own output range; reductions combine the parts' results in
/// part order. That is what keeps results bit-identical whatever the thread count.
/// </remarks>
public static class Threading
{
    private static int s_maxThreads = Environment.ProcessorCount;

    /// <summary>Upper bound on the threads a kernel uses (default: the processor count). Must be at least 1.</summary>
    public static int MaxThreads
    {
        get => s_maxThreads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(MaxThreads));
            s_maxThreads = value;
        }
    }

    /// <summary>Whether the calling thread is running a part of a <see cref="For{TBody}"/> (a nested call runs inline).</summary>
    internal static bool InsidePart => WorkerPool.IsInsideFor;

    /// <summary>Runs <paramref name="body"/> for every part in [0, <paramref name="parts"/>), on up to <see cref="MaxThreads"/> threads.</summary>
    /// <remarks>
    /// Parts run on the calling thread and a small set of persistent worker threads, so a call costs about a
    /// microsecond rather than the tens of a <see cref="Parallel.For(int, int, Action{int})"/>. Each thread owns a
    /// contiguous block of the parts (the same block for the same part and thread counts, so repeated calls find their
    /// data in that core's cache) and, once done, takes the parts still unclaimed in the others' blocks: a worker the
    /// OS has descheduled delays the call by at most the parts it already claimed.
    /// The body is a struct: the call allocates nothing, and the workers reach it by its address in this frame, which
    /// outlives every part. A nested call runs inline on the thread that makes it; a call made while another thread
    /// holds the workers falls back to <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> (which
    /// allocates: a boxed copy of the body and the loop's own state).
    /// </remarks>
    internal static unsafe void For<TBody>(int parts, TBody body) where TBody : struct, IParallelBody
    {
        if (parts <= 0) return;
        int threads = Math.Min(parts, s_maxThreads);
        if (threads == 1 || WorkerPool.IsInsideFor)
        {
            for (int i = 0; i < parts; i++) body.Invoke(i);
            return;
        }
        if (WorkerPool.TryRun(parts, threads, Unsafe.AsPointer(ref body), &Invoke<TBody>)) return;
        try
        {
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, body.Invoke);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // the same exception the pool path throws: a part's own, not a wrapper
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>Runs <paramref name="body"/> for every part in [0, <paramref name="parts"/>) (a delegate body: see <see cref="For{TBody}"/>).</summary>
    internal static void For(int parts, Action<int> body) => For(parts, new ActionBody(body));

    private static unsafe void Invoke<TBody>(void* body, int part) where TBody : struct, IParallelBody => Unsafe.AsRef<TBody>(body).Invoke(part);

    private readonly struct ActionBody(Action<int> action) : IParallelBody
    {
        public void Invoke(int part) => action(part);
    }

    /// <summary>Persistent spinning-then-sleeping workers; the caller takes part in the work.</summary>
    private static unsafe class WorkerPool
    {
        [ThreadStatic] private static bool t_insideFor; // a pool worker, or a caller running its parts
        private static readonly object s_monitor = new();
        private static readonly List<Thread> s_workers = new();
        private static int s_busy;            // 1 while a caller owns the pool
        private static int s_generation;      // odd while a job is being published, even when stable
        private static int s_inside;          // workers currently attached to the published job
        private static int s_sleepers;
        private static int s_allowedWorkers;
        private static void* s_body;         // the caller's TBody, valid while its parts run
        private static delegate*<void*, int, void> s_invoke;
        private static int s_chunk;           // parts claimed at a time
        private static int s_threads;         // participants of the published job: the caller (0) and workers 1..
        private static Block[] s_blocks = new Block[2];
        private static Counters s_count;      // parts done, on its own cache line

        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 192)]
        private struct Counters
        {
            [System.Runtime.InteropServices.FieldOffset(64)] public int Done;
        }

        // Participant p's unclaimed parts [First, End) in one word: p claims from the front, a thread that ran out of
        // its own work from the back, so the owner keeps its usual parts even when it starts late.
        [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 128)]
        private struct Block
        {
            [System.Runtime.InteropServices.FieldOffset(64)] public long Range;   // First | (long)End << 32

            public static long Make(int first, int end) => (uint)first | (long)end << 32;

            /// <summary>Claims up to <paramref name="chunk"/> parts from the front (owner) or the back; false when none are left.</summary>
            public bool TryClaim(bool front, int chunk, out int first, out int last)
            {
                while (true)
                {
                    long range = Volatile.Read(ref Range);
                    int lo = (int)range, hi = (int)(range >> 32);
                    if (lo >= hi)
                    {
                        first = last = 0;
                        return false;
                    }
                    (first, last) = front ? (lo, Math.Min(hi, lo + chunk)) : (Math.Max(lo, hi - chunk), hi);
                    long claimed = front ? Make(last, hi) : Make(lo, first);
                    if (Interlocked.CompareExchange(ref Range, claimed, range) == range) return true;
                }
            }
        }
        private static Exception? s_error;

        internal static bool IsInsideFor => t_insideFor;

        internal static bool TryRun(int parts, int threads, void* body, delegate*<void*, int, void> invoke)
        {
            if (Interlocked.CompareExchange(ref s_busy, 1, 0) != 0) return false;
            try
            {
                EnsureWorkers(threads - 1);
                // Publish: make the generation odd, wait for stragglers of the previous job to leave, write the job.
                Interlocked.Increment(ref s_generation);
                var spin = new SpinWait();
                while (Volatile.Read(ref s_inside) != 0) spin.SpinOnce(sleep1Threshold: -1);
                s_body = body;
                s_invoke = invoke;
                // claim several parts at a time when there are many small ones (a claim is a cross-core atomic):
                // about 8 claims per thread
                s_chunk = Math.Max(1, parts / (8 * threads));
                if (s_blocks.Length < threads) s_blocks = new Block[threads];
                for (int p = 0; p < threads; p++)
                {
                    s_blocks[p].Range = Block.Make((int)((long)parts * p / threads), (int)((long)parts * (p + 1) / threads));
                }
                s_threads = threads;
                s_count.Done = 0;
                s_error = null;
                s_allowedWorkers = threads - 1;
                Interlocked.Increment(ref s_generation);
                if (Volatile.Read(ref s_sleepers) != 0)
                    lock (s_monitor) Monitor.PulseAll(s_monitor);

                t_insideFor = true;
                try
                {
                    RunParts(body, invoke, 0);
                }
                finally
                {
                    t_insideFor = false;
                }
                spin = default;
                while (Volatile.Read(ref s_count.Done) < parts) spin.SpinOnce(sleep1Threshold: -1);
                s_body = null;
                Exception? error = s_error;
                if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();
                return true;
            }
            finally
            {
                Volatile.Write(ref s_busy, 0);
            }
        }

        // Participant `self` runs its own block first, then takes what is left of the others' (the next one's first), from
        // their ends: the same parts land on the same thread call after call (its cache keeps their data), and a thread
        // the OS descheduled finds its block done by the others instead of making the caller wait for all of it.
        private static void RunParts(void* body, delegate*<void*, int, void> invoke, int self)
        {
            int threads = s_threads, chunk = s_chunk, done = 0;
            var blocks = s_blocks;
            for (int v = 0; v < threads; v++)
            {
                int q = self + v < threads ? self + v : self + v - threads;
                while (blocks[q].TryClaim(front: v == 0, chunk, out int first, out int last))
                {
                    for (int i = first; i < last; i++)
                    {
                        try
                        {
                            invoke(body, i);
                        }
                        catch (Exception e)
                        {
                            Interlocked.CompareExchange(ref s_error, e, null);
                        }
                    }
                    done += last - first;
                }
            }
            // one cross-core atomic per thread and call: the caller polls this line, so adding per claim made every
            // claim wait for the line to come back from the spinning caller
            if (done > 0) Interlocked.Add(ref s_count.Done, done);
        }

        private static void EnsureWorkers(int count)
        {
            while (s_workers.Count < count)
            {
                int index = s_workers.Count;
                var t = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = "Nabla worker " + index };
                s_workers.Add(t);
                t.Start();
            }
        }

        private static void WorkerLoop(int index)
        {
            t_insideFor = true;
            int seen = Volatile.Read(ref s_generation) & ~1;
            while (true)
            {
                int g = WaitForJob(seen);
                Interlocked.Increment(ref s_inside);
                if (Volatile.Read(ref s_generation) != g)
                {
                    Interlocked.Decrement(ref s_inside);
                    continue;
                }
                seen = g;
                // a worker that attaches after the last part was claimed finds nothing to claim: body is never read
                void* body = s_body;
                if (index < s_allowedWorkers && body != null) RunParts(body, s_invoke, index + 1);
                Interlocked.Decrement(ref s_inside);
            }
        }

        private static int WaitForJob(int seen)
        {
            const int SpinIterations = 20000; // roughly 100-200 microseconds of polling before sleeping
            for (int s = 0; s < SpinIterations; s++)
            {
                int g = Volatile.Read(ref s_generation);
                if (g != seen && (g & 1) == 0) return g;
                Thread.SpinWait(8);
            }
            lock (s_monitor)
            {
                Interlocked.Increment(ref s_sleepers);
                try
                {
                    while (true)
                    {
                        int g = Volatile.Read(ref s_generation);
                        if (g != seen && (g & 1) == 0) return g;
                        Monitor.Wait(s_monitor, 50);
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref s_sleepers);
                }
            }
        }
    }
}

/// <summary>
/// The work of a <see cref="Threading.For{TBody}"/>: part <c>i</c> of a partition fixed by the problem size. A struct
/// holding the call's operands (raw pointers included: it lives only for the call), so a parallel loop allocates
/// nothing and the JIT compiles each body into its own loop.
/// </summary>
internal interface IParallelBody
{
    /// <summary>Runs one part; parts may run concurrently, so the body only reads its own fields.</summary>
    void Invoke(int part);
}
