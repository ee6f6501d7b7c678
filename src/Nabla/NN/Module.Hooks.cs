using Nabla.Autograd;

namespace Nabla.NN;

// Module hooks (PyTorch's register_forward_pre_hook, register_forward_hook, register_full_backward_hook). They run when
// the module is invoked through Call (PyTorch's module(x)); Sequential, Trainer and the metrics call it.
public abstract partial class Module
{
    private readonly List<Func<Module, Tensor, Tensor?>> _forwardPreHooks = [];
    private readonly List<Func<Module, Tensor, Tensor, Tensor?>> _forwardHooks = [];
    private readonly List<Func<Module, Tensor?, Tensor, Tensor?>> _backwardHooks = [];

    /// <summary>No forward, pre-forward or backward hook is registered on this module itself.</summary>
    internal bool HasNoHooks => _forwardPreHooks.Count == 0 && _forwardHooks.Count == 0 && _backwardHooks.Count == 0;

    /// <summary>
    /// Runs the module with its hooks (PyTorch's <c>module(x)</c>): forward pre-hooks, <see cref="Forward"/>, forward
    /// hooks, and wires the full backward hooks into the graph. Calling <see cref="Forward"/> directly runs no hooks.
    /// Shape: as <see cref="Forward"/>.
    /// </summary>
    public Tensor Call(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        foreach (var hook in _forwardPreHooks.ToArray()) input = hook(this, input) ?? input;
        BackwardHooks? backward = _backwardHooks.Count > 0 && GradMode.IsEnabled ? new BackwardHooks(this) : null;
        if (backward is not null) input = backward.WrapInput(input);
        var output = Forward(input);
        foreach (var hook in _forwardHooks.ToArray()) output = hook(this, input, output) ?? output;
        if (backward is not null) output = backward.WrapOutput(output);
        return output;
    }

    /// <summary>
    /// Registers <paramref name="hook"/>(module, input) to run before each <see cref="Call"/>'s Forward; a non-null
    /// result replaces the input (PyTorch's <c>register_forward_pre_hook</c>).
    /// </summary>
    /// <returns>A handle whose <see cref="RemovableHandle.Remove"/> unregisters the hook.</returns>
    public RemovableHandle RegisterForwardPreHook(Func<Module, Tensor, Tensor?> hook) => AddHook(_forwardPreHooks, hook);

    /// <summary>
    /// Registers <paramref name="hook"/>(module, input, output) to run after each <see cref="Call"/>'s Forward; a
    /// non-null result replaces the output (PyTorch's <c>register_forward_hook</c>).
    /// </summary>
    /// <returns>A handle whose <see cref="RemovableHandle.Remove"/> unregisters the hook.</returns>
    public RemovableHandle RegisterForwardHook(Func<Module, Tensor, Tensor, Tensor?> hook) => AddHook(_forwardHooks, hook);

    /// <summary>
    /// Registers <paramref name="hook"/>(module, gradInput, gradOutput) to run when the gradient with respect to the
    /// module's input has been computed (PyTorch's <c>register_full_backward_hook</c>): gradOutput is the gradient of
    /// the output, gradInput that of the input (null when the input does not require grad; the hook then runs once
    /// gradOutput is known). A non-null result replaces gradInput. Applies to calls made through <see cref="Call"/>
    /// with grad mode on, registered before the call.
    /// </summary>
    /// <returns>A handle whose <see cref="RemovableHandle.Remove"/> unregisters the hook.</returns>
    public RemovableHandle RegisterFullBackwardHook(Func<Module, Tensor?, Tensor, Tensor?> hook) => AddHook(_backwardHooks, hook);

    private static RemovableHandle AddHook<T>(List<T> hooks, T hook) where T : Delegate
    {
        ArgumentNullException.ThrowIfNull(hook);
        hooks.Add(hook);
        return new RemovableHandle(() => hooks.Remove(hook));
    }

    // Identity nodes around one call (PyTorch's BackwardHookFunction): the output's catches gradOutput, the input's
    // runs the hooks with gradInput.
    private sealed class BackwardHooks(Module module)
    {
        private Tensor? _gradOutput, _output;
        private bool _inputWrapped;

        public Tensor WrapInput(Tensor input)
        {
            if (!input.RequiresGrad) return input;
            _inputWrapped = true;
            return Engine.Record(input.Detach(), "BackwardHookFunctionBackward", [input], g => [Run(g, input)]);
        }

        public Tensor WrapOutput(Tensor output)
        {
            if (!output.RequiresGrad) return output;
            _output = output;
            return Engine.Record(output.Detach(), "BackwardHookFunctionBackward", [output], g =>
            {
                _gradOutput = g;
                if (!_inputWrapped) Run(null, null);
                return [g];
            });
        }

        private Tensor? Run(Tensor? gradInput, Tensor? input)
        {
            // the output's gradient is known before the input's (its node runs first); an output that received none
            // (or one that needs no grad) counts as zeros
            var gradOutput = _gradOutput ?? (_output is null ? Tensor.Zeros([0], gradInput?.DType ?? DType.Float32) : Tensor.ZerosLike(_output));
            foreach (var hook in module._backwardHooks.ToArray())
            {
                var replaced = hook(module, gradInput, gradOutput);
                if (replaced is null) continue;
                if (input is null || !ShapeUtil.SameShape(replaced.Shape, input.Shape))
                    throw new InvalidOperationException($"{module.GetType().Name} backward hook: returned a gradInput of shape {ShapeUtil.Format(replaced.Shape)} but the input {(input is null ? "does not require grad" : $"has shape {ShapeUtil.Format(input.Shape)}")}.");
                gradInput = replaced;
            }
            return gradInput;
        }
    }
}
