namespace Nabla.Autograd;

/// <summary>
/// A user-defined differentiable op with several outputs (PyTorch's autograd.Function returning a tuple): the same
/// contract as <see cref="Function"/>, with <see cref="Forward"/> returning the outputs and <see cref="Backward"/>
/// receiving one residual per output, in order. An output that nothing used receives zeros of its shape (PyTorch's
/// default, materialize_grads), so Backward never sees null. Nabla records one graph node for all outputs, and each
/// output's residual is the sum over all its successors.
/// </summary>
/// <example>
/// <code>
/// sealed class SinCos : MultiOutputFunction
/// {
///     private Tensor _x = null!;
///     protected override Tensor[] Forward(Tensor[] inputs) { _x = inputs[0]; return [_x.Sin(), _x.Cos()]; }
///     protected override Tensor?[] Backward(Tensor[] residuals) => [residuals[0] * _x.Cos() - residuals[1] * _x.Sin()];
/// }
/// var outputs = new SinCos().Apply(x);   // outputs[0] = sin x, outputs[1] = cos x
/// </code>
/// </example>
public abstract class MultiOutputFunction
{
    private bool _applied;

    /// <summary>The op's name in errors and graph printouts (default: the class name).</summary>
    public virtual string Name => GetType().Name;

    /// <summary>Question 1: the outputs (at least one), computed from the (detached) inputs.</summary>
    protected abstract Tensor[] Forward(Tensor[] inputs);

    /// <summary>Questions 2 and 3: from one residual per output (zeros for an unused one), one gradient per input.</summary>
    protected abstract Tensor?[] Backward(Tensor[] residuals);

    /// <summary>
    /// Runs the op on <paramref name="inputs"/> and records it in the graph when any input requires grad.
    /// Shape: each output as <see cref="Forward"/> returns it.
    /// </summary>
    public Tensor[] Apply(params Tensor[] inputs)
    {
        var detached = Function.Prepare(Name, ref _applied, inputs);
        Tensor[] raw;
        using (Tensor.NoGrad()) raw = Forward(detached);
        if (raw is null || raw.Length == 0) throw new InvalidOperationException($"{Name}.Forward returned no outputs; it must return at least one tensor.");
        // fresh tensors of their own, so each output knows only this node (even when Forward returned one tensor twice)
        var outputs = raw.Select(t => t.Detach()).ToArray();
        _saved.Bind(inputs, detached, raw, outputs);
        var shapes = outputs.Select(t => t.Shape.ToArray()).ToArray();
        var dtypes = outputs.Select(t => t.DType).ToArray();
        return Engine.Record(outputs, Name, inputs, residuals =>
        {
            var full = new Tensor[residuals.Length];
            for (int i = 0; i < full.Length; i++) full[i] = residuals[i] ?? Tensor.Zeros(shapes[i], dtypes[i]);
            return Function.CheckGradients(Name, Backward(full), inputs);
        }, external: true, firstOrderOnly: !_saved.Used);
    }

    private readonly SavedValues _saved = new();

    /// <summary>Keeps tensors (inputs or outputs) for <see cref="Backward"/>, as <see cref="Function"/>'s SaveForBackward: needed for double backward.</summary>
    protected void SaveForBackward(params Tensor[] tensors) => _saved.Save(Name, tensors);

    /// <summary>The tensors given to <see cref="SaveForBackward"/>, in order (attached to the graph under createGraph).</summary>
    protected IReadOnlyList<Tensor> SavedTensors => _saved.Get(Name);
}
