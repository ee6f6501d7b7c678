using System.Globalization;
using Nabla;
using Nabla.Data;
using Nabla.Distributed;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Training;

// Run by tests/Nabla.Tests/Distributed under `mpirun -np N`. Modes:
//   equivalence DTYPE BUCKET_MB DIR  N ranks on slices of a global batch vs one process on all of it, 5 SGD steps, and a
//                                    save/reload after step 2 that must change nothing
//   syncbn DTYPE                     SyncBatchNorm on N ranks against BatchNorm1d on the whole batch
//   trainer DIR                      Trainer.Distributed against one Trainer on the global batches, and its resume
//   hang | die                       rank 1 stops answering (sleeps) or exits at step 2; the others must fail fast
// Rank 0 prints the findings; any failure aborts the whole job with a nonzero exit code.
Nabla.Kernels.Threading.MaxThreads = 1; // ranks share the machine's cores
var world = ProcessGroup.Init(args[0] is "hang" ? TimeSpan.FromSeconds(3) : null);
try
{
    bool ok = args[0] switch
    {
        "equivalence" => DdpCheck.Equivalence(world, Enum.Parse<DType>(args[1], ignoreCase: true), double.Parse(args[2], CultureInfo.InvariantCulture), args[3]),
        "trainer" => TrainerCheck.Run(world, args[1]),
        "syncbn" => SyncBnCheck.Run(world, Enum.Parse<DType>(args[1], ignoreCase: true)),
        "hang" or "die" => DdpCheck.Failure(world, args[0]),
        _ => throw new ArgumentException($"unknown mode '{args[0]}'"),
    };
    if (!ok)
    {
        Console.Error.WriteLine($"ddpcheck: rank {world.Rank}: FAILED");
        world.Abort(2);
    }
    world.Barrier();
    world.Dispose();
}
catch (Exception e)
{
    Console.Error.WriteLine($"ddpcheck: rank {world.Rank}: {e.GetType().Name}: {e.Message}");
    world.Abort(3);
}

internal static class DdpCheck
{
    private const int Features = 5, Classes = 3, PerRank = 3;

    private static Sequential Model(ulong seed, DType dtype)
    {
        var g = new Generator(seed);
        return new Sequential(new Linear(Features, 16, dtype: dtype, generator: g), new ReLU(),
            new Linear(16, 16, dtype: dtype, generator: g), new Tanh(), new Linear(16, Classes, dtype: dtype, generator: g));
    }

    // the global batch of step s, the same on every rank
    private static (Tensor X, Tensor Y) Batch(int step, int size, DType dtype)
    {
        var g = new Generator(1000 + (ulong)step);
        return (Tensor.Randn([size, Features], dtype, g), Tensor.RandInt(0, Classes, [size], dtype, g));
    }

    private static Tensor Rows(Tensor t, int[] rows)
    {
        var all = t.ToDoubleArray();
        int w = t.Numel / t.Size(0);
        var part = new double[rows.Length * w];
        for (int i = 0; i < rows.Length; i++) Array.Copy(all, rows[i] * w, part, i * w, w);
        var r = t.Rank == 1 ? Tensor.FromArray(part, rows.Length) : Tensor.FromArray(part, rows.Length, w);
        return r.To(t.DType);
    }

    private static void Step(Module model, Optimizer opt, Tensor x, Tensor y)
    {
        opt.ZeroGrad();
        Tensor.CrossEntropy(model.Forward(x), y).Backward();
        opt.Step();
    }

    private static SGD Sgd(Module m) => new(m.Parameters(), lr: 0.1, momentum: 0.9);

    private static double MaxDiff(Module a, Module b) =>
        a.Parameters().Zip(b.Parameters()).Max(p => p.First.ToDoubleArray().Zip(p.Second.ToDoubleArray()).Max(v => Math.Abs(v.First - v.Second)));

    private static bool SameBits(Module a, Module b) =>
        a.Parameters().Zip(b.Parameters()).All(p => p.First.ToDoubleArray().AsSpan().SequenceEqual(p.Second.ToDoubleArray()));

