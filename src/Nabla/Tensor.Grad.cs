using Nabla.Autograd;

namespace Nabla;

public partial class Tensor
{
    /// <summary>Enters a scope in which ops record no graph: <c>using (Tensor.NoGrad()) { ... }</c>.</summary>
    public static NoGradScope NoGrad() => new(true);

    // a NoGrad scope only when active is true (otherwise a no-op scope)
    internal static NoGradScope NoGradIf(bool active) => new(active);

    /// <summary>Enters a scope in which ops record the graph even inside <see cref="NoGrad"/> (torch.enable_grad): <c>using (Tensor.EnableGrad()) { ... }</c>.</summary>
    public static EnableGradScope EnableGrad() => new(GradMode.Enable(), true);

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor, for chaining.</summary>
    public Tensor RequireGrad(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    // run by the engine on the residual of this tensor, in order, before it is used (Tensor.RegisterHook)
    internal List<Func<Tensor, Tensor?>>? GradHooks { get; private set; }

    /// <summary>
    /// Registers <paramref name="hook"/> to run each time a gradient with respect to this tensor is computed (PyTorch's
    /// <c>Tensor.register_hook</c>): it receives the gradient and may return a replacement of the same shape and dtype
    /// (null keeps it). The replacement is what flows on: into this leaf's <see cref="Grad"/>, into the op that made
    /// this tensor, into <see cref="Autograd.Autograd.Grad"/>'s result. Hooks run in registration order, also under
    /// <c>createGraph</c> (then with grad mode on, so they may be differentiated).
    /// </summary>
    /// <returns>A handle whose <see cref="RemovableHandle.Remove"/> unregisters the hook.</returns>
    /// <exception cref="InvalidOperationException">This tensor does not require grad.</exception>
    public RemovableHandle RegisterHook(Func<Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (!RequiresGrad)
            throw new InvalidOperationException($"RegisterHook: cannot register a hook on a tensor that does not require grad (shape {ShapeUtil.Format(_shape)}).");
        (GradHooks ??= []).Add(hook);
        return new RemovableHandle(() => GradHooks.Remove(hook));
    }

    // run by the engine once this leaf's Grad is final for the backward pass in progress
    internal List<Action<Tensor>>? PostAccumulateGradHooks { get; private set; }

    /// <summary>
    /// Registers <paramref name="hook"/> to run, with this tensor, each time a backward pass has finished adding into
    /// this leaf's <see cref="Grad"/> (PyTorch's <c>register_post_accumulate_grad_hook</c>): no later part of that pass
    /// changes it, so the hook may read, rescale or send it (data-parallel training starts its all-reduce there).
    /// </summary>
    /// <returns>A handle whose <see cref="RemovableHandle.Remove"/> unregisters the hook.</returns>
    /// <exception cref="InvalidOperationException">This tensor is not a leaf that requires grad.</exception>
    public RemovableHandle RegisterPostAccumulateGradHook(Action<Tensor> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        if (!IsLeaf || !RequiresGrad)
            throw new InvalidOperationException($"RegisterPostAccumulateGradHook: only a leaf tensor that requires grad accumulates a Grad; this one {(IsLeaf ? "does not require grad" : $"was made by {GradFn!.Name}")}.");
        (PostAccumulateGradHooks ??= []).Add(hook);
        return new RemovableHandle(() => PostAccumulateGradHooks.Remove(hook));
    }
}
