using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.Autograd;

[CollectionDefinition(nameof(StoragePoolTests), DisableParallelization = true)]
public class StoragePoolCollection;

/// <summary>
/// The backward pass hands used-up residual storage back for reuse: training must give bit-identical results with
/// and without it, the pool must actually be used, and nothing a caller can still reach may ever be handed out again.
/// (These tests switch the global pool off and on, so they run alone.)
/// </summary>
[Collection(nameof(StoragePoolTests))]
public class StoragePoolTests
{
    // conv, pooling, a branch whose output feeds two ops (residuals summed), views (flatten), linear: every large
    // tensor is above StoragePool.MinLength
    private sealed class Net : Module
    {
        private readonly Conv2d _conv1 = new(2, 8, 3, padding: 1, generator: new Generator(1));
        private readonly Conv2d _conv2 = new(8, 8, 3, padding: 1, generator: new Generator(2));
        private readonly Linear _fc = new(8 * 8 * 8, 10, generator: new Generator(3));

        public Net()
        {
            RegisterModule("conv1", _conv1);
            RegisterModule("conv2", _conv2);
            RegisterModule("fc", _fc);
        }

        public override Tensor Forward(Tensor x)
        {
            var h = _conv1.Forward(x).Relu();
            h = h + _conv2.Forward(h).Relu();      // h feeds two ops: its residual is a sum
            h = h.MaxPool2d(2);
            return _fc.Forward(h.Flatten(1));
        }
    }

    // an LSTM whose three outputs all reach the loss (one multi-output node per layer and direction); its outputs and
    // residuals are above StoragePool.MinLength
    private sealed class RecurrentNet : Module
    {
        private readonly LSTM _lstm = new(16, 64, numLayers: 2, bidirectional: true, generator: new Generator(1));
        private readonly Linear _fc = new(128 + 2 * 256, 10, generator: new Generator(2));

        public RecurrentNet()
        {
            RegisterModule("lstm", _lstm);
            RegisterModule("fc", _fc);
        }

        // x (T, B, I) = (16, 16, 16): y (16, 16, 128), h_n and c_n (4, 16, 64)
        public override Tensor Forward(Tensor x)
        {
            var (y, hn, cn) = _lstm.Forward(x, null);
            return _fc.Forward(Tensor.Cat([y.Select(0, -1), hn.Transpose(0, 1).Reshape(16, 256), cn.Transpose(0, 1).Reshape(16, 256)], 1));
        }
    }

    private static (float[] Weights, float[] Losses) Train(bool pooled, bool recurrent = false)
    {
        StoragePool.Clear();
        StoragePool.Enabled = pooled;
        try
        {
            Module net = recurrent ? new RecurrentNet() : new Net();
            var sgd = new SGD(net.Parameters(), 0.05, momentum: 0.9);
            var loss = new CrossEntropyLoss();
            var x = Tensor.Randn(recurrent ? [16, 16, 16] : [16, 2, 16, 16], generator: new Generator(4));
            var y = Tensor.RandInt(0, 10, [16], generator: new Generator(5));
            var losses = new List<float>();
            for (int step = 0; step < 4; step++)
            {
                sgd.ZeroGrad();
                var j = loss.Forward(net.Forward(x), y);
                j.Backward();
                sgd.Step();
                losses.Add((float)j.Item());
            }
            return (net.Parameters().SelectMany(p => p.ToArray()).ToArray(), losses.ToArray());
        }
        finally
        {
            StoragePool.Enabled = true;
        }
    }

    [Fact]
    public void TrainingIsBitIdenticalWithAndWithoutThePool()
    {
        var plain = Train(pooled: false);
        long before = StoragePool.Reused;
        var pooled = Train(pooled: true);
        Assert.True(StoragePool.Reused > before, "the pooled run reused recycled storage");
        Assert.Equal(plain.Losses, pooled.Losses);
        Assert.Equal(plain.Weights, pooled.Weights);
    }

    [Fact]
    public void RecurrentTrainingIsBitIdenticalWithAndWithoutThePool()
    {
        var plain = Train(pooled: false, recurrent: true);
        long before = StoragePool.Reused;
        var pooled = Train(pooled: true, recurrent: true);
        Assert.True(StoragePool.Reused > before, "the pooled run reused recycled storage");
        Assert.Equal(plain.Losses, pooled.Losses);
        Assert.Equal(plain.Weights, pooled.Weights);
    }

    // an inference stack whose activations are all above StoragePool.MinLength: Linear, ReLU, Dropout, Flatten, conv
    private static Sequential InferenceNet(bool dropoutFirst) => new(
        dropoutFirst ? new Dropout(0.5) : new ReLU(),
        new Conv2d(2, 8, 3, padding: 1, generator: new Generator(1)), new ReLU(), new MaxPool2d(2),
        new Flatten(), new Linear(8 * 8 * 8, 4096, generator: new Generator(2)), new ReLU(), new Dropout(0.5),
        new Linear(4096, 10, generator: new Generator(3)));