    // whether every rank holds rank 0's parameters bit for bit (answered identically on every rank)
    private static bool RanksIdentical(ProcessGroup world, Module m, DType dtype)
    {
        int differ = 0;
        foreach (var p in m.Parameters())
        {
            var copy = p.Detach().Clone();
            world.Broadcast(copy, 0);
            if (!copy.ToDoubleArray().AsSpan().SequenceEqual(p.ToDoubleArray())) differ = 1;
        }
        var flag = Tensor.FromArray(new double[] { differ }, 1).To(dtype);
        world.AllReduce(flag);
        return flag.Item() == 0;
    }

    public static bool Equivalence(ProcessGroup world, DType dtype, double bucketMB, string dir)
    {
        int n = world.WorldSize, rank = world.Rank, size = PerRank * n;
        double tolerance = dtype == DType.Float32 ? 1e-6 : 1e-12;
        var rows = new DistributedSampler(size, n, rank, shuffle: false).Indices();
        var single = Model(1, dtype);
        var singleOpt = Sgd(single);
        // ranks other than 0 start from other weights: the broadcast at construction must replace them
        var inner = Model(rank == 0 ? 1UL : 100 + (ulong)rank, dtype);
        var ddp = new DistributedDataParallel(inner, bucketCapMB: bucketMB);
        var opt = Sgd(inner);
        bool ok = RanksIdentical(world, inner, dtype) && SameBits(inner, single);
        if (rank == 0) Console.WriteLine($"{n} ranks, {dtype}, {ddp.BucketCount} bucket(s): parameters after construction equal rank 0's: {ok}");
        var paramsAfter2 = "";
        for (int s = 0; s < 5; s++)
        {
            var (x, y) = Batch(s, size, dtype);
            Step(single, singleOpt, x, y);
            Step(ddp, opt, Rows(x, rows), Rows(y, rows));
            double diff = MaxDiff(inner, single);
            bool same = RanksIdentical(world, inner, dtype);
            ok &= same && diff <= tolerance;
            if (rank == 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {s + 1}: max |ddp - single process| = {diff:E2} (bound {tolerance:E0}), every rank identical: {same}"));
            if (s == 1)
            {
                paramsAfter2 = Path.Combine(dir, "after2.safetensors");
                if (rank == 0) TrainingCheckpoint.Capture(inner, opt).Save(paramsAfter2); // only rank 0 writes
                world.Barrier();
            }
        }

        // resume: fresh objects on every rank (different weights again), load the checkpoint of step 2, train steps 3-5
        var resumed = Model(7 + (ulong)rank, dtype);
        var resumedOpt = Sgd(resumed);
        TrainingCheckpoint.Load(paramsAfter2).Restore(resumed, resumedOpt);
        var ddp2 = new DistributedDataParallel(resumed, bucketCapMB: bucketMB);
        for (int s = 2; s < 5; s++)
        {
            var (x, y) = Batch(s, size, dtype);
            Step(ddp2, resumedOpt, Rows(x, rows), Rows(y, rows));
        }
        bool resumeSame = SameBits(resumed, inner);
        var flag = Tensor.FromArray(new double[] { resumeSame ? 0 : 1 }, 1);
        world.AllReduce(flag);
        resumeSame = flag.Item() == 0;
        if (rank == 0) Console.WriteLine($"save after step 2 and reload on every rank: parameters after step 5 identical to the uninterrupted run: {resumeSame}");
        return ok && resumeSame;
    }

    public static bool Failure(ProcessGroup world, string mode)
    {
        var inner = Model(1, DType.Float32);
        var ddp = new DistributedDataParallel(inner);
        var opt = Sgd(inner);
        int n = world.WorldSize, size = PerRank * n;
        var rows = new DistributedSampler(size, n, world.Rank, shuffle: false).Indices();
        for (int s = 0; s < 5; s++)
        {
            if (s == 2 && world.Rank == 1)
            {
                Console.Error.WriteLine($"ddpcheck: rank 1 {(mode == "die" ? "exits" : "stops answering")} at step 3");
                Console.Error.Flush();
                if (mode == "die") Environment.Exit(7);
                Thread.Sleep(TimeSpan.FromMinutes(10));
            }
            var (x, y) = Batch(s, size, DType.Float32);
            Step(ddp, opt, Rows(x, rows), Rows(y, rows));
            if (world.Rank == 0) Console.WriteLine($"step {s + 1} done");
        }
        return true;
    }
}

internal static class TrainerCheck
{
    private const int Samples = 48, PerRankBatch = 4;

