using Nabla.Data;
using Nabla.IO;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;
using Nabla.Training;

namespace Nabla.Tests.Training;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Sequential Model(ulong seed, DType dtype = DType.Float32)
    {
        var g = new Generator(seed);
        return new Sequential(new Linear(4, 8, dtype: dtype, generator: g), new Tanh(), new Linear(8, 3, dtype: dtype, generator: g));
    }

    [Fact]
    public void ModelWeightsRoundTripUnderPyTorchKeys()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        var a = Model(1);
        Checkpoint.SaveModel(path, a, new Dictionary<string, string> { ["arch"] = "mlp" });
        var file = SafeTensors.Load(path);
        Assert.Equal(["0.bias", "0.weight", "2.bias", "2.weight"], file.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("pt", file.Metadata["format"]);
        var b = Model(2);
        var meta = Checkpoint.LoadModel(path, b);
        Assert.Equal("mlp", meta["arch"]);
        foreach (var (k, t) in a.StateDict()) Assert.Equal(t.ToArray(), b.StateDict()[k].ToArray());
    }

    [Fact]
    public void LoadingReportsDtypeShapeAndKeyMismatchesTogether()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        Checkpoint.SaveModel(path, Model(1));
        var e = Assert.Throws<ArgumentException>(() => Checkpoint.LoadModel(path, Model(1, DType.Float64)));
        Assert.Contains("'0.weight': dtype float32 in the state dict, float64 in the model", e.Message);
        Assert.Contains("4 problem(s)", e.Message);
        var other = new Sequential(new Linear(4, 5), new Tanh(), new Linear(8, 3), new Linear(3, 1));
        e = Assert.Throws<ArgumentException>(() => Checkpoint.LoadModel(path, other));
        Assert.Contains("shape [8, 4] in the state dict, [5, 4] in the model", e.Message);
        Assert.Contains("missing key '3.weight'", e.Message);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => Checkpoint.LoadModel(path, Model(1)));
    }

    private static (Sequential Model, Adam Opt, SequentialLR Sched, DataLoader Loader) Setup(ulong seed)
    {
        var g = new Generator(99);
        var x = new float[64 * 4];
        var y = new int[64];
        for (int i = 0; i < x.Length; i++) x[i] = (float)g.NextNormal();
        for (int i = 0; i < y.Length; i++) y[i] = (x[4 * i] + x[4 * i + 1] > 0 ? 1 : 0) + (x[4 * i + 2] > 0.5f ? 1 : 0);
        var model = Model(seed);
        var opt = new Adam(model.Parameters(), lr: 0.05, amsgrad: true);
        var sched = new SequentialLR(opt, [new LinearLR(opt, 0.2, 1.0, 2), new CosineAnnealingLR(opt, 4)], [2]);
        var loader = new DataLoader(new TensorDataset(x, y, 4), 16, shuffle: true, seed: seed + 7);
        return (model, opt, sched, loader);
    }

    private static void Epoch(Sequential model, Adam opt, LRScheduler sched, DataLoader loader)
    {
        var loss = new CrossEntropyLoss();
        foreach (var (x, y) in loader.Epoch())
        {
            opt.ZeroGrad();
            loss.Forward(model.Forward(x), y).Backward();
            opt.Step();
        }
        sched.Step();
    }

    [Fact]
    public void TrainingResumesBitIdentically()
    {
        // uninterrupted: 5 epochs
        var (m1, o1, s1, l1) = Setup(3);
        for (int e = 0; e < 5; e++) Epoch(m1, o1, s1, l1);

        // interrupted after 2 epochs, saved, restored into objects built from another seed
        var (m2, o2, s2, l2) = Setup(3);
        for (int e = 0; e < 2; e++) Epoch(m2, o2, s2, l2);
        string path = Path.Combine(_dir, "train.safetensors");
        TrainingCheckpoint.Capture(m2, o2, s2, epoch: 2, step: 8, new Dictionary<string, Generator> { ["loader"] = l2.Generator },
            new Dictionary<string, string> { ["model"] = "mlp" }).Save(path);

        var (m3, o3, s3, l3) = Setup(11);
        var ck = TrainingCheckpoint.Load(path);
        Assert.Equal(2, ck.Epoch);
        Assert.Equal(8, ck.Step);
        Assert.Equal("mlp", ck.Metadata["model"]);
        ck.Restore(m3, o3, s3, new Dictionary<string, Generator> { ["loader"] = l3.Generator });
        for (int e = 2; e < 5; e++) Epoch(m3, o3, s3, l3);

        foreach (var (k, t) in m1.StateDict()) Assert.Equal(t.ToArray(), m3.StateDict()[k].ToArray());
        Assert.Equal(s1.LastLr, s3.LastLr);
        var st1 = o1.StateDict();
        foreach (var (k, t) in o3.StateDict()) Assert.Equal(st1[k].ToDoubleArray(), t.ToDoubleArray());

        // the file's keys carry the prefixes
        var keys = SafeTensors.Load(path).Tensors.Keys.ToList();
        Assert.Contains("model.0.weight", keys);
        Assert.Contains("optimizer.state.0.exp_avg", keys);
        Assert.Contains("optimizer.param_groups.0.initial_lr", keys);
        Assert.Contains("scheduler.last_epoch", keys);
        Assert.Contains("scheduler._schedulers.1.T_max", keys);
    }

    [Fact]
    public void RestoreAndLoadReportProblems()
    {
        var (m, o, s, l) = Setup(1);
        var ck = TrainingCheckpoint.Capture(m);
        var e = Assert.Throws<ArgumentException>(() => ck.Restore(m, o, s, new Dictionary<string, Generator> { ["loader"] = l.Generator }));
        Assert.Contains("no optimizer state", e.Message);
        Assert.Contains("no scheduler state", e.Message);
        Assert.Contains("no generator 'loader'", e.Message);

        string path = Path.Combine(_dir, "x.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["model.w"] = Tensor.Zeros(1) });
        Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(path));
        ck.Metadata["nabla.x"] = "reserved";
        Assert.Throws<ArgumentException>(() => ck.Save(path));
    }
}
