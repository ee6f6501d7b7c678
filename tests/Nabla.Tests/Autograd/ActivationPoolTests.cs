using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.Autograd;

/// <summary>
/// A training step through <see cref="Sequential"/> gives its activations (and max pooling's arg-max positions) back
/// to the pool once a backward has run the nodes that read them, so the next step reuses them: the step's managed
/// allocation shrinks from its activations' size to its small objects, training stays bit-identical, and nothing a
/// retained graph, a second-order graph or a hook still reads is handed out again. (Shares the pool tests' collection:
/// they switch the global pool off and on, so they run alone.)
/// </summary>
[Collection(nameof(StoragePoolTests))]
public class ActivationPoolTests
{
    // every activation is above StoragePool.MinLength: conv, BatchNorm, ReLU, max pooling, Flatten (a view), Linear,
    // Tanh (its backward reads its output), Dropout (training mode: a mask), Linear
    private static Sequential Net() => new(
        new Conv2d(2, 8, 3, padding: 1, generator: new Generator(1)), new BatchNorm2d(8), new ReLU(), new MaxPool2d(2),
        new Conv2d(8, 16, 3, padding: 1, generator: new Generator(2)), new ReLU(),
        new Flatten(), new Linear(16 * 8 * 8, 256, generator: new Generator(3)), new Tanh(), new Dropout(0.25),
        new Linear(256, 10, generator: new Generator(4)));

    private static readonly Tensor X = Tensor.Randn([32, 2, 16, 16], generator: new Generator(5));
    private static readonly Tensor Y = Tensor.RandInt(0, 10, [32], generator: new Generator(6));

    // the bytes of the activations one forward makes: conv 8x16x16, BN, ReLU, pool 8x8x8 (+ its int positions),
    // conv 16x8x8, ReLU, Linear 256, Tanh, Dropout (+ its mask), per sample of 32
    private const long ActivationBytes = 32L * 4 * (3 * 8 * 16 * 16 + 2 * 8 * 8 * 8 + 2 * 16 * 8 * 8 + 4 * 256);

    private static T WithPool<T>(bool pooled, Func<T> run)
    {
        StoragePool.Clear();
        StoragePool.Enabled = pooled;
        Tensor.ManualSeed(7);   // Dropout's masks
        try
        {
            return run();
        }
        finally
        {
            StoragePool.Enabled = true;
        }
    }

    private static (float[] Weights, float[] Losses, long LastStepBytes) Train(bool pooled, bool profiled = false) => WithPool(pooled, () =>
    {
        using var profiler = profiled ? Nabla.Diagnostics.Profiler.Start() : null;
        var net = Net();
        var sgd = new SGD(net.Parameters(), 0.05, momentum: 0.9);
        var ce = new CrossEntropyLoss();
        var losses = new List<float>();
        long bytes = 0;
        for (int step = 0; step < 5; step++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            sgd.ZeroGrad();
            var j = ce.Forward(net.Forward(X), Y);
            j.Backward();
            sgd.Step();
            bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            losses.Add((float)j.Item());
        }
        return (net.Parameters().SelectMany(p => p.ToArray()).ToArray(), losses.ToArray(), bytes);
    });

    [Fact]
    public void TrainingReusesTheActivationsAndStaysBitIdentical()
    {
        var plain = Train(pooled: false);
        var pooled = Train(pooled: true);
        Assert.Equal(plain.Losses, pooled.Losses);
        Assert.Equal(plain.Weights, pooled.Weights);
        // without reuse every step allocates its activations anew (and more); with it, a fraction of them
        Assert.True(plain.LastStepBytes > ActivationBytes, $"an unpooled step allocated {plain.LastStepBytes} B, its activations are {ActivationBytes} B");
        Assert.True(pooled.LastStepBytes < ActivationBytes / 4, $"a pooled step allocated {pooled.LastStepBytes} B of its {ActivationBytes} B of activations");
        // a profiled step is the same step: its table shows the step as it runs unprofiled
        var profiled = Train(pooled: true, profiled: true);
        Assert.Equal(plain.Weights, profiled.Weights);
        Assert.True(profiled.LastStepBytes < ActivationBytes / 4, $"a profiled step allocated {profiled.LastStepBytes} B of its {ActivationBytes} B of activations");
    }

