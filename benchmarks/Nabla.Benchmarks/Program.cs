using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using Nabla.Kernels;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Benchmarks;

/// <summary>
/// Nabla's side of shared/bench/bench_torch.py: the same workloads, timed by <see cref="Harness"/> exactly as the
/// script times PyTorch, printing RESULT lines under the same names.
/// Usage: <c>Nabla.Benchmarks [all|gemm|mlp|infer|peak|profile]</c>, or <c>Nabla.Benchmarks --bdn [BenchmarkDotNet args]</c>.
/// </summary>
public static class Program
{
    public const int Threads = 2;

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--bdn")
        {
            var rest = args.Skip(1).ToArray();
            if (rest.Length == 0) rest = ["--filter", "*"];
            BenchmarkSwitcher.FromTypes([typeof(SgemmBench), typeof(MlpBench)]).Run(rest);
            return 0;
        }
        if (args.Length > 0 && args[0] == "ddp") return DdpBench.Run(args); // under mpirun: benchmarks/ddp.py
        if (args.Length > 0 && args[0] == "attention")   // one configuration per process: benchmarks/attention.py
        {
            Threading.MaxThreads = Threads;
            PrintHeader();
            Console.WriteLine("RESULT\tname\tmin\tmedian\tunit\titers\textra");
            return AttentionBench.Run(args.Length > 1 ? args[1] : "", args.Length > 2 && int.TryParse(args[2], out int t) ? t : 0);
        }
        string only = args.Length > 0 ? args[0] : "all";
        if (only is not ("all" or "gemm" or "mlp" or "infer" or "peak" or "profile" or "norm" or "lenet" or "conv" or "cnnbn" or "lstm" or "transformer" or "convpasses" or "inferparts" or "inferkernels" or "bounds"))
        {
            Console.Error.WriteLine("usage: Nabla.Benchmarks [all|gemm|mlp|infer|peak|profile|norm|lenet|conv|cnnbn|lstm|transformer|convpasses|inferparts|inferkernels|bounds] | --bdn [BenchmarkDotNet args]");
            return 2;
        }
        Threading.MaxThreads = Threads;
        ConvBench.PrintProfile = Environment.GetEnvironmentVariable("NABLA_BENCH_PROFILE") == "1";   // per-op table of the conv train steps
        Tensor.ManualSeed(0);
        PrintHeader();
        Console.WriteLine("RESULT\tname\tmin\tmedian\tunit\titers\textra");
        double t0 = Stopwatch.GetTimestamp();
        Workloads.Threads = Threads;
        if (only is "all" or "peak" or "gemm") Workloads.Peak();   // gemm reports % of the peak measured in the same process
        if (only is "all" or "gemm") Workloads.GemmBench();
        if (only is "all" or "mlp") Workloads.MlpTrain();
        if (only is "all" or "infer") Workloads.MlpInfer();
        if (only is "all" or "norm") NormBench.Run();
        if (only is "all" or "lenet") ConvBench.Lenet();
        if (only is "all" or "conv")
        {
            ConvBench.Cnn();
            ConvBench.ConvForward();
        }
        if (only is "all" or "cnnbn") ConvBench.CnnBn();
        if (only is "all" or "lstm") LstmBench.Run();
        if (only is "all" or "transformer") TransformerBench.Run();
        if (only is "profile") Profile.Run();
        if (only is "convpasses") ConvPasses.Run();
        if (only is "bounds") BoundsBench.Run();
        if (only is "inferparts") InferBench.Run();
        if (only is "inferkernels") InferBench.Kernels();
        double wall = (Stopwatch.GetTimestamp() - t0) / Stopwatch.Frequency;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# total bench wall time: {wall:F1} s (of which waiting for a quiet machine / retries: {Harness.RetrySpent:F1} s)"));
        // the whole process's peak resident set (VmHWM), as a RESULT line BENCHMARKS.md reads (one per workload process)
        if (Harness.PeakRss() is long rss)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT\tpeak_rss_{only}\t{rss / 1048576.0:F1}\t{rss / 1048576.0:F1}\tMiB\t1\tVmHWM of the whole process [-]"));
        return 0;
    }

    private static void PrintHeader()
    {
        var nabla = typeof(Tensor).Assembly.GetName().Version;
        Console.WriteLine($"# Nabla {nabla} | {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier}) | " +
                          $"threads={Threading.MaxThreads} ProcessorCount={Environment.ProcessorCount}");
        Console.WriteLine($"# GC server={GCSettings.IsServerGC} latency={GCSettings.LatencyMode} | Vector512.IsHardwareAccelerated={Vector512.IsHardwareAccelerated} " +
                          $"| TieredPGO={Environment.GetEnvironmentVariable("DOTNET_TieredPGO") ?? "(default)"} " +
                          $"| DOTNET_gcServer={Environment.GetEnvironmentVariable("DOTNET_gcServer") ?? ""}");
    }
}