    [Fact]
    public void InferenceThroughSequentialReusesItsActivationsAndGivesTheSameValues()
    {
        var x = Tensor.Randn([16, 2, 16, 16], generator: new Generator(4));
        StoragePool.Clear();
        StoragePool.Enabled = false;
        Tensor plain;
        var net = InferenceNet(dropoutFirst: true);
        net.Eval();
        try
        {
            using (Tensor.NoGrad()) plain = net.Forward(x);
        }
        finally
        {
            StoragePool.Enabled = true;
        }
        long before = StoragePool.Reused;
        var xValues = x.ToArray();
        var outputs = new List<Tensor>();
        using (Tensor.NoGrad())
            for (int i = 0; i < 4; i++) outputs.Add(net.Forward(x));
        // the activations between layers came back to the pool and were rented again (NaN-filled in the tests when
        // rented uninitialised: a kernel reading a recycled array before writing it would show)
        Assert.True(StoragePool.Reused > before, "repeated inference reused the activations' storage");
        foreach (var y in outputs) Assert.Equal(plain.ToArray(), y.ToArray());
        // Dropout in eval mode passes the caller's input on unchanged: it must never reach the pool
        Assert.Equal(xValues, x.ToArray());
    }

    // the parameters' gradients of one eval-mode pass in grad mode on x, with no-grad passes on other inputs run between
    // its forward and its backward
    private static (float[] Output, float[][] Grads) GradAcrossInference(bool pooled)
    {
        StoragePool.Clear();
        StoragePool.Enabled = pooled;
        try
        {
            var net = InferenceNet(dropoutFirst: false);
            net.Eval();
            // the first layer (ReLU) needs no gradient: its output enters the conv's graph node with no node of its own
            var y = net.Forward(Tensor.Randn([16, 2, 16, 16], generator: new Generator(5)));
            using (Tensor.NoGrad())
                for (int i = 0; i < 3; i++) net.Forward(Tensor.Randn([16, 2, 16, 16], generator: new Generator((ulong)(10 + i))));
            y.Sum().Backward();
            return (y.ToArray(), net.Parameters().Select(p => p.Grad!.ToArray()).ToArray());
        }
        finally
        {
            StoragePool.Enabled = true;
        }
    }

    [Fact]
    public void InferenceLeavesWhatAGraphSavedIntact()
    {
        var plain = GradAcrossInference(pooled: false);
        var pooled = GradAcrossInference(pooled: true);
        Assert.Equal(plain.Output, pooled.Output);
        for (int i = 0; i < plain.Grads.Length; i++) Assert.Equal(plain.Grads[i], pooled.Grads[i]);
    }

    [Fact]
    public void InferenceKeepsWhatAHookHolds()
    {
        var net = InferenceNet(dropoutFirst: false);
        net.Eval();
        var x = Tensor.Randn([16, 2, 16, 16], generator: new Generator(5));
        Tensor? seen = null;
        ((Module)net[2]).RegisterForwardHook((_, _, output) => { seen ??= output; return null; });   // the conv ReLU's first output
        using (Tensor.NoGrad()) net.Forward(x);
        var seenValues = seen!.ToArray();
        using (Tensor.NoGrad())
            for (int i = 0; i < 3; i++) net.Forward(Tensor.Randn([16, 2, 16, 16], generator: new Generator((ulong)(6 + i))));
        Assert.Equal(seenValues, seen.ToArray());
    }

    [Fact]
    public void NothingTheCallerHoldsIsHandedOutAgain()
    {
        StoragePool.Clear();
        var net = new Net();
        var x = Tensor.Randn([16, 2, 16, 16], generator: new Generator(6));
        x.RequiresGrad = true;
        var hidden = net.Forward(x);
        hidden.RetainGrad();
        var output = hidden * 2.0;
        var upstream = Tensor.Randn([16, 10], generator: new Generator(7));
        var kept = new List<(Tensor T, float[] Values)>();
        output.Backward(upstream);
        foreach (var t in new[] { hidden, output, upstream, hidden.Grad!, x.Grad! }.Concat(net.Parameters().Select(p => p.Grad!)))
            kept.Add((t, t.ToArray()));
        Assert.True(StoragePool.Bytes > 0, "the backward pass recycled residual storage");

        // more steps rent the recycled arrays (uninitialised ones come back NaN-filled in the tests)
        var x2 = Tensor.Randn([16, 2, 16, 16], generator: new Generator(9));
        x2.RequiresGrad = true;   // a new input: x.Grad would accumulate
        for (int step = 0; step < 3; step++)
        {
            net.ZeroGrad();
            net.Forward(x2).Sum().Backward();
        }
        foreach (var (t, values) in kept) Assert.Equal(values, t.ToArray());
    }