    // other steps between a graph's forward and its later backward rent whatever the pool holds (uninitialised arrays
    // come back NaN-filled in the tests)
    private static void Churn(Sequential net)
    {
        for (int i = 0; i < 2; i++)
        {
            net.ZeroGrad();
            net.Forward(Tensor.Randn([32, 2, 16, 16], generator: new Generator((ulong)(20 + i)))).Sum().Backward();
        }
    }

    private static float[] Grads(Module net) => net.Parameters().SelectMany(p => p.Grad?.ToArray() ?? []).ToArray();

    [Fact]
    public void ARetainedGraphKeepsItsActivations()
    {
        float[] Run() => WithPool(pooled: true, () =>
        {
            var net = Net();
            net.Eval();   // Dropout and BatchNorm fixed: the churn does not change the graph's values
            var y = net.Forward(X);
            y.Square().Sum().Backward(retainGraph: true);
            var first = Grads(net);
            Churn(net);
            net.ZeroGrad();
            y.Square().Sum().Backward();   // the retained graph's activations are still its own
            var second = Grads(net);
            Assert.Equal(first, second);
            return second;
        });
        var plain = WithPool(pooled: false, () =>
        {
            var net = Net();
            net.Eval();
            net.Forward(X).Square().Sum().Backward();
            return Grads(net);
        });
        Assert.Equal(plain, Run());
    }

    // The parameters' gradients of the penalty ‖∂Σy/∂x‖², x's gradient taken as a graph (createGraph, retained) and
    // differentiated only after other steps have run (they rent whatever the pool holds); plainBackwardFirst: a plain
    // backward frees the first graph in between.
    private static float[] GradientPenalty(bool pooled, Func<Sequential> make, bool plainBackwardFirst) => WithPool(pooled, () =>
    {
        var net = make();
        var x = Tensor.Randn([16, 64], generator: new Generator(4));
        x.RequiresGrad = true;
        var y = net.Forward(x);
        var gx = Nabla.Autograd.Autograd.Grad([y.Sum()], [x], createGraph: true)[0]!;
        if (plainBackwardFirst) y.Sum().Backward();
        for (int i = 0; i < 3; i++) net.Forward(Tensor.Randn([16, 64], generator: new Generator((ulong)(10 + i)))).Sum().Backward();
        net.ZeroGrad();
        gx.Square().Sum().Backward();
        return Grads(net);
    });

    [Fact]
    public void ASecondOrderGraphKeepsWhatItSaved()
    {
        // the penalty's graph reads the Tanh outputs and the Linear inputs of the first graph again
        static Sequential Make() => new(new Linear(64, 4096, generator: new Generator(1)), new Tanh(),
            new Linear(4096, 64, generator: new Generator(2)), new Tanh(), new Linear(64, 1, generator: new Generator(3)));
        Assert.Equal(GradientPenalty(false, Make, plainBackwardFirst: false), GradientPenalty(true, Make, plainBackwardFirst: false));
    }

    [Fact]
    public void AGraphACreateGraphPassRecordedKeepsTheDropoutMask()
    {
        // the penalty's graph reads Dropout's mask again but reaches no node of the first graph, so the plain backward
        // that frees the first graph in between must not hand the mask out again
        static Sequential Make() => new(new Linear(64, 256, generator: new Generator(1)), new Dropout(0.5),
            new Linear(256, 1, generator: new Generator(2)));
        Assert.Equal(GradientPenalty(false, Make, plainBackwardFirst: true), GradientPenalty(true, Make, plainBackwardFirst: true));
    }

    [Fact]
    public void TrainingKeepsWhatAHookHolds()
    {
        var net = Net();
        Tensor? seen = null;
        net[5].RegisterForwardHook((_, _, output) => { seen ??= output; return null; });   // the second ReLU's first output
        net.Forward(X).Sum().Backward();
        var values = seen!.ToArray();
        Churn(net);
        Assert.Equal(values, seen.ToArray());
    }
}