/// <summary>
/// Where the MLP train step's time goes (<c>Nabla.Benchmarks profile</c>): the real step split at its public seams
/// (zero_grad, each layer's forward, the loss, backward, the optimizer step), GC activity per step, and the kernels
/// the step runs replayed alone on preallocated buffers (what the step would cost with no autograd or allocation).
/// </summary>
internal static class Profile
{
    private const int Iters = 400;

    private static double Ms(long ticks) => ticks * 1e3 / Stopwatch.Frequency;

    private static double MedianMs(List<long> ticks)
    {
        var s = ticks.Select(Ms).OrderBy(v => v).ToArray();
        return Harness.Median(s);
    }

    public static void Run()
    {
        var model = Workloads.MakeMlp();
        var g = new Generator(0);
        var x = Tensor.Randn([128, 784], DType.Float32, g);
        var y = Tensor.RandInt(0, 10, [128], DType.Float32, g);
        var opt = new SGD(model.Parameters(), lr: 0.01);
        var ce = new CrossEntropyLoss();
        model.Train();

        var names = new List<string> { "zero_grad" };
        for (int i = 0; i < model.Layers.Count; i++) names.Add($"forward {i}:{model.Layers[i].GetType().Name}");
        names.AddRange(["cross_entropy fwd", "backward (all)", "sgd step"]);
        var phases = names.ToDictionary(n => n, _ => new List<long>(Iters));
        var total = new List<long>(Iters);

        void Step(bool record)
        {
            long t0 = Stopwatch.GetTimestamp(), t;
            opt.ZeroGrad();
            t = Stopwatch.GetTimestamp(); if (record) phases["zero_grad"].Add(t - t0); t0 = t;
            var h = x;
            for (int i = 0; i < model.Layers.Count; i++)
            {
                h = model.Layers[i].Forward(h);
                t = Stopwatch.GetTimestamp(); if (record) phases[names[1 + i]].Add(t - t0); t0 = t;
            }
            var loss = ce.Forward(h, y);
            t = Stopwatch.GetTimestamp(); if (record) phases["cross_entropy fwd"].Add(t - t0); t0 = t;
            loss.Backward();
            t = Stopwatch.GetTimestamp(); if (record) phases["backward (all)"].Add(t - t0); t0 = t;
            opt.Step();
            t = Stopwatch.GetTimestamp(); if (record) phases["sgd step"].Add(t - t0);
        }

        Harness.WaitQuiet();
        for (int i = 0; i < 50; i++) Step(false);
        int gc0 = GC.CollectionCount(0), gc1 = GC.CollectionCount(1), gc2 = GC.CollectionCount(2);
        long alloc0 = GC.GetTotalAllocatedBytes(true);
        var pause0 = GC.GetTotalPauseDuration();
        for (int i = 0; i < Iters; i++)
        {
            long s = Stopwatch.GetTimestamp();
            Step(true);
            total.Add(Stopwatch.GetTimestamp() - s);
        }
        long alloc = GC.GetTotalAllocatedBytes(true) - alloc0;
        var pause = GC.GetTotalPauseDuration() - pause0;
        Console.WriteLine($"# profile: MLP 784-512-256-10 train step b128, {Iters} steps, Threading.MaxThreads={Threading.MaxThreads}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PROFILE\tstep total (instrumented)\t{MedianMs(total):F4}\tms median"));
        foreach (var n in names)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PROFILE\t{n}\t{MedianMs(phases[n]):F4}\tms median"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PROFILE\tallocated per step\t{alloc / (double)Iters / 1024:F1}\tKiB"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PROFILE\tGCs per 100 steps (gen0/gen1/gen2)\t{100.0 * (GC.CollectionCount(0) - gc0) / Iters:F2}/{100.0 * (GC.CollectionCount(1) - gc1) / Iters:F2}/{100.0 * (GC.CollectionCount(2) - gc2) / Iters:F2}\tcount"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PROFILE\tGC pause per step\t{pause.TotalMilliseconds / Iters:F4}\tms"));

        KernelReplay();
    }

    /// <summary>The step's kernels with the step's shapes on preallocated buffers, each timed alone (median).</summary>
    private static void KernelReplay()
    {
        const int B = 128;
        int[] dims = [784, 512, 256, 10];
        var g = new Generator(1);
        float[] R(int n) => Tensor.Randn([n], DType.Float32, g).ToArray();
        var act = dims.Select(d => R(B * d)).ToArray();             // activations per layer input/output
        var w = Enumerable.Range(0, 3).Select(l => R(dims[l + 1] * dims[l])).ToArray();
        var bias = Enumerable.Range(0, 3).Select(l => R(dims[l + 1])).ToArray();
        var grads = dims.Select(d => R(B * d)).ToArray();
        var dw = Enumerable.Range(0, 3).Select(l => new float[dims[l + 1] * dims[l]]).ToArray();
        var db = Enumerable.Range(0, 3).Select(l => new float[dims[l + 1]]).ToArray();
        var mask = dims.Select(d => new float[B * d]).ToArray();

        var rows = new List<(string Name, double Ms, double Flop)>();
        void Time(string name, double flop, Action a)
        {
            for (int i = 0; i < 30; i++) a();
            var s = new double[Iters];
            for (int i = 0; i < Iters; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                a();
                s[i] = Ms(Stopwatch.GetTimestamp() - t0);
            }
            Array.Sort(s);
            rows.Add((name, Harness.Median(s), flop));
        }

        for (int l = 0; l < 3; l++)
        {
            int inF = dims[l], outF = dims[l + 1], li = l;
            Time($"fwd bias copy L{l}", 0, () =>
            {
                for (int r = 0; r < B; r++) bias[li].CopyTo(act[li + 1].AsSpan(r * outF, outF));
            });
            Time($"fwd GEMM L{l} {B}x{outF}x{inF} (NT)", 2.0 * B * outF * inF, () =>
                Gemm.Sgemm(false, true, B, outF, inF, 1f, act[li], inF, w[li], inF, 1f, act[li + 1], outF));
            if (l < 2)
                Time($"relu fwd L{l} ({B * outF})", 0, () =>
                {
                    var a = act[li + 1];
                    for (int i = 0; i < a.Length; i++) a[i] = MathF.Max(a[i], 0f);
                });
        }
        for (int l = 2; l >= 0; l--)
        {
            int inF = dims[l], outF = dims[l + 1], li = l;
            if (l > 0)
                Time($"bwd dx GEMM L{l} {B}x{inF}x{outF} (NN)", 2.0 * B * inF * outF, () =>
                    Gemm.Sgemm(false, false, B, inF, outF, 1f, grads[li + 1], outF, w[li], inF, 0f, grads[li], inF));
            Time($"bwd dW GEMM L{l} {outF}x{inF}x{B} (TN)", 2.0 * B * inF * outF, () =>
                Gemm.Sgemm(true, false, outF, inF, B, 1f, grads[li + 1], outF, act[li], inF, 0f, dw[li], inF));
            Time($"bwd bias sum L{l}", 0, () => Reduce.SumColumns<float>(grads[li + 1], B, outF, db[li]));
            if (l > 0)
                Time($"relu bwd mask L{l} ({B * inF})", 0, () =>
                {
                    var gg = grads[li]; var yy = act[li]; var d = mask[li];
                    for (int i = 0; i < d.Length; i++) d[i] = yy[i] > 0f ? gg[i] : 0f;
                });
            Time($"grad clone (Accumulate) L{l}", 0, () => { var c = (float[])dw[li].Clone(); GC.KeepAlive(c); });
            Time($"sgd axpy L{l}", 0, () => System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(dw[li], -0.01f, w[li], w[li]));
        }
        Time("alloc new float[128*512] (zeroed)", 0, () => GC.KeepAlive(new float[B * 512]));
        double sum = rows.Sum(r => r.Ms);
        foreach (var (name, ms, flop) in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"KERNEL\t{name}\t{ms:F4}\tms\t{(flop > 0 ? $"{flop / (ms * 1e-3) / 1e9:F0} GFLOP/s" : "")}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"KERNEL\tsum of replayed kernels\t{sum:F4}\tms"));
    }
}

