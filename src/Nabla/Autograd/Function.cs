namespace Nabla.Autograd;

/// <summary>
/// A user-defined differentiable op, written by answering the text's three questions:
/// <list type="number">
/// <item><see cref="Forward"/>: what output does it pass on?</item>
/// <item><see cref="Backward"/>: given the residual ∇J of that output, what gradients do its parameters get, and
/// what residual does it pass back to its input? (Parameters are inputs too: Backward returns one gradient per
/// input, in order: null for an input that needs none. Each gradient has its input's shape.)</item>
/// </list>
/// Create a new instance for every application (it may keep what Backward needs in fields), then call
/// <see cref="Apply"/>. Forward runs without recording a graph; Nabla records one node for the whole op. An op with
/// several outputs derives from <see cref="MultiOutputFunction"/> instead.
/// </summary>
/// <example>
/// <code>
/// sealed class Square : Function
/// {
///     private Tensor _x = null!;
///     protected override Tensor Forward(Tensor[] inputs) { _x = inputs[0]; return _x * _x; }
///     protected override Tensor?[] Backward(Tensor residual) => [residual * 2.0 * _x];
/// }
/// var y = new Square().Apply(x);
/// </code>
/// </example>
public abstract class Function
{
    private bool _applied;

    /// <summary>The op's name in errors and graph printouts (default: the class name).</summary>
    public virtual string Name => GetType().Name;

    /// <summary>Question 1: the output, computed from the (detached) inputs.</summary>
    protected abstract Tensor Forward(Tensor[] inputs);

    /// <summary>Questions 2 and 3: one gradient per input (parameter gradients and the residual passed back).</summary>
    protected abstract Tensor?[] Backward(Tensor residual);

    /// <summary>Runs the op on <paramref name="inputs"/> and records it in the graph when any input requires grad.</summary>
    public Tensor Apply(params Tensor[] inputs)
    {
        var detached = Prepare(Name, ref _applied, inputs);
        Tensor raw;
        using (Tensor.NoGrad()) raw = Forward(detached);
        // the output must be a fresh tensor of its own, so the graph node attaches to it alone
        var output = raw.Detach();
        _saved.Bind(inputs, detached, [raw], [output]);
        // only a Function whose Backward reads SavedTensors can be differentiated again (createGraph)
        return Engine.Record(output, Name, inputs, residual => CheckGradients(Name, Backward(residual), inputs), external: true, firstOrderOnly: !_saved.Used);
    }

    private readonly SavedValues _saved = new();

    /// <summary>
    /// Keeps tensors for <see cref="Backward"/> (PyTorch's ctx.save_for_backward): call it in <see cref="Forward"/>
    /// with inputs or the output; Backward reads them back from <see cref="SavedTensors"/>. Under createGraph
    /// (second-order gradients) they come back attached to the graph, so Backward's ops are recorded and can be
    /// differentiated; a Function that keeps its tensors in fields instead refuses double backward.
    /// </summary>
    protected void SaveForBackward(params Tensor[] tensors) => _saved.Save(Name, tensors);

    /// <summary>The tensors given to <see cref="SaveForBackward"/>, in order (inputs and outputs attached to the graph under createGraph).</summary>
    protected IReadOnlyList<Tensor> SavedTensors => _saved.Get(Name);

    /// <summary>The once-only check and the detached inputs, shared with <see cref="MultiOutputFunction"/>.</summary>
    internal static Tensor[] Prepare(string name, ref bool applied, Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (applied) throw new InvalidOperationException($"{name}: a Function instance can be applied once; create a new one per call.");
        applied = true;
        return inputs.Select(t => t.Detach()).ToArray();
    }

    /// <summary>One gradient per input, each null or of its input's shape; errors name the function.</summary>
    internal static Tensor?[] CheckGradients(string name, Tensor?[] grads, Tensor[] inputs)
    {
        if (grads.Length != inputs.Length)
            throw new InvalidOperationException($"{name}.Backward returned {grads.Length} gradients for {inputs.Length} inputs.");
        for (int i = 0; i < grads.Length; i++)
        {
            if (grads[i] is { } g && !ShapeUtil.SameShape(g.Shape, inputs[i].Shape))
                throw new InvalidOperationException($"{name}.Backward returned a gradient of shape {ShapeUtil.Format(g.Shape)} for input {i} of shape {ShapeUtil.Format(inputs[i].Shape)}.");
        }
        return grads;
    }
}

/// <summary>What a <see cref="Function"/> or <see cref="MultiOutputFunction"/> saved for backward, re-attached to the graph under createGraph.</summary>
internal sealed class SavedValues
{
    private Tensor[]? _saved;
    private Tensor[] _from = [], _to = [];

    public bool Used => _saved is not null;

    public void Save(string name, Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Any(t => t is null)) throw new ArgumentException($"{name}.SaveForBackward: a saved tensor is null.");
        _saved = (Tensor[])tensors.Clone();
    }

    // the detached inputs and raw outputs Forward saw, and the graph tensors they stand for
    public void Bind(Tensor[] inputs, Tensor[] detached, Tensor[] raw, Tensor[] outputs)
    {
        _from = [.. detached, .. raw];
        _to = [.. inputs, .. outputs];
    }

    public IReadOnlyList<Tensor> Get(string name)
    {
        if (_saved is null) throw new InvalidOperationException($"{name}: SavedTensors was read, but Forward did not call SaveForBackward.");
        if (!GradMode.IsEnabled) return _saved;
        return _saved.Select(t =>
        {
            int i = Array.FindIndex(_from, f => ReferenceEquals(f, t));
            return i >= 0 ? _to[i] : t;
        }).ToArray();
    }
}
