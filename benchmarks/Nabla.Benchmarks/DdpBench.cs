using System.Diagnostics;
using System.Globalization;
using Nabla.Distributed;
using Nabla.Kernels;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Benchmarks;

/// <summary>
/// Data-parallel measurements, run under mpirun by benchmarks/ddp.py:
/// <c>ddp train THREADS STEPS ROUNDS</c>: the MLP 784-512-256-10 on a global batch of 128 split over the ranks (one rank:
/// plain training, no DistributedDataParallel), samples/s and the time blocked in the gradient all-reduce;
/// <c>ddp allreduce</c>: ProcessGroup.AllReduce of 16 B to 16 MB, median time per call.
/// Rank 0 prints tab-separated DDP and ALLREDUCE lines.
/// </summary>
internal static class DdpBench
{
    private const int GlobalBatch = 128;

    public static int Run(string[] args)
    {
        using var world = ProcessGroup.Init();
        if (args[1] == "train") Train(world, int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
        else AllReduce(world);
        world.Barrier();
        return 0;
    }

    private static void Train(ProcessGroup world, int threads, int steps, int rounds)
    {
        Threading.MaxThreads = threads;
        int batch = GlobalBatch / world.WorldSize;
        var g = new Generator(1 + (ulong)world.Rank);
        var model = new Sequential(new Linear(784, 512, generator: g), new ReLU(), new Linear(512, 256, generator: g), new ReLU(), new Linear(256, 10, generator: g));
        var ddp = world.WorldSize > 1 ? new DistributedDataParallel(model, world) : null;
        var net = (Module?)ddp ?? model;
        var opt = new SGD(model.Parameters(), lr: 0.01);
        var x = Tensor.Randn([batch, 784], DType.Float32, g);
        var y = Tensor.RandInt(0, 10, [batch], DType.Float32, g);
        void Step()
        {
            opt.ZeroGrad();
            Tensor.CrossEntropy(net.Forward(x), y).Backward();
            opt.Step();
        }
        for (int i = 0; i < 20; i++) Step();
        var perRound = new List<(double Seconds, double Wait, double Cpu)>();
        for (int r = 0; r < rounds; r++)
        {
            world.Barrier();
            var wait0 = ddp?.CommunicationWait ?? TimeSpan.Zero;
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++) Step();
            double seconds = sw.Elapsed.TotalSeconds;
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            double wait = ((ddp?.CommunicationWait ?? TimeSpan.Zero) - wait0).TotalSeconds;
            // the mean over ranks of the time and the wait (they differ little: the all-reduce synchronises every step), the summed CPU
            var t = Tensor.FromArray(new double[] { seconds, wait, cpu }, 3);
            world.AllReduce(t);
            perRound.Add((t[0] / world.WorldSize, t[1] / world.WorldSize, t[2]));
        }
        if (world.Rank != 0) return;
        var best = perRound.OrderBy(p => p.Seconds).ToList()[perRound.Count / 2]; // the median round
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"DDP\tranks={world.WorldSize}\tthreads={threads}\tsamples_per_s={GlobalBatch * steps / best.Seconds:F0}\tstep_ms={best.Seconds / steps * 1e3:F3}\twait_ms={best.Wait / steps * 1e3:F3}\tcpu_ms_per_step={best.Cpu / steps * 1e3:F3}\tbuckets={ddp?.BucketCount ?? 0}\trounds={rounds}"));
    }

    private static void AllReduce(ProcessGroup world)
    {
        for (long bytes = 16; bytes <= 16 << 20; bytes *= 4)
        {
            var t = Tensor.Zeros([(int)(bytes / 4)], DType.Float32);
            for (int i = 0; i < 5; i++) world.AllReduce(t);
            int reps = (int)Math.Clamp(64L * 1024 * 1024 / bytes, 20, 2000);
            var times = new double[reps];
            for (int i = 0; i < reps; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                world.AllReduce(t);
                times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            var all = Tensor.FromArray(times, reps);
            world.AllReduce(all); // the mean over ranks of each call's time
            if (world.Rank != 0) continue;
            var mean = all.ToDoubleArray().Select(v => v / world.WorldSize).Order().ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ALLREDUCE\tranks={world.WorldSize}\tbytes={bytes}\tmedian_us={mean[reps / 2] * 1e6:F2}\tmin_us={mean[0] * 1e6:F2}\treps={reps}"));
        }
    }
}
