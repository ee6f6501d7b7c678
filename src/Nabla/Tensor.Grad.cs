using Nabla.Autograd;

namespace Nabla;

public partial class Tensor
{
    /// <summary>Enters a scope in which ops record no graph: <c>using (Tensor.NoGrad()) { ... }</c>.</summary>
    public static NoGradScope NoGrad() => new(true);

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor, for chaining.</summary>
    public Tensor RequireGrad(bool value = true)
    {
        RequiresGrad = value;
        return this;
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
