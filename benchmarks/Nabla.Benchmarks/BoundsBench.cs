using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using Nabla.Kernels;

namespace Nabla.Benchmarks;

/// <summary>
/// What bounds the timed workloads (<c>Nabla.Benchmarks bounds</c>; run.sh's diagnostics, read by report.py): the FMA
/// peak with one and two threads, SGEMM n=1024 on a preallocated C with one and two threads, and the eight GEMMs of
/// the MLP train step alone on preallocated buffers with one and two threads, all interleaved round by round in one
/// process (then what reading another core's fresh data costs, <see cref="CrossCore"/>), so that the
/// machine's changing speed (a shared VM: measured to swing by up to 2x within minutes) hits every variant alike.
/// Each line's extra field gives the spread of the per-round medians (slowest / fastest round).
/// </summary>
internal static class BoundsBench
{
    private const int Rounds = 12;

    // the MLP 784-512-256-10 step at batch 128: forward x·Wᵀ, backward dX = dY·W (not for the first layer), dW = dYᵀ·X
    private static readonly (bool TA, bool TB, int M, int N, int K)[] s_mlpGemms =
    [
        (false, true, 128, 512, 784), (false, true, 128, 256, 512), (false, true, 128, 10, 256),
        (false, false, 128, 256, 10), (true, false, 10, 256, 128),
        (false, false, 128, 512, 256), (true, false, 256, 512, 128), (true, false, 512, 784, 128),
    ];

    public static void Run()
    {
        bool use512 = Vector512.IsHardwareAccelerated;
        int lanes = use512 ? 16 : 8;
        using var peak1 = new Workloads.PeakRunner(1, use512, Workloads.FmaIters / 4);
        using var peak2 = new Workloads.PeakRunner(2, use512, Workloads.FmaIters / 4);
        double fmaFlop = 2.0 * lanes * Workloads.FmaChains * (Workloads.FmaIters / 4);

        const int n = 1024;
        var g = new Generator(0);
        float[] a = Tensor.Randn([n, n], DType.Float32, g).ToArray(), b = Tensor.Randn([n, n], DType.Float32, g).ToArray();
        var c = new float[n * n];
        void Sgemm() => Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);

        var mats = s_mlpGemms.Select(s => (A: Rand(s.M * s.K, g), B: Rand(s.K * s.N, g), C: new float[s.M * s.N])).ToArray();
        double mlpFlop = s_mlpGemms.Sum(s => 2.0 * s.M * s.N * s.K);
        void MlpGemms()
        {
            for (int i = 0; i < s_mlpGemms.Length; i++)
            {
                var (ta, tb, m, nn, k) = s_mlpGemms[i];
                Gemm.Sgemm(ta, tb, m, nn, k, 1f, mats[i].A, ta ? m : k, mats[i].B, tb ? k : nn, 0f, mats[i].C, nn);
            }
        }

