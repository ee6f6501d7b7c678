using System.Globalization;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Benchmarks;

/// <summary>
/// Convolution workloads, side by side with bench_torch.py (lenet) and bench_torch_layers.py (conv): one training
/// step (zero_grad, forward, cross-entropy, backward, SGD step) of LeNet-5 on 1x28x28, batch 64; of the issue's
/// conv3x3(3→32)-ReLU-conv3x3(32→64)-ReLU-maxpool-conv3x3(64→128)-ReLU-maxpool-global-avg-pool-fc(128→10) on 3x32x32,
/// batch 32 (no BatchNorm, SGD); and Conv2d(64→64, 3x3, pad 1) forward alone on 8x64x56x56.
/// </summary>
internal static class ConvBench
{
    public static void Lenet()
    {
        var model = new Sequential(
            new Conv2d(1, 6, 5, padding: 2), new ReLU(), new MaxPool2d(2),
            new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
            new Flatten(),
            new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10));
        TrainStep("lenet_train_b64", model, [64, 1, 28, 28], 64, warmup: 10);
    }

    public static void Cnn()
    {
        var model = new Sequential(
            new Conv2d(3, 32, 3, padding: 1), new ReLU(),
            new Conv2d(32, 64, 3, padding: 1), new ReLU(), new MaxPool2d(2),
            new Conv2d(64, 128, 3, padding: 1), new ReLU(), new MaxPool2d(2),
            new AdaptiveAvgPool2d(1), new Flatten(), new Linear(128, 10));
        TrainStep("cnn_nobn_train_b32", model, [32, 3, 32, 32], 32, warmup: 5);
    }

    /// <summary>
    /// The conv-BN CNN: `nabla train --model cnn`'s architecture (Models.SmallCnn: conv3x3-BatchNorm2d-ReLU
    /// x3 with 32/64/128 channels, two max pools, global average pool, fc) and optimizer (SGD lr 0.05, momentum 0.9)
    /// on 3x32x32, batch 32; bench_torch_layers.py's cnnbn is the same network in PyTorch.
    /// </summary>
    public static void CnnBn()
    {
        var model = new Sequential(
            new Conv2d(3, 32, 3, padding: 1), new BatchNorm2d(32), new ReLU(),
            new Conv2d(32, 64, 3, padding: 1), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
            new Conv2d(64, 128, 3, padding: 1), new BatchNorm2d(128), new ReLU(), new MaxPool2d(2),
            new GlobalAvgPool2d(), new Linear(128, 10));
        TrainStep("cnnbn_train_b32", model, [32, 3, 32, 32], 32, warmup: 5, lr: 0.05, momentum: 0.9);
    }

    public static void ConvForward()
    {
        var conv = new Conv2d(64, 64, 3, padding: 1);
        var x = Tensor.Randn([8, 64, 56, 56]);
        var t = Harness.TimeIt(() =>
        {
            using (Tensor.NoGrad()) conv.Forward(x);
        }, warmup: 5);
        double gflop = 2.0 * 8 * 64 * 56 * 56 * 64 * 9 / 1e9;
        Harness.Report("conv2d_fwd_resnet_b8", t[0] * 1e3, Harness.Median(t) * 1e3, "ms/call", t.Length,
            string.Create(CultureInfo.InvariantCulture, $"GFLOP/s(median)={gflop / Harness.Median(t):F0}"));
    }

    /// <summary>When set, each train step workload also prints its Profiler table (by op, 20 steps after warm-up).</summary>
    internal static bool PrintProfile { get; set; }

    /// <summary>With <see cref="PrintProfile"/>: 20 more steps under the Profiler, its table as comment lines (report.py reads them).</summary>
    internal static void Profile(string name, Action step)
    {
        if (!PrintProfile) return;
        using var p = Nabla.Diagnostics.Profiler.Start();
        for (int i = 0; i < 20; i++) step();
        p.Stop();
        Console.WriteLine($"# profile of {name}, 20 steps:");
        foreach (var line in p.KeyAverages().Table(30).Split('\n')) Console.WriteLine("# " + line);
    }

    private static void TrainStep(string name, Module model, int[] shape, int batch, int warmup, double lr = 0.01, double momentum = 0)
    {
        model.Train();
        var x = Tensor.Randn(shape);
        var y = Tensor.RandInt(0, 10, [batch]);
        var sgd = new SGD(model.Parameters(), lr, momentum: momentum);
        var loss = new CrossEntropyLoss();
        var t = Harness.TimeIt(() =>
        {
            sgd.ZeroGrad();
            var j = loss.Forward(model.Forward(x), y);
            j.Backward();
            sgd.Step();
        }, warmup);
        Profile(name, () =>
        {
            sgd.ZeroGrad();
            loss.Forward(model.Forward(x), y).Backward();
            sgd.Step();
        });
        double med = Harness.Median(t);
        Harness.Report(name, t[0] * 1e3, med * 1e3, "ms/step", t.Length, string.Create(CultureInfo.InvariantCulture, $"samples/s(median)={batch / med:F0}"));
    }
}
