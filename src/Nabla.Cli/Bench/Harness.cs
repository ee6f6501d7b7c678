using System.Diagnostics;
using System.Globalization;

namespace Nabla.Benchmarks;

/// <summary>
/// The timing method of shared/bench/bench_torch.py, line for line: wait for a quiet machine (/proc/stat against
/// /proc/self/stat), warm up, then at least <see cref="MinIters"/> iterations and about <see cref="TargetSeconds"/>
/// seconds, retrying an attempt during which other processes used more than <see cref="MaxOthersPct"/> of the
/// machine, within a per-process retry budget. Results are printed as the script prints them:
/// <c>RESULT\tname\tmin\tmedian\tunit\titers\textra [notes]</c>. Beyond the script, each line's extra field
/// carries the 99th percentile (time units), the managed bytes the calling thread allocated per iteration
/// (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) and the gen0/gen1/gen2 collections per 100 iterations of
/// the timed loop and the GC's pause time per iteration (<see cref="GC.GetTotalPauseDuration"/>):
/// <c>p99=… alloc_per_iter_B=… gc_per_100_iters=g0/g1/g2 gc_pause_ms_per_iter=…</c>. Shared by Nabla.Benchmarks and
/// `nabla bench` (which also collects the lines as <see cref="Results"/>). With <c>NABLA_BENCH_GCLOG=1</c> each timed
/// loop's collections are printed with their generation and reason (<see cref="GcLog"/>).
/// </summary>
internal static class Harness
{
    public static int MinIters = 20;
    public static double TargetSeconds = 2.0;
    public const int MaxIters = 5000;
    public const double MaxOthersPct = 5.0;   // retry an attempt when other processes used more CPU than this (shared VM)
    public const int MaxAttempts = 4;

    /// <summary>At most this many warm-up iterations (a quick run lowers it).</summary>
    public static int MaxWarmup = int.MaxValue;

    /// <summary>
    /// Warm-up lasts at least this long (a quick run sets 0). The tiered JIT compiles a step's methods again, with
    /// profile data, over its first seconds on a background thread; on 2 cores that thread takes one from the kernels,
    /// and a timed loop that overlapped it measured the LeNet step's median at 2-4x its steady value (2026-12-05:
    /// 3.9-7.4 ms against 1.7-2.4 ms with the JIT's tiering off). PyTorch has no JIT to wait for.
    /// </summary>
    public static double MinWarmupSeconds = 3.0;

    /// <summary>Seconds of waiting/retrying per process (env ANCHORS_RETRY_BUDGET_S, default 45, as the script).</summary>
    public static double RetryBudget = ParseBudget(Environment.GetEnvironmentVariable("ANCHORS_RETRY_BUDGET_S"));

    /// <summary>Where RESULT lines go (null: nowhere; `nabla bench` prints its own table from <see cref="Results"/>).</summary>
    public static TextWriter? Output = Console.Out;

    /// <summary>Every reported result, in order.</summary>
    public static readonly List<BenchResult> Results = [];

    private static readonly int s_ncpu = Environment.ProcessorCount;
    private static double s_retrySpent;
    private static string s_lastNote = "";
    private static double[] s_lastSamples = [];
    private static double s_lastAllocPerIter = double.NaN;
    private static (double G0, double G1, double G2) s_lastGcPer100 = (double.NaN, double.NaN, double.NaN);
    private static double s_lastGcPauseMsPerIter = double.NaN;

    /// <summary>Short runs for a smoke test: few iterations, ~0.1 s per workload, no waiting for a quiet machine.</summary>
    public static void Quick()
    {
        MinIters = 5;
        TargetSeconds = 0.1;
        MaxWarmup = 2;
        MinWarmupSeconds = 0;
        RetryBudget = 0;
    }

    /// <summary>Seconds spent waiting for a quiet machine or between retries so far.</summary>
    public static double RetrySpent => s_retrySpent;

    private static double ParseBudget(string? s) =>
        s is not null && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : 45.0;

    private static double Now() => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    /// <summary>(busy ticks of the whole machine: user+nice+system+irq+softirq, steal ticks), from /proc/stat.</summary>
    public static (long Busy, long Steal) MachineTicks()
    {
        string line;
        using (var r = new StreamReader("/proc/stat")) line = r.ReadLine() ?? "";
        var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long F(int i) => long.Parse(v[i], CultureInfo.InvariantCulture);
        return (F(1) + F(2) + F(3) + F(6) + F(7), F(8));
    }

