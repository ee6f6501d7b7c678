using Nabla.Autograd;

namespace Nabla.NN;

/// <summary>Runs modules one after another; their keys are 0, 1, 2, ... as in PyTorch.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];
    private static readonly string[] s_keys = [.. Enumerable.Range(0, 32).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>Creates a sequence of <paramref name="layers"/>.</summary>
    public Sequential(params Module[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>Appends a layer (key: its position).</summary>
    public Sequential Add(Module layer)
    {
        RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
        _layers.Add(layer);
        return this;
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <summary>The layer at <paramref name="index"/>.</summary>
    public Module this[int index] => _layers[index];

    /// <summary>Feeds each layer's output to the next. Shape: from the first layer's input to the last layer's output.</summary>
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        bool profiling = Diagnostics.Profiler.IsActive;
        Tensor before = input;   // the previous layer's input
        for (int i = 0; i < _layers.Count; i++)
        {
            Tensor y;
            bool fused = FusesWithRelu(i);
            // while a profiler records, each layer's forward is an event "Type [key]" (nested Sequentials' keys joined
            // by dots); otherwise the scope names the layer by its key, for a drawn autograd graph (one thread-static write)
            if (profiling)
                using (Diagnostics.Profiler.ModuleScope(_layers[i], i))
                    y = fused ? ((BatchNormBase)_layers[i]).ForwardRelu(x) : _layers[i].Call(x);
            else
                using (ModuleScope.Enter(s_keys.Length > i ? s_keys[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                    y = fused ? ((BatchNormBase)_layers[i]).ForwardRelu(x) : _layers[i].Call(x);
            if (i > 0) ReleaseDead(input, before, x, y, i);
            (before, x) = (x, y);
            if (!fused) continue;
            // the ReLU layer: its work was done by the BatchNorm layer's op; while profiling it is still an (empty) event
            i++;
            if (profiling)
                using (Diagnostics.Profiler.ModuleScope(_layers[i], i)) { }
            before = x;
        }
        return x;
    }

    /// <summary>
    /// Whether layer i is BatchNorm1d/2d and layer i + 1 a ReLU, neither with hooks: the pair then runs as one op
    /// (<see cref="BatchNormBase.ForwardRelu"/>), which saves a pass over the activation forward and one backward.
    /// Measured (Zen 5, 2 threads): the conv-BN CNN step's ReLU forward and backward took 2.8 of its 30 ms. Linear +
    /// ReLU stays two ops: fused in the GEMM's epilogue it gained 2% of the MLP step, and the drawn graph and profile of
    /// an MLP, the text's own network, would lose their ReLU.
    /// </summary>
    private bool FusesWithRelu(int i) =>
        s_fuseRelu && i + 1 < _layers.Count && _layers[i] is (BatchNorm1d or BatchNorm2d) && _layers[i + 1] is ReLU
        && _layers[i].HasNoHooks && _layers[i + 1].HasNoHooks;

    /// <summary>Tests set it to false to run BatchNorm and ReLU layers as separate ops.</summary>
    internal static bool s_fuseRelu = true;

    /// <summary>
    /// Gives the storage of <paramref name="x"/> (layer i − 1's output, which layer i just turned into
    /// <paramref name="y"/>) back for reuse when it is out of the user's reach: both layers are built-in leaf modules
    /// without hooks, whose forward keeps no reference to its input or output (the user never sees x), and neither
    /// y nor the caller's <paramref name="input"/> (which an identity layer, Dropout in eval mode, passes on) shares
    /// the storage. In grad mode x may be a view (Flatten's, GlobalAvgPool2d's): the storage is then its owner's, made
    /// inside layer i − 1, or layer i − 2's output (<paramref name="before"/>) when layer i − 2 qualifies too.
    /// </summary>
    private void ReleaseDead(Tensor input, Tensor before, Tensor x, Tensor y, int i)
    {
        if (!IsPlain(_layers[i - 1]) || !IsPlain(_layers[i])) return;
        var owner = Owner(x);
        if (owner is null || Shares(owner, y) || Shares(owner, input)) return;
        if (Shares(owner, before) && (!ReferenceEquals(owner, before) || i < 2 || !IsPlain(_layers[i - 2]))) return;
        // Under NoGrad no op recorded a node that could read x: its storage goes back at once. In grad mode the graph
        // still reads it (the consumer's backward takes its input, an activation's backward may take its output), so
        // it goes back once a backward that recycles has run and freed both the owner's node and the consumer's node
        // that reads x: a training step's activations then serve the next step instead of being allocated anew. Only
        // when the owner's node is single-output and the consumer's way from x to y is a chain of single ops.
        if (!GradMode.IsEnabled)
        {
            StoragePool.Return(owner._storage);
            return;
        }
        if (owner.GradFn is { OutputCount: 1 } producer && Reader(x, y) is { } reader) producer.ReleaseAfterBackward(owner._storage, reader);
    }

    private static bool Shares(Tensor a, Tensor b) => ReferenceEquals(a._storage, b._storage);

    private static bool IsPlain(Module m) => KeepsNoTensors(m) && m.HasNoHooks;

    // The tensor that owns x's storage: x itself, or (in grad mode, where views are recorded) the tensor a chain of
    // single-input view nodes leads back to.
    private static Tensor? Owner(Tensor x)
    {
        if (x.OwnsStorage) return x;
        if (!GradMode.IsEnabled) return null;
        var t = x;
        for (int step = 0; step < 4; step++)
        {
            if (t.GradFn is not { Inputs.Length: 1 } node) return null;
            t = node.Inputs[0];
            if (!Shares(t, x)) return null;
            if (t.OwnsStorage) return t;
        }
        return null;
    }

    // The node that reads x on the consumer's way to y: y's node, or the node before it where the consumer ends in
    // a view or another single op (GlobalAvgPool2d pools, then flattens). Follows each node's first input that has
    // a node of its own, a few steps at most.
    private static Node? Reader(Tensor x, Tensor y)
    {
        var node = y.GradFn;
        for (int step = 0; node is not null && step < 3; step++)
        {
            Node? next = null;
            foreach (var t in node.Inputs)
            {
                if (ReferenceEquals(t, x)) return node;
                next ??= t.GradFn;
            }
            node = next;
        }
        return null;
    }

    // built-in leaf layers (all sealed) whose forward neither stores a tensor nor runs user code
    private static bool KeepsNoTensors(Module m) => m is Linear or ReLU or LeakyReLU or Sigmoid or Tanh or GELU or SiLU
        or Softmax or LogSoftmax or ELU or SELU or CELU or Softplus or Mish or Hardtanh or Hardswish or Hardsigmoid
        or Softsign or Conv1d or Conv2d or MaxPool1d or MaxPool2d or AvgPool1d or AvgPool2d or AdaptiveAvgPool2d
        or AdaptiveMaxPool2d or GlobalAvgPool2d or BatchNorm1d or BatchNorm2d or LayerNorm or GroupNorm or RMSNorm
        or Dropout or Dropout2d or Flatten;
}
