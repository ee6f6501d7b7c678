using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Nabla.Kernels;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Benchmarks;

/// <summary>
/// The core workloads of shared/bench/bench_torch.py (FMA peak, SGEMM, the MLP's train step and inference), timed by
/// <see cref="Harness"/>; shared by Nabla.Benchmarks (side by side with PyTorch) and `nabla bench`.
/// </summary>
internal static class Workloads
{
    /// <summary>Threads of the FMA peak (the kernels' count is Threading.MaxThreads, set by the caller to the same).</summary>
    public static int Threads = 2;

    /// <summary>SGEMM sizes (a quick run uses the small ones).</summary>
    public static int[] GemmSizes = [256, 512, 1024, 2048];

    private static double s_peakBest = double.NaN;

    // ---------------- peak: 2-core FMA throughput ----------------
    internal const int FmaChains = 12;
    internal const long FmaIters = 1L << 23;   // ~12 ms per step at ~260 GFLOP/s per core

    /// <summary>12 independent FMA chains; returns a value that depends on all of them.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float FmaChain512(long iters)
    {
        var m = Vector512.Create(0.9999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(0.1f), a1 = Vector512.Create(0.2f), a2 = Vector512.Create(0.3f), a3 = Vector512.Create(0.4f);
        Vector512<float> a4 = Vector512.Create(0.5f), a5 = Vector512.Create(0.6f), a6 = Vector512.Create(0.7f), a7 = Vector512.Create(0.8f);
        Vector512<float> a8 = Vector512.Create(0.9f), a9 = Vector512.Create(1.0f), a10 = Vector512.Create(1.1f), a11 = Vector512.Create(1.2f);
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c);
            a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c);
            a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c);
            a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c);
            a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector512.Sum(s);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float FmaChain256(long iters)
    {
        var m = Vector256.Create(0.9999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(0.1f), a1 = Vector256.Create(0.2f), a2 = Vector256.Create(0.3f), a3 = Vector256.Create(0.4f);
        Vector256<float> a4 = Vector256.Create(0.5f), a5 = Vector256.Create(0.6f), a6 = Vector256.Create(0.7f), a7 = Vector256.Create(0.8f);
        Vector256<float> a8 = Vector256.Create(0.9f), a9 = Vector256.Create(1.0f), a10 = Vector256.Create(1.1f), a11 = Vector256.Create(1.2f);
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c);
            a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c);
            a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c);
            a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c);
            a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c);
            a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c);
            a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }
        var s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
        return Vector256.Sum(s);
    }

    /// <summary>Runs the FMA chains on <see cref="Threads"/> threads at once (the caller plus persistent helpers).</summary>
    internal sealed class PeakRunner : IDisposable
    {
        private readonly Func<long, float> _kernel;
        private readonly long _iters;
        private readonly Thread[] _helpers;
        private readonly SemaphoreSlim[] _go;
        private readonly CountdownEvent _done;
        private volatile bool _stop;
        private float _sink;

        public PeakRunner(int threads, bool use512, long iters)
        {
            _kernel = use512 ? FmaChain512 : FmaChain256;
            _iters = iters;
            _helpers = new Thread[threads - 1];
            _go = new SemaphoreSlim[threads - 1];
            _done = new CountdownEvent(threads - 1);
            for (int i = 0; i < _helpers.Length; i++)
            {
                var go = _go[i] = new SemaphoreSlim(0);
                _helpers[i] = new Thread(() =>
                {
                    while (true)
                    {
                        go.Wait();
                        if (_stop) return;
                        _sink += _kernel(_iters);
                        _done.Signal();
                    }
                }) { IsBackground = true, Name = $"fma-peak-{i + 1}" };
                _helpers[i].Start();
            }
        }

        public void Step()
        {
            _done.Reset();
            foreach (var g in _go) g.Release();
            _sink += _kernel(_iters);
            _done.Wait();
        }

        public void Dispose()
        {
            _stop = true;
            foreach (var g in _go) g.Release();
            foreach (var t in _helpers) t.Join();
            foreach (var g in _go) g.Dispose();
            _done.Dispose();
            GC.KeepAlive(_sink);
        }
    }

    public static void Peak()
    {
        bool use512 = Vector512.IsHardwareAccelerated;
        int lanes = use512 ? 16 : 8;
        using var runner = new PeakRunner(Threads, use512, FmaIters);
        var t = Harness.TimeIt(runner.Step, warmup: 5);
        double flop = 2.0 * lanes * FmaChains * FmaIters * Threads;
        s_peakBest = flop / t[0] / 1e9;
        Harness.Report("fma_peak", s_peakBest, flop / Harness.Median(t) / 1e9, "GFLOP/s(best,median)", t.Length,
            $"threads={Threads} chains={FmaChains} vector={lanes * 32}bit");
    }

    // ---------------- a. SGEMM ----------------
    public static void GemmBench()
    {
        var g = new Generator(0);
        foreach (int n in GemmSizes)
        {
            var a = Tensor.Randn([n, n], DType.Float32, g).ToArray();
            var b = Tensor.Randn([n, n], DType.Float32, g).ToArray();
            var t = Harness.TimeIt(() =>
            {
                var c = GC.AllocateUninitializedArray<float>(n * n);   // result allocated per call, uninitialised, as torch.mm does
                Gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
            }, warmup: 5);
            double flop = 2.0 * n * n * (double)n;
            double best = flop / t[0] / 1e9, med = flop / Harness.Median(t) / 1e9;
            Harness.Report($"sgemm_{n}_time", t[0] * 1e3, Harness.Median(t) * 1e3, "ms", t.Length);
            string pct = double.IsNaN(s_peakBest) ? "" :
                string.Create(CultureInfo.InvariantCulture, $"pct_of_fma_peak(best,median)={100 * best / s_peakBest:F1}%,{100 * med / s_peakBest:F1}%");
            Harness.Report($"sgemm_{n}", best, med, "GFLOP/s(best,median)", t.Length, pct);
            if (!double.IsNaN(s_peakBest))
                Harness.Output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"# sgemm_{n}: {100 * med / s_peakBest:F1}% of the measured FMA peak ({s_peakBest:F0} GFLOP/s) at the median, {100 * best / s_peakBest:F1}% at best"));
        }
    }

    // ---------------- b. MLP ----------------
    public static Sequential MakeMlp() =>
        new(new Linear(784, 512), new ReLU(), new Linear(512, 256), new ReLU(), new Linear(256, 10));

    public static void MlpTrain()
    {
        var model = MakeMlp();
        var g = new Generator(0);
        var x = Tensor.Randn([128, 784], DType.Float32, g);
        var y = Tensor.RandInt(0, 10, [128], DType.Float32, g);
        var opt = new SGD(model.Parameters(), lr: 0.01);
        var ce = new CrossEntropyLoss();
        model.Train();
        var t = Harness.TimeIt(() =>
        {
            opt.ZeroGrad();   // grads set to null, as zero_grad(set_to_none=True)
            var loss = ce.Forward(model.Forward(x), y);
            loss.Backward();
            opt.Step();
        }, warmup: 20);
        Harness.Report("mlp_train_b128", t[0] * 1e3, Harness.Median(t) * 1e3, "ms/step", t.Length,
            string.Create(CultureInfo.InvariantCulture, $"samples/s(median)={128 / Harness.Median(t):F0}"));
    }

    // ---------------- f. MLP inference ----------------
    public static void MlpInfer()
    {
        var model = MakeMlp();
        model.Eval();
        var g = new Generator(0);
        foreach (int batch in new[] { 1, 1024 })
        {
            var x = Tensor.Randn([batch, 784], DType.Float32, g);
            var t = Harness.TimeIt(() =>
            {
                using (Tensor.NoGrad()) model.Forward(x);
            }, warmup: batch == 1 ? 2000 : 20);   // batch 1: ~0.1 s, so the tiered JIT's optimised code runs before timing
            if (batch == 1)
                Harness.Report("mlp_infer_b1", t[0] * 1e6, Harness.Median(t) * 1e6, "us/call", t.Length);
            else
                Harness.Report("mlp_infer_b1024", t[0] * 1e3, Harness.Median(t) * 1e3, "ms/call", t.Length,
                    string.Create(CultureInfo.InvariantCulture, $"samples/s(median)={batch / Harness.Median(t):F0}"));
        }
    }
}