// ---------------- BenchmarkDotNet micro-benchmarks (run with --bdn) ----------------

/// <summary>SGEMM n=512, C allocated per call (as the harness and torch.mm).</summary>
[MemoryDiagnoser]
public class SgemmBench
{
    private float[] _a = [], _b = [];

    [Params(512)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        Threading.MaxThreads = Program.Threads;
        var g = new Generator(0);
        _a = Tensor.Randn([N * N], DType.Float32, g).ToArray();
        _b = Tensor.Randn([N * N], DType.Float32, g).ToArray();
    }

    [Benchmark]
    public float[] Sgemm()
    {
        var c = new float[N * N];
        Gemm.Sgemm(false, false, N, N, N, 1f, _a, N, _b, N, 0f, c, N);
        return c;
    }
}

/// <summary>The MLP 784-512-256-10 train step (batch 128) and inference (batch 1).</summary>
[MemoryDiagnoser]
public class MlpBench
{
    private Sequential _model = null!, _eval = null!;
    private Tensor _x = null!, _y = null!, _x1 = null!;
    private SGD _opt = null!;
    private readonly CrossEntropyLoss _ce = new();

    [GlobalSetup]
    public void Setup()
    {
        Threading.MaxThreads = Program.Threads;
        var g = new Generator(0);
        _model = Workloads.MakeMlp();
        _eval = Workloads.MakeMlp();
        _eval.Eval();
        _x = Tensor.Randn([128, 784], DType.Float32, g);
        _y = Tensor.RandInt(0, 10, [128], DType.Float32, g);
        _x1 = Tensor.Randn([1, 784], DType.Float32, g);
        _opt = new SGD(_model.Parameters(), lr: 0.01);
    }

    [Benchmark]
    public void TrainStepB128()
    {
        _opt.ZeroGrad();
        var loss = _ce.Forward(_model.Forward(_x), _y);
        loss.Backward();
        _opt.Step();
    }

    [Benchmark]
    public Tensor InferB1()
    {
        using (Tensor.NoGrad()) return _eval.Forward(_x1);
    }
}
