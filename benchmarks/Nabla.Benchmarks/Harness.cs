using System.Diagnostics;
using System.Globalization;

namespace Nabla.Benchmarks;

/// <summary>
/// The timing method of shared/bench/bench_torch.py, line for line: wait for a quiet machine (/proc/stat against
/// /proc/self/stat), warm up, then at least <see cref="MinIters"/> iterations and about <see cref="TargetSeconds"/>
/// seconds, retrying an attempt during which other processes used more than <see cref="MaxOthersPct"/> of the
/// machine, within a per-process retry budget. Results are printed as the script prints them:
/// <c>RESULT\tname\tmin\tmedian\tunit\titers\textra [notes]</c>.
/// </summary>
public static class Harness
{
    public const int MinIters = 20;
    public const double TargetSeconds = 2.0;
    public const int MaxIters = 5000;
    public const double MaxOthersPct = 5.0;   // retry an attempt when other processes used more CPU than this (shared VM)
    public const int MaxAttempts = 4;

    /// <summary>Seconds of waiting/retrying per process (env ANCHORS_RETRY_BUDGET_S, default 45, as the script).</summary>
    public static readonly double RetryBudget = ParseBudget(Environment.GetEnvironmentVariable("ANCHORS_RETRY_BUDGET_S"));

    private static readonly int s_ncpu = Environment.ProcessorCount;
    private static double s_retrySpent;
    private static string s_lastNote = "";

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
        for (int attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            WaitQuiet();
            for (int i = 0; i < warmup; i++) step();
            var samples = new List<double>(MaxIters);
            var (b0, s0) = MachineTicks();
            long me0 = SelfTicks();
            double start = Now();
            while (samples.Count < MinIters || (Now() - start < TargetSeconds && samples.Count < MaxIters))
            {
                long t0 = Stopwatch.GetTimestamp();
                step();
                samples.Add((Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency);
            }
            double wall = Now() - start;
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
            }
            if (others <= MaxOthersPct || s_retrySpent >= RetryBudget) break;
            Thread.Sleep(2000);
            s_retrySpent += 2;
        }
        s_lastNote = string.Join(",", notes);
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

    public static void Report(string name, double mn, double med, string unit, int iters, string extra = "")
    {
        Console.WriteLine($"RESULT\t{name}\t{G6(mn)}\t{G6(med)}\t{unit}\t{iters}\t{extra} [{s_lastNote}]");
        Console.Out.Flush();
    }
}
