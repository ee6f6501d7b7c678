using System.Globalization;

namespace Nabla.Benchmarks;

/// <summary>
/// Attention alone, forward + backward, float32: q, k, v of shape (2, 4, T, 64) (batch 2, 4 heads, head size 64), no
/// mask, a fixed upstream gradient, input gradients cleared before each step. <c>fused</c> is
/// <see cref="Tensor.ScaledDotProductAttention"/> (the tiled kernel), <c>composed</c> the MatMul/Softmax/MatMul graph.
/// One configuration per process (benchmarks/attention.py runs them), so the peak-memory line is the growth of this
/// process's peak resident set (VmHWM) over its first step, measured before anything else ran.
/// Usage: <c>Nabla.Benchmarks attention fused|composed|fused-forward|composed-forward T</c> (-forward: no grad, forward only).
/// </summary>
internal static class AttentionBench
{
    public const int Batch = 2, Heads = 4, HeadDim = 64;

    public static int Run(string impl, int seq)
    {
        if (impl is not ("fused" or "composed" or "fused-forward" or "composed-forward") || seq <= 0)
        {
            Console.Error.WriteLine("usage: Nabla.Benchmarks attention fused|composed|fused-forward|composed-forward T");
            return 2;
        }
        var g = new Generator(0);
        int[] shape = [Batch, Heads, seq, HeadDim];
        var (q, k, v) = (Tensor.Randn(shape, DType.Float32, g).RequireGrad(), Tensor.Randn(shape, DType.Float32, g).RequireGrad(), Tensor.Randn(shape, DType.Float32, g).RequireGrad());
        var dy = Tensor.Randn(shape, DType.Float32, g);
        void Step()
        {
            q.Grad = k.Grad = v.Grad = null;
            bool forwardOnly = impl.EndsWith("-forward", StringComparison.Ordinal);
            using var noGrad = new Autograd.NoGradScope(forwardOnly);
            var y = impl.StartsWith("fused", StringComparison.Ordinal) ? Tensor.ScaledDotProductAttention(q, k, v) : Tensor.AttentionComposed(q, k, v, null, 0, false, null, null).Output;
            if (!forwardOnly) y.Backward(dy);
        }
        long before = PeakRssKb();
        Step();
        double peakMb = (PeakRssKb() - before) / 1024.0;
        var t = Harness.TimeIt(Step, warmup: 2);
        // CPU time per step (all threads), less sensitive than wall time to other processes on a shared machine
        var proc = System.Diagnostics.Process.GetCurrentProcess();
        var cpu0 = proc.TotalProcessorTime;
        for (int i = 0; i < 10; i++) Step();
        proc.Refresh();
        double cpuMs = (proc.TotalProcessorTime - cpu0).TotalMilliseconds / 10;
        string name = $"attention_{seq}_{impl}";
        double gflop = 6 * 2.0 * Batch * Heads * seq * (double)seq * HeadDim / 1e9;   // the composed form's 2 products forward, 4 backward
        Harness.Report(name, t[0] * 1e3, Harness.Median(t) * 1e3, "ms/iter", t.Length,
            string.Create(CultureInfo.InvariantCulture, $"shape={string.Join("x", shape)} GFLOP/s(median,6 products)={gflop / Harness.Median(t):F0} cpu_ms/iter={cpuMs:F1}"));
        Harness.Report(name + "_peak", peakMb, peakMb, "MB", 1, "growth of peak RSS over the first step");
        return 0;
    }

    private static long PeakRssKb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        return 0;
    }
}
