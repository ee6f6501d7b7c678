using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Nabla.Benchmarks;
using Nabla.Kernels;

namespace Nabla.Cli;

/// <summary>`nabla bench`: the benchmark suite of benchmarks/ (the same harness and workloads), run in this process on this machine.</summary>
internal static class BenchCommand
{
    private const string Description = """
        measure this machine: GEMM, training steps and inference latency

        Runs the project's benchmark suite in this process, timed as benchmarks/run.sh times it (warm-up, then at least 20 iterations and about 2 s per workload; min, median and 99th percentile), and prints a table: the FMA peak of the CPU measured here, SGEMM in GFLOP/s and % of that peak, the MLP 784-512-256-10 train step (batch 128), MLP inference at batch 1 (latency: p50 and p99) and 1024, LeNet-5, the no-BN CNN and LSTM(28→128) train steps, each with the managed bytes allocated per iteration and the garbage collections per 100 iterations, and the process's peak memory. Other programs running at the same time slow the numbers: the last column gives the share of the CPU they took.

        Example: nabla bench --threads 2
        """;

    private static readonly (string Name, string Label)[] s_labels =
    [
        ("fma_peak", "FMA peak"),
        ("sgemm_256", "SGEMM n=256"), ("sgemm_512", "SGEMM n=512"), ("sgemm_1024", "SGEMM n=1024"), ("sgemm_2048", "SGEMM n=2048"),
        ("mlp_train_b128", "MLP train step, batch 128"),
        ("mlp_infer_b1", "MLP inference, batch 1"),
        ("mlp_infer_b1024", "MLP inference, batch 1024"),
        ("lenet_train_b64", "LeNet-5 train step, batch 64"),
        ("cnn_nobn_train_b32", "CNN (no BN) train step, batch 32"),
        ("lstm_train_b64", "LSTM(28→128) train step, batch 64"),
    ];

    public static Command Create(SharedOptions shared)
    {
        var quick = CliOptions.Flag("--quick", "a few iterations per workload (seconds in all; rough numbers, for a smoke test)");
        var command = new Command("bench", Description) { quick, shared.Json, shared.Threads };
        command.SetAction(r =>
        {
            shared.ApplyThreads(r);
            return Run(r.GetValue(quick), r.GetValue(shared.Json), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error);
        });
        return command;
    }

    private static int Run(bool quick, bool json, TextWriter stdout, TextWriter stderr)
    {
        Harness.Output = null;
        Harness.Results.Clear();
        Harness.RetryBudget = 0;   // no waiting for a quiet machine: the notes say how busy it was
        if (quick)
        {
            Harness.Quick();
            Workloads.GemmSizes = [256, 512];
        }
        Workloads.Threads = Threading.MaxThreads;
        Tensor.ManualSeed(0);
        var sw = Stopwatch.StartNew();
        void Step(string what, Action run)
        {
            stderr.WriteLine($"bench: {what}...");
            run();
        }
        Step("FMA peak", Workloads.Peak);
        Step("SGEMM", Workloads.GemmBench);
        Step("MLP train step", Workloads.MlpTrain);
        Step("MLP inference", Workloads.MlpInfer);
        Step("LeNet-5 train step", ConvBench.Lenet);
        Step("CNN train step", ConvBench.Cnn);
        Step("LSTM train step", LstmBench.Run);
        long? rss = Harness.PeakRss();
        var results = Harness.Results.ToList();
        double peak = results.FirstOrDefault(x => x.Name == "fma_peak")?.Min ?? double.NaN;
        if (json)
        {
            var rows = results.Select(x => new BenchJsonResult(x.Name, Label(x.Name), Unit(x), x.Median, x.Min, Finite(x.P99), x.Iters,
                Finite(x.AllocPerIter), [x.Gen0Per100, x.Gen1Per100, x.Gen2Per100],
                IsGemmRate(x) && peak > 0 ? 100 * x.Median / peak : null, x.Notes)).ToList();
            CliJson.Write(stdout, new BenchJson(NablaVersion, RuntimeInformation.FrameworkDescription, RuntimeInformation.RuntimeIdentifier,
                Environment.ProcessorCount, Threading.MaxThreads, Vector512.IsHardwareAccelerated, quick,
                rss is long b ? b / 1048576.0 : null, Math.Round(sw.Elapsed.TotalSeconds, 1), rows), CliJsonContext.Default.BenchJson);
            return 0;
        }
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(inv, $"Nabla {NablaVersion} | {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier}) | " +
            $"{(Vector512.IsHardwareAccelerated ? "512-bit" : Vector256.IsHardwareAccelerated ? "256-bit" : "128-bit")} vectors | threads {Threading.MaxThreads} of {Environment.ProcessorCount}{(quick ? " | --quick: rough numbers" : "")}"));
        string head = string.Create(inv, $"{"benchmark",-34} {"median",10} {"p99",10} {"best",10}  {"unit",-8} {"alloc/iter",11} {"GC/100 it",10}  other load");
        stdout.WriteLine(head);
        stdout.WriteLine(new string('-', head.Length + 6));
        foreach (var x in results.Where(x => !x.Name.EndsWith("_time", StringComparison.Ordinal)))   // SGEMM's times: its GFLOP/s rows say the same
        {
            string unit = Unit(x);
            string pct = IsGemmRate(x) && peak > 0 ? string.Create(inv, $" ({100 * x.Median / peak:F0}% of peak)") : "";
            stdout.WriteLine(string.Create(inv,
                $"{Label(x.Name),-34} {Num(x.Median),10} {(double.IsNaN(x.P99) ? "" : Num(x.P99)),10} {Num(x.Min),10}  {unit,-8} {Bytes(x.AllocPerIter),11} {Gcs(x),10}  {Load(x.Notes)}{pct}"));
        }
        stdout.WriteLine(string.Create(inv, $"peak memory (RSS): {(rss is long m ? $"{m / 1048576.0:F0} MiB" : "unknown")}; {sw.Elapsed.TotalSeconds:F0} s in all"));
        return 0;
    }

    private static string NablaVersion => typeof(Tensor).Assembly.GetName().Version?.ToString() ?? "?";

    private static string Label(string name) => s_labels.FirstOrDefault(l => l.Name == name).Label ?? name;

    // the harness's "GFLOP/s(best,median)": min and median hold the best and the median rate
    private static string Unit(BenchResult x) => x.Unit.StartsWith("GFLOP/s", StringComparison.Ordinal) ? "GFLOP/s" : x.Unit;

    private static bool IsGemmRate(BenchResult x) => x.Name.StartsWith("sgemm_", StringComparison.Ordinal) && x.Unit.StartsWith("GFLOP", StringComparison.Ordinal);

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static string Num(double v) => v.ToString(v >= 100 ? "F0" : v >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);

    private static string Bytes(double b) => double.IsNaN(b) ? "" : b switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{b:F0} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{b / 1024:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{b / 1048576:F1} MiB"),
    };

    private static string Gcs(BenchResult x) => string.Create(CultureInfo.InvariantCulture, $"{x.Gen0Per100:0.#}/{x.Gen1Per100:0.#}/{x.Gen2Per100:0.#}");

    // the harness's note "a1:others=3%steal=0%": the other processes' share of the CPU during the timed loop
    private static string Load(string notes)
    {
        int i = notes.LastIndexOf("others=", StringComparison.Ordinal);
        if (i < 0) return "";
        int j = notes.IndexOf('%', i);
        return j < 0 ? "" : notes[(i + 7)..(j + 1)];
    }
}