    private static TensorDataset Data()
    {
        var g = new Generator(42);
        var x = Tensor.Randn([Samples, 5], DType.Float32, g).ToArray();
        var y = Tensor.RandInt(0, 3, [Samples], DType.Float32, g).ToArray().Select(v => (int)v).ToArray();
        return new TensorDataset(x, y, 5);
    }

    private static Trainer Make(Sequential model, ProcessGroup? group) =>
        new(model, new SGD(model.Parameters(), lr: 0.05, momentum: 0.9), (o, t) => Tensor.CrossEntropy(o, t)) { Distributed = group };

    private static Sequential Model(ulong seed)
    {
        var g = new Generator(seed);
        return new Sequential(new Linear(5, 16, generator: g), new ReLU(), new Linear(16, 3, generator: g));
    }

    // Trainer.Distributed on N ranks, batch 4 each, against one Trainer with batch 4·N over the same sampler order
    // (world 1): the same global batches, so the same parameters and metrics; then a resume from rank 0's checkpoint.
    public static bool Run(ProcessGroup world, string dir)
    {
        int n = world.WorldSize, rank = world.Rank;
        var data = Data();
        DataLoader Loader(int replicas, int r, int batch) => new(data, batch, sampler: new DistributedSampler(Samples, replicas, r, shuffle: true, seed: 3));
        var single = Make(Model(1), null);
        single.Fit(Loader(1, 0, PerRankBatch * n), null, epochs: 2);

        var dist = Make(Model(rank == 0 ? 1UL : 50UL + (ulong)rank), world);
        dist.Fit(Loader(n, rank, PerRankBatch), null, epochs: 1);
        string path = Path.Combine(dir, "epoch1.safetensors");
        if (rank == 0) dist.SaveCheckpoint(path);
        world.Barrier();
        dist.Fit(Loader(n, rank, PerRankBatch), null, epochs: 2);

        double diff = single.Model.Parameters().Zip(dist.Model.Parameters())
            .Max(p => p.First.ToDoubleArray().Zip(p.Second.ToDoubleArray()).Max(v => Math.Abs(v.First - v.Second)));
        double lossDiff = single.History.Zip(dist.History).Max(h => Math.Abs(h.First.TrainLoss - h.Second.TrainLoss));
        bool accSame = single.History.Zip(dist.History).All(h => h.First.TrainAccuracy == h.Second.TrainAccuracy);

        var resumed = Make(Model(99), world);
        resumed.LoadCheckpoint(path);
        resumed.Fit(Loader(n, rank, PerRankBatch), null, epochs: 2);
        bool resumeSame = resumed.Model.Parameters().Zip(dist.Model.Parameters()).All(p => p.First.ToDoubleArray().AsSpan().SequenceEqual(p.Second.ToDoubleArray()))
            && resumed.History[^1].TrainLoss == dist.History[^1].TrainLoss;
        var flags = Tensor.FromArray(new double[] { diff <= 1e-6 && lossDiff <= 1e-6 && accSame ? 0 : 1, resumeSame ? 0 : 1 }, 2);
        world.AllReduce(flags);
        if (rank == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"trainer, {n} ranks x batch {PerRankBatch} vs 1 process x batch {PerRankBatch * n}, 2 epochs: max parameter difference {diff:E2}, train loss difference {lossDiff:E2}, same accuracy: {accSame}, every rank within bounds: {flags[0] == 0}"));
            Console.WriteLine($"trainer resumed on every rank from rank 0's epoch-1 checkpoint: identical to the uninterrupted run on every rank: {flags[1] == 0}");
        }
        return flags[0] == 0 && flags[1] == 0;
    }
}