    [Fact]
    public void ATensorHookKeepsTheResidualItSaw()
    {
        // an interior tensor's residual, made by a built-in backward: the hook may keep it, so it is never recycled
        StoragePool.Clear();
        var x = Tensor.Randn([64, 128], generator: new Generator(8));
        x.RequiresGrad = true;
        var h = x * 2.0;
        Tensor? seen = null;
        h.RegisterHook(g => { seen = g; return null; });
        (h * 3.0).Sum().Backward();
        var values = seen!.ToArray();
        for (int step = 0; step < 3; step++) (x * 2.0 * 5.0).Sum().Backward();
        Assert.Equal(values, seen.ToArray());
        Assert.All(values, v => Assert.Equal(3f, v));
    }

    [Fact]
    public void ATransposedResidualIsRecycledAndALeafGetsAContiguousGrad()
    {
        // the residual reaching x is a transposed view of a fresh gradient: its storage comes back to the pool, and the
        // leaf keeps a contiguous copy (optimizers read Grad as a span)
        StoragePool.Clear();
        var x = Tensor.Randn([64, 96], generator: new Generator(10));
        x.RequiresGrad = true;
        var w = Tensor.Randn([96, 64], generator: new Generator(11));
        long before = StoragePool.Bytes;
        (x.T * w).Sum().Backward();
        Assert.True(StoragePool.Bytes >= before + 64 * 96 * sizeof(float), "the transposed residual's storage was recycled");
        Assert.True(x.Grad!.IsContiguous);
        Assert.Equal(w.T.Contiguous().ToArray(), x.Grad.ToArray());
    }

    [Fact]
    public void AFunctionsResidualIsNeverRecycled()
    {
        // a user Function may keep the residual it was given
        StoragePool.Clear();
        var keeper = new Keeper();
        var x = Tensor.Randn([64, 128], generator: new Generator(8));
        x.RequiresGrad = true;
        var y = keeper.Apply(x * 1.0) * 3.0;
        y.Sum().Backward();
        var seen = keeper.Seen!.ToArray();
        for (int step = 0; step < 3; step++) (x * 2.0 * 1.0).Sum().Backward();
        Assert.Equal(seen, keeper.Seen!.ToArray());
        Assert.All(seen, v => Assert.Equal(3f, v));
    }

    // one step of a 784-512 Linear on a fixed batch; the weight's gradient (401,408 floats) is a large-object-heap array
    private static (Linear Layer, SGD Sgd, Action Step) LinearStep(int seed)
    {
        var layer = new Linear(784, 512, generator: new Generator(1));
        var sgd = new SGD(layer.Parameters(), 0.01);
        var x = Tensor.Randn([8, 784], generator: new Generator((ulong)seed));
        return (layer, sgd, () =>
        {
            sgd.ZeroGrad();
            layer.Forward(x).Square().Sum().Backward();
            sgd.Step();
        });
    }

    [Fact]
    public void ZeroGradPoolsAGradientNothingOutsideTheLibrarySaw()
    {
        StoragePool.Clear();
        var (layer, _, step) = LinearStep(2);
        step();
        var first = layer.Weight.GradInternal!._storage;
        step();
        // zero_grad (set to none) handed the array back, the next backward's weight gradient got it again
        Assert.Same(first, layer.Weight.GradInternal!._storage);

        // the same training without the pool: bit-identical weights
        StoragePool.Enabled = false;
        try
        {
            var (plain, _, plainStep) = LinearStep(2);
            plainStep();
            plainStep();
            Assert.Equal(plain.Weight.ToArray(), layer.Weight.ToArray());
        }
        finally
        {
            StoragePool.Enabled = true;
        }
    }

    [Fact]
    public void AGradientTheUserReadKeepsItsValuesAfterZeroGrad()
    {
        StoragePool.Clear();
        var (layer, sgd, step) = LinearStep(3);
        step();
        var held = layer.Weight.Grad!;            // the public property: the user may keep it
        var values = held.ToArray();
        for (int i = 0; i < 3; i++) step();
        Assert.Equal(values, held.ToArray());
        Assert.NotSame(held._storage, layer.Weight.GradInternal!._storage);

        // a tensor hook's argument is the hook's to keep
        Tensor? seen = null;
        layer.Weight.RegisterHook(g => { seen ??= g; return null; });   // the first step's
        step();
        var seenValues = seen!.ToArray();
        for (int i = 0; i < 2; i++) step();
        Assert.Equal(seenValues, seen.ToArray());

        // and a gradient the user set is theirs
        var mine = Tensor.Ones([512, 784]);
        layer.Weight.Grad = mine;
        sgd.ZeroGrad();
        for (int i = 0; i < 2; i++) step();
        Assert.All(mine.ToArray(), v => Assert.Equal(1f, v));
    }

    private sealed class Keeper : Nabla.Autograd.Function
    {
        public Tensor? Seen;

        protected override Tensor Forward(Tensor[] inputs) => inputs[0].Clone();

        protected override Tensor?[] Backward(Tensor grad)
        {
            Seen = grad;
            return [grad.Clone()];
        }
    }
}
