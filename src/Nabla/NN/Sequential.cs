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
            // the scope names the layer by its key, for a drawn autograd graph (cheap: one thread-static write)
            using (ModuleScope.Enter(s_keys.Length > i ? s_keys[i] : i.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                x = _layers[i].Call(x);
        }
        return x;
    }

    // each layer's forward as a profiler event "Type [key]" (the path of nested Sequentials joined by dots)
    private Tensor ProfiledForward(Tensor x)
    {
        for (int i = 0; i < _layers.Count; i++)
            using (Diagnostics.Profiler.ModuleScope(_layers[i], i))
                x = _layers[i].Call(x);
        return x;
    }
}