        var variants = new (string Name, int Threads, int Calls, Action Step, double Flop)[]
        {
            ("bound_fma_1t", 1, 4, peak1.Step, fmaFlop),
            ("bound_fma_2t", 2, 4, peak2.Step, 2 * fmaFlop),
            ("bound_sgemm_1024_1t", 1, 3, Sgemm, 2.0 * n * n * n),
            ("bound_sgemm_1024_2t", 2, 5, Sgemm, 2.0 * n * n * n),
            ("bound_mlp_gemms_1t", 1, 30, MlpGemms, mlpFlop),
            ("bound_mlp_gemms_2t", 2, 60, MlpGemms, mlpFlop),
        };
        var samples = variants.Select(_ => new List<double>()).ToArray();
        var roundMedians = variants.Select(_ => new List<double>()).ToArray();
        var warm = Stopwatch.StartNew();
        for (int round = -1; round < Rounds; round++)   // rounds -1 warm up (JIT tiers, packing buffers) for Harness.MinWarmupSeconds
        {
            if (round == 0 && warm.Elapsed.TotalSeconds < Harness.MinWarmupSeconds) round = -1;
            for (int v = 0; v < variants.Length; v++)
            {
                var (_, threads, calls, step, _) = variants[v];
                Threading.MaxThreads = threads;
                var times = new double[calls];
                step();   // untimed: after the other variants, the first call pays for waking the worker and refilling caches
                for (int i = 0; i < calls; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    step();
                    times[i] = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
                }
                if (round < 0) continue;
                samples[v].AddRange(times);
                Array.Sort(times);
                roundMedians[v].Add(Harness.Median(times));
            }
        }
        Threading.MaxThreads = Program.Threads;
        CrossCore();
        for (int v = 0; v < variants.Length; v++)
        {
            var (name, threads, _, _, flop) = variants[v];
            var s = samples[v].Order().ToArray();
            string spread = string.Create(CultureInfo.InvariantCulture,
                $"threads={threads} rounds={Rounds} round_spread(slowest/fastest median)={roundMedians[v].Max() / roundMedians[v].Min():F2}");
            double min = s[0], med = Harness.Median(s);
            // printed directly: these lines have no harness loop behind them (no p99, allocation or GC fields)
            Console.WriteLine(name.StartsWith("bound_mlp_gemms", StringComparison.Ordinal)
                ? string.Create(CultureInfo.InvariantCulture,
                    $"RESULT\t{name}\t{Harness.G6(min * 1e3)}\t{Harness.G6(med * 1e3)}\tms\t{s.Length}\t{spread} GFLOP/s(median)={flop / med / 1e9:F0} gemms={s_mlpGemms.Length} [interleaved]")
                : string.Create(CultureInfo.InvariantCulture,
                    $"RESULT\t{name}\t{Harness.G6(flop / min / 1e9)}\t{Harness.G6(flop / med / 1e9)}\tGFLOP/s(best,median)\t{s.Length}\t{spread} [interleaved]"));
        }
    }

    private static float[] Rand(int count, Generator g) => Tensor.Randn([count], DType.Float32, g).ToArray();

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int sched_setaffinity(int pid, nint size, ref ulong mask);

    private static void Pin(int cpu)
    {
        ulong mask = 1UL << cpu;
        if (OperatingSystem.IsLinux() && cpu < 64) sched_setaffinity(0, sizeof(ulong), ref mask);
    }

    /// <summary>
    /// What it costs one core to read data another core just wrote: a 1 MiB buffer written by a thread pinned to CPU 0,
    /// then read (sum) by the same thread or by one pinned to CPU 1, alternating; reported as read GB/s. A kernel
    /// whose parts land on another core than the one that produced their input pays the second figure.
    /// </summary>
    public static void CrossCore()
    {
        if (!OperatingSystem.IsLinux() || Environment.ProcessorCount < 2) return;
        const int floats = 1 << 18;   // 1 MiB
        var buf = GC.AllocateUninitializedArray<float>(floats, pinned: true);
        float sink = 0;
        long[] ticks = new long[2];
        int[] reads = new int[2];
        using var writeGo = new SemaphoreSlim(0);
        using var readGo = new SemaphoreSlim(0);
        using var done = new SemaphoreSlim(0);
        bool stop = false, localRead = false;
        var writer = new Thread(() =>
        {
            Pin(0);
            while (true)
            {
                writeGo.Wait();
                if (stop) return;
                Fill(buf);
                if (localRead) Time(0);
                done.Release();
            }
        }) { IsBackground = true };
        var reader = new Thread(() =>
        {
            Pin(1);
            while (true)
            {
                readGo.Wait();
                if (stop) return;
                Time(1);
                done.Release();
            }
        }) { IsBackground = true };
        void Time(int who)
        {
            long t0 = Stopwatch.GetTimestamp();
            sink += Sum(buf);
            ticks[who] += Stopwatch.GetTimestamp() - t0;
            reads[who]++;
        }
        writer.Start();
        reader.Start();
        for (int round = 0; round < 2 * 400; round++)
        {
            localRead = round % 2 == 0;
            writeGo.Release();
            done.Wait();
            if (localRead) continue;
            readGo.Release();
            done.Wait();
        }
        stop = true;
        writeGo.Release();
        readGo.Release();
        double Gbs(int who) => floats * 4.0 * reads[who] / (ticks[who] / (double)Stopwatch.Frequency) / 1e9;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT\tbound_read_1MiB_same_core\t{Harness.G6(Gbs(0))}\t{Harness.G6(Gbs(0))}\tGB/s(mean)\t{reads[0]}\twritten and read on CPU 0 [interleaved]"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT\tbound_read_1MiB_other_core\t{Harness.G6(Gbs(1))}\t{Harness.G6(Gbs(1))}\tGB/s(mean)\t{reads[1]}\twritten on CPU 0, read on CPU 1 [interleaved]"));
        GC.KeepAlive(sink);
    }

    private static void Fill(float[] buf)
    {
        var s = buf.AsSpan();
        var v = Vector512.Create(1f);
        for (int i = 0; i + 16 <= s.Length; i += 16) v.StoreUnsafe(ref s[i]);
    }

    // four independent sums, so the loop is bound by the loads, not by the adds' latency
    private static float Sum(float[] buf)
    {
        var s = buf.AsSpan();
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i + 64 <= s.Length; i += 64)
        {
            a0 += Vector512.LoadUnsafe(ref s[i]);
            a1 += Vector512.LoadUnsafe(ref s[i + 16]);
            a2 += Vector512.LoadUnsafe(ref s[i + 32]);
            a3 += Vector512.LoadUnsafe(ref s[i + 48]);
        }
        return Vector512.Sum((a0 + a1) + (a2 + a3));
    }
}