    /// <summary>utime + stime of this process (all its threads), from /proc/self/stat.</summary>
    public static long SelfTicks()
    {
        string st = File.ReadAllText("/proc/self/stat");
        var fl = st[(st.LastIndexOf(')') + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(fl[11], CultureInfo.InvariantCulture) + long.Parse(fl[12], CultureInfo.InvariantCulture);
    }

    /// <summary>Waits (within the retry budget) until other processes use &lt; MaxOthersPct of the machine over 0.5 s.</summary>
    public static void WaitQuiet()
    {
        while (s_retrySpent < RetryBudget)
        {
            double t = Now();
            var (b0, _) = MachineTicks();
            long me0 = SelfTicks();
            Thread.Sleep(500);
            var (b1, _) = MachineTicks();
            long me1 = SelfTicks();
            s_retrySpent += Now() - t;
            if (Math.Max(0, (b1 - b0) - (me1 - me0)) / (0.5 * 100.0 * s_ncpu) * 100.0 < MaxOthersPct)
                return;
        }
    }

    /// <summary>Per-iteration seconds (sorted); retried when other processes were busy during the attempt.</summary>
    public static double[] TimeIt(Action step, int warmup)
    {
        double[]? best = null;
        double bestOthers = double.PositiveInfinity;
        var notes = new List<string>();
        warmup = Math.Min(warmup, MaxWarmup);
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            WaitQuiet();
            double warmStart = Now();
            for (int i = 0; i < warmup || Now() - warmStart < MinWarmupSeconds; i++) step();
            // the warm-up's lasting survivors (the storage pool's arrays) settled in gen2 now, not by the timed loop's
            // first collection: the loop's GC counts are then the steady state's
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var samples = new List<double>(MaxIters);
            using var gcLog = GcLog.Start();
            var (b0, s0) = MachineTicks();
            long me0 = SelfTicks();
            int gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2);
            long alloc0 = GC.GetAllocatedBytesForCurrentThread();
            var pause0 = GC.GetTotalPauseDuration();
            double start = Now();
            while (samples.Count < MinIters || (Now() - start < TargetSeconds && samples.Count < MaxIters))
            {
                long t0 = Stopwatch.GetTimestamp();
                step();
                samples.Add((Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency);
            }
            double wall = Now() - start;
            // the samples list's own growth is the harness's, not the step's: it has MaxIters capacity from the start
            long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
            gcLog?.Finish($"timed loop, attempt {attempt}, {samples.Count} iterations", GC.CollectionCount(0) - gc0);
            double pauseMs = (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds;
            var gcs = (100.0 * (GC.CollectionCount(0) - gc0) / samples.Count, 100.0 * (GC.CollectionCount(1) - gc1) / samples.Count,
                100.0 * (GC.CollectionCount(2) - gc2) / samples.Count);
            var (b1, s1) = MachineTicks();
            long me1 = SelfTicks();
            double cap = wall * 100.0 * s_ncpu;
            double others = Math.Max(0, (b1 - b0) - (me1 - me0)) / cap * 100.0;
            double steal = (s1 - s0) / cap * 100.0;
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"a{attempt}:others={others:F0}%steal={steal:F0}%"));
            samples.Sort();
            if (others < bestOthers)
            {
                bestOthers = others;
                best = samples.ToArray();
                s_lastAllocPerIter = alloc / (double)samples.Count;
                s_lastGcPer100 = gcs;
                s_lastGcPauseMsPerIter = pauseMs / samples.Count;
            }
            if (others <= MaxOthersPct || s_retrySpent >= RetryBudget) break;
            Thread.Sleep(2000);
            s_retrySpent += 2;
        }
        s_lastNote = string.Join(",", notes);
        s_lastSamples = best!;
        return best!;
    }

    public static double Median(double[] s)
    {
        int n = s.Length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    /// <summary>Python's <c>format(x, ".6g")</c>.</summary>
    public static string G6(double x)
    {
        if (double.IsNaN(x)) return "nan";
        if (double.IsInfinity(x)) return x > 0 ? "inf" : "-inf";
        string s = x.ToString("G6", CultureInfo.InvariantCulture);
        int e = s.IndexOf('E', StringComparison.Ordinal);
        if (e < 0) return s;
        // C#: 1.23457E+06 / 1E-05; Python: 1.23457e+06 / 1e-05 (at least two exponent digits)
        string mant = s[..e], exp = s[(e + 1)..];
        char sign = exp[0] == '-' ? '-' : '+';
        string digits = exp.TrimStart('+', '-').TrimStart('0');
        if (digits.Length < 2) digits = digits.PadLeft(2, '0');
        return mant + "e" + sign + digits;
    }

    /// <summary>The <paramref name="q"/>-quantile (0..1) of sorted samples, nearest rank.</summary>
    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    /// <summary>
    /// Prints one RESULT line for the last <see cref="TimeIt"/> (min and median already in <paramref name="unit"/>)
    /// and adds it to <see cref="Results"/>. A time unit also gets the 99th percentile, scaled as the median was.
    /// </summary>
    public static void Report(string name, double mn, double med, string unit, int iters, string extra = "")
    {
        var t = s_lastSamples;
        bool timeUnit = !unit.StartsWith("GFLOP", StringComparison.Ordinal);
        double p99 = timeUnit && t.Length > 0 && Median(t) > 0 ? Percentile(t, 0.99) * (med / Median(t)) : double.NaN;
        var (g0, g1, g2) = s_lastGcPer100;
        string measured = string.Create(CultureInfo.InvariantCulture,
            $"{(double.IsNaN(p99) ? "" : $"p99={G6(p99)} ")}alloc_per_iter_B={s_lastAllocPerIter:F0} gc_per_100_iters={g0:0.##}/{g1:0.##}/{g2:0.##} gc_pause_ms_per_iter={G6(s_lastGcPauseMsPerIter)}");
        string all = extra.Length == 0 ? measured : extra + " " + measured;
        Results.Add(new BenchResult(name, mn, med, p99, unit, iters, s_lastAllocPerIter, g0, g1, g2, extra, s_lastNote));
        if (Output is null) return;
        Output.WriteLine($"RESULT\t{name}\t{G6(mn)}\t{G6(med)}\t{unit}\t{iters}\t{all} [{s_lastNote}]");
        Output.Flush();
    }

    /// <summary>Peak resident set size of this process so far (VmHWM from /proc/self/status), in bytes; null where unknown.</summary>
    public static long? PeakRss()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}

/// <summary>
/// One benchmark result: min and median (and the 99th percentile, NaN for throughput units) in <paramref name="Unit"/>,
/// the timed iterations, the managed bytes allocated per iteration on the calling thread and the gen0/1/2
/// collections per 100 iterations, any extra text and the machine-load notes of each attempt.
/// </summary>
internal sealed record BenchResult(string Name, double Min, double Median, double P99, string Unit, int Iters,
    double AllocPerIter, double Gen0Per100, double Gen1Per100, double Gen2Per100, string Extra, string Notes);

