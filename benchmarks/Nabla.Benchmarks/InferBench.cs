using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Nabla.Kernels;
using Nabla.NN;

namespace Nabla.Benchmarks;

/// <summary>
/// Where MLP inference at batch 1 spends its time (<c>Nabla.Benchmarks inferparts</c>): the bytes/s a plain read loop
/// streams from a buffer the size of the weights (the bound of a matrix-vector product), the three GEMVs alone on
/// preallocated buffers, and the whole no-grad forward, each with 1 and 2 threads, interleaved in one process so
/// that machine load hits them alike. Prints min / median / p99 per variant.
/// </summary>
internal static class InferBench
{
    private const int Rounds = 40, PerRound = 100;

    public static void Run()
    {
        var model = Workloads.MakeMlp();
        model.Eval();
        var x = Tensor.Randn([1, 784], DType.Float32, new Generator(0));
        var layers = model.Layers.OfType<Linear>().ToArray();
        var w = layers.Select(l => l.Weight.ToArray()).ToArray();
        var b = layers.Select(l => l.Bias!.ToArray()).ToArray();
        var h = new[] { x.ToArray(), new float[512], new float[256], new float[10] };
        long weightBytes = w.Sum(a => (long)a.Length * sizeof(float));

        var stream = GC.AllocateUninitializedArray<float>((int)(weightBytes / sizeof(float)), pinned: true);
        stream.AsSpan().Fill(1f);
        var big = GC.AllocateUninitializedArray<float>(64 << 20 >> 2, pinned: true);   // 64 MiB: DRAM, past any L3
        big.AsSpan().Fill(1f);

        void Gemvs()
        {
            for (int i = 0; i < 3; i++)
            {
                int outF = b[i].Length, inF = w[i].Length / outF;
                b[i].CopyTo(h[i + 1], 0);
                Gemm.Sgemm(false, true, 1, outF, inF, 1f, h[i], inF, w[i], inF, 1f, h[i + 1], outF);
                if (i < 2) System.Numerics.Tensors.TensorPrimitives.Max(h[i + 1], 0f, h[i + 1]);
            }
        }

        void Layer(int i)
        {
            int outF = b[i].Length, inF = w[i].Length / outF;
            Gemm.Sgemm(false, true, 1, outF, inF, 1f, h[i], inF, w[i], inF, 0f, h[i + 1], outF);
        }

        var variants = new (string Name, int Threads, Action Step, double Bytes)[]
        {
            ("read_weights_1t", 1, () => Read(stream, 1), weightBytes),
            ("read_weights_2t", 2, () => Read(stream, 2), weightBytes),
            ("read_layer1_2t", 2, () => Read(stream.AsMemory(0, w[0].Length), 2, false), w[0].Length * 4.0),
            ("read_w_2t_alt", 2, () => Read(stream, 2, s_flip ^= true), weightBytes),
            ("read_64MiB_1t", 1, () => Read(big, 1), big.Length * 4.0),
            ("read_64MiB_2t", 2, () => Read(big, 2), big.Length * 4.0),
            ("gemv_l1_1t", 1, () => Layer(0), w[0].Length * 4.0),
            ("gemv_l1_2t", 2, () => Layer(0), w[0].Length * 4.0),
            ("gemv_l2_1t", 1, () => Layer(1), w[1].Length * 4.0),
            ("gemv_l2_2t", 2, () => Layer(1), w[1].Length * 4.0),
            ("gemv_x3_1t", 1, Gemvs, weightBytes),
            ("gemv_x3_2t", 2, Gemvs, weightBytes),
            ("forward_b1_1t", 1, () => { using (Tensor.NoGrad()) model.Forward(x); }, weightBytes),
            ("forward_b1_2t", 2, () => { using (Tensor.NoGrad()) model.Forward(x); }, weightBytes),
        };
        var samples = variants.Select(_ => new List<double>()).ToArray();
        var alloc = new long[variants.Length];
        // warm-up: every variant past the tiered JIT's promotion (tier-0 and instrumented calls in the first round
        // had filled the 99th percentile)
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed.TotalSeconds < Harness.MinWarmupSeconds)
            foreach (var (name, threads, step, _) in variants)
            {
                Threading.MaxThreads = threads;
                for (int i = 0, n = name.StartsWith("read_64", StringComparison.Ordinal) ? 2 : 100; i < n; i++) step();
            }
        for (int round = 0; round < Rounds; round++)
        {
            for (int v = 0; v < variants.Length; v++)
            {
                var (name, threads, step, _) = variants[v];
                Threading.MaxThreads = threads;
                int n = name.StartsWith("read_64", StringComparison.Ordinal) ? 3 : PerRound;
                for (int i = 0; i < 5; i++) step();
                long a0 = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < n; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    step();
                    samples[v].Add((Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency);
                }
                alloc[v] += GC.GetAllocatedBytesForCurrentThread() - a0;
            }
        }
        Threading.MaxThreads = Program.Threads;
        for (int v = 0; v < variants.Length; v++)
        {
            var s = samples[v].Order().ToArray();
            double min = s[0], med = Harness.Median(s), p99 = Harness.Percentile(s, 0.99);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"INFER\t{variants[v].Name,-16}\tmin {min * 1e6,8:F2} us\tmedian {med * 1e6,8:F2} us\tp99 {p99 * 1e6,8:F2} us\t" +
                $"{variants[v].Bytes / min / 1e9,6:F1} GB/s at min\t{alloc[v] / (double)s.Length,7:F0} B/call"));
        }
    }

    private static float s_sink;

    /// <summary>Sums the buffer (4 independent Vector512 chains); with 2 threads each sums one fixed half.</summary>
    // ---- kernel experiments: one thread, a 256 x 784 matrix (0.8 MB, fits L2) ----
    public static unsafe void Kernels()
    {
        const int rows = 256, k = 784;
        var m = GC.AllocateUninitializedArray<float>(rows * k, pinned: true);
        var xv = GC.AllocateUninitializedArray<float>(k, pinned: true);
        var yv = GC.AllocateUninitializedArray<float>(rows, pinned: true);
        var rnd = new Random(1);
        for (int i = 0; i < m.Length; i++) m[i] = (float)rnd.NextDouble();
        for (int i = 0; i < k; i++) xv[i] = (float)rnd.NextDouble();
        Threading.MaxThreads = 1;
        float* pm = (float*)Unsafe.AsPointer(ref m[0]), px = (float*)Unsafe.AsPointer(ref xv[0]), py = (float*)Unsafe.AsPointer(ref yv[0]);
        var variants = new (string, Action)[]
        {
            ("read_0.8MB", () => s_sink += ReadRange(m, 0, m.Length, false)),
            ("gemm_sgemm", () => Gemm.Sgemm(false, true, 1, rows, k, 1f, xv, k, m, k, 0f, yv, rows)),
            ("row_at_a_time", () => { for (int j = 0; j < rows; j++) py[j] = Row(pm + j * k, px, k); }),
            ("dot4_nosum", () => { for (int j = 0; j < rows; j += 4) Dot4NoSum(pm + j * k, px, k, py + j); }),
        };
        var samples = variants.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < 200; round++)
            for (int v = 0; v < variants.Length; v++)
                for (int i = 0; i < 20; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    variants[v].Item2();
                    samples[v].Add((Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency);
                }
        for (int v = 0; v < variants.Length; v++)
        {
            var s = samples[v].Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"KERN\t{variants[v].Item1,-16}\tmin {s[0] * 1e6,8:F2} us\tmedian {Harness.Median(s) * 1e6,8:F2} us\t{rows * k * 4.0 / s[0] / 1e9:F1} GB/s"));
        }
        Threading.MaxThreads = Program.Threads;
    }

    private static unsafe float Row(float* r, float* x, int k)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 64 <= k; p += 64)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(r + p), Vector512.Load(x + p), s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(r + p + 16), Vector512.Load(x + p + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(r + p + 32), Vector512.Load(x + p + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(r + p + 48), Vector512.Load(x + p + 48), s3);
        }
        for (; p + 16 <= k; p += 16) s0 = Vector512.FusedMultiplyAdd(Vector512.Load(r + p), Vector512.Load(x + p), s0);
        return Vector512.Sum((s0 + s1) + (s2 + s3));
    }

    private static unsafe void Dot4NoSum(float* r0, float* x, int k, float* y)
    {
        float* r1 = r0 + k, r2 = r1 + k, r3 = r2 + k;
        Vector512<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        int p = 0;
        for (; p + 32 <= k; p += 32)
        {
            Vector512<float> x0 = Vector512.Load(x + p), x1 = Vector512.Load(x + p + 16);
            s00 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + p), x0, s00);
            s01 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + p + 16), x1, s01);
            s10 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + p), x0, s10);
            s11 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + p + 16), x1, s11);
            s20 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + p), x0, s20);
            s21 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + p + 16), x1, s21);
            s30 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + p), x0, s30);
            s31 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + p + 16), x1, s31);
        }
        var t = (s00 + s01) + (s10 + s11) + (s20 + s21) + (s30 + s31);
        y[0] = t.GetElement(0); y[1] = t.GetElement(1); y[2] = t.GetElement(2); y[3] = t.GetElement(3);
    }

    private static bool s_flip;

    private static void Read(float[] buffer, int threads) => Read(buffer, threads, false);

    private static void Read(Memory<float> buffer, int threads, bool reverse)
    {
        if (threads == 1) s_sink += ReadRange(buffer, 0, buffer.Length, reverse);
        else Threading.For(2, new ReadBody(buffer, reverse));
    }

    private readonly struct ReadBody(Memory<float> buffer, bool reverse) : IParallelBody
    {
        public void Invoke(int part)
        {
            int half = buffer.Length / 2 & ~63;
            s_sink += part == 0 ? ReadRange(buffer, 0, half, reverse) : ReadRange(buffer, half, buffer.Length, reverse);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe float ReadRange(Memory<float> buffer, int from, int to, bool reverse)
    {
        if (reverse)
        {
            float r = 0;
            // 12 KiB blocks from the end: within a block forward (the prefetcher's direction)
            for (int end = to; end > from; end -= 3072) r += ReadRange(buffer, Math.Max(from, end - 3072), end, false);
            return r;
        }
        fixed (float* p = buffer.Span)
        {
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            int i = from;
            for (; i + 64 <= to; i += 64)
            {
                s0 += Vector512.Load(p + i);
                s1 += Vector512.Load(p + i + 16);
                s2 += Vector512.Load(p + i + 32);
                s3 += Vector512.Load(p + i + 48);
            }
            float t = Vector512.Sum((s0 + s1) + (s2 + s3));
            for (; i < to; i++) t += p[i];
            return t;
        }
    }
}
