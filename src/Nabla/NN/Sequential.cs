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
        if (Diagnostics.Profiler.IsActive) return ProfiledForward(x);
        for (int i = 0; i < _layers.Count; i++)
        {
            Tensor y;
            // the scope names the layer by its key, for a drawn autograd graph (cheap: one thread-static write)
            using (ModuleScope.Enter(s_keys.Length > i ? s_keys[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                y = _layers[i].Call(x);
            if (i > 0 && !GradMode.IsEnabled && IsDeadBetweenLayers(input, x, y, _layers[i - 1], _layers[i])) StoragePool.Return(x._storage);
            x = y;
        }
        return x;
    }

    /// <summary>
    /// Whether <paramref name="x"/>, made by layer <paramref name="producer"/> and just consumed by
    /// <paramref name="consumer"/>, can no longer be reached, so that its storage may serve the next allocation (an
    /// inference pass then reuses its activations instead of allocating them on every call). Only under
    /// <see cref="Tensor.NoGrad"/>, where no op records a graph node (in grad mode the consumer may save x for its
    /// backward even when x itself needs no gradient); x owns its storage and neither <paramref name="y"/> nor the caller's <paramref name="input"/> (which an
    /// identity layer, Dropout in eval mode, passes on) shares it, and both layers are built-in leaf modules without
    /// hooks, whose forward keeps no reference to its input or output (the user never sees it).
    /// </summary>
    private static bool IsDeadBetweenLayers(Tensor input, Tensor x, Tensor y, Module producer, Module consumer) =>
        x.OwnsStorage && !ReferenceEquals(x._storage, y._storage)
        && !ReferenceEquals(x._storage, input._storage)
        && KeepsNoTensors(producer) && KeepsNoTensors(consumer) && producer.HasNoHooks && consumer.HasNoHooks;

    // built-in leaf layers (all sealed) whose forward neither stores a tensor nor runs user code
    private static bool KeepsNoTensors(Module m) => m is Linear or ReLU or LeakyReLU or Sigmoid or Tanh or GELU or SiLU
        or Softmax or LogSoftmax or ELU or SELU or CELU or Softplus or Mish or Hardtanh or Hardswish or Hardsigmoid
        or Softsign or Conv1d or Conv2d or MaxPool1d or MaxPool2d or AvgPool1d or AvgPool2d or AdaptiveAvgPool2d
        or AdaptiveMaxPool2d or GlobalAvgPool2d or BatchNorm1d or BatchNorm2d or LayerNorm or GroupNorm or RMSNorm
        or Dropout or Dropout2d or Flatten;

    // each layer's forward as a profiler event "Type [key]" (the path of nested Sequentials joined by dots)
    private Tensor ProfiledForward(Tensor x)
    {
        for (int i = 0; i < _layers.Count; i++)
            using (Diagnostics.Profiler.ModuleScope(_layers[i], i))
                x = _layers[i].Call(x);
        return x;
    }
}