internal static class SyncBnCheck
{
    private static Sequential Model(ulong seed, bool sync, DType dtype)
    {
        var g = new Generator(seed);
        Module norm = sync ? new SyncBatchNorm(8, dtype: dtype) : new BatchNorm1d(8, dtype: dtype);
        return new Sequential(new Linear(5, 8, dtype: dtype, generator: g), norm, new ReLU(), new Linear(8, 3, dtype: dtype, generator: g));
    }

    // SyncBatchNorm on N ranks (3 samples each) against BatchNorm1d in one process on the whole batch: parameters and
    // running statistics after each of 5 SGD steps, and the eval-mode outputs at the end
    public static bool Run(ProcessGroup world, DType dtype)
    {
        int n = world.WorldSize, size = 3 * n;
        double tolerance = dtype == DType.Float32 ? 1e-6 : 1e-12;
        var rows = new DistributedSampler(size, n, world.Rank, shuffle: false).Indices();
        var single = Model(1, sync: false, dtype);
        var singleOpt = new SGD(single.Parameters(), lr: 0.1, momentum: 0.9);
        var inner = Model(world.Rank == 0 ? 1UL : 20UL + (ulong)world.Rank, sync: true, dtype);
        var ddp = new DistributedDataParallel(inner);
        var opt = new SGD(inner.Parameters(), lr: 0.1, momentum: 0.9);
        bool ok = true;
        double worst = 0;
        for (int s = 0; s < 5; s++)
        {
            var g = new Generator(500 + (ulong)s);
            var x = Tensor.Randn([size, 5], dtype, g) * 2.0 + 1.0;
            var y = Tensor.RandInt(0, 3, [size], dtype, g);
            singleOpt.ZeroGrad();
            Tensor.CrossEntropy(single.Forward(x), y).Backward();
            singleOpt.Step();
            opt.ZeroGrad();
            Tensor.CrossEntropy(ddp.Forward(Select(x, rows)), Select(y, rows)).Backward();
            opt.Step();
            double diff = single.StateDict().Zip(inner.StateDict()).Max(kv => MaxAbs(kv.First.Value, kv.Second.Value));
            worst = Math.Max(worst, diff);
            ok &= diff <= tolerance;
        }
        single.Eval();
        inner.Eval();
        var probe = Tensor.Randn([4, 5], dtype, new Generator(9));
        double evalDiff = MaxAbs(single.Forward(probe), inner.Forward(probe));
        ok &= evalDiff <= tolerance;
        var flag = Tensor.FromArray(new double[] { ok ? 0 : 1 }, 1);
        world.AllReduce(flag);
        if (world.Rank == 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"syncbn, {n} ranks x 3 samples vs BatchNorm1d on {size}, {dtype}: max difference of parameters and running statistics over 5 steps {worst:E2}, eval outputs {evalDiff:E2} (bound {tolerance:E0}), every rank within bounds: {flag[0] == 0}"));
        return flag[0] == 0;
    }

    private static double MaxAbs(Tensor a, Tensor b) => a.ToDoubleArray().Zip(b.ToDoubleArray()).Max(v => Math.Abs(v.First - v.Second));

    private static Tensor Select(Tensor t, int[] rows)
    {
        var all = t.ToDoubleArray();
        int w = t.Numel / t.Size(0);
        var part = new double[rows.Length * w];
        for (int i = 0; i < rows.Length; i++) Array.Copy(all, rows[i] * w, part, i * w, w);
        return (t.Rank == 1 ? Tensor.FromArray(part, rows.Length) : Tensor.FromArray(part, rows.Length, w)).To(t.DType);
    }
}
