namespace Nabla.Autograd;

/// <summary>
/// torch.autograd's functions: backward from several outputs at once, and the gradients of outputs with respect to
/// chosen inputs returned rather than accumulated. With <c>createGraph</c> the backward pass is itself recorded as
/// graph ops, so a gradient can be differentiated again: a gradient penalty ‖∇ₓD(x)‖², a Hessian-vector product.
/// A convolution's input gradient is a recorded ConvTranspose2d (a penalty through a conv critic works). Ops whose
/// backward runs in fused kernels only (a convolution's weight gradient, pooling, the normalisation layers, the recurrent layer,
/// embedding, CTC, BCE, PReLU, ±∞ norms) give first-order gradients under <c>createGraph</c> too, but differentiating
/// those gradients again raises <see cref="NotSupportedException"/> naming the op.
/// </summary>
/// <example>
/// <code>
/// var g = Autograd.Grad([d.Forward(x).Sum()], [x], createGraph: true)[0]!;   // ∇ₓD(x), a graph tensor
/// var penalty = (g.Square().Sum(1).Sqrt() - 1.0).Square().Mean();
/// penalty.Backward();                                                   // second-order gradients into D's parameters
/// </code>
/// </example>
public static class Autograd
{
    /// <summary>
    /// Backpropagates from every tensor in <paramref name="tensors"/> in one pass (torch.autograd.backward): the
    /// residuals they send back are summed, and leaves accumulate into <see cref="Tensor.Grad"/> as with
    /// <see cref="Tensor.Backward"/>.
    /// </summary>
    /// <param name="tensors">The roots; each must require grad.</param>
    /// <param name="gradTensors">One gradient per root, of its shape and dtype; null (or a null entry) means 1 for a one-element root.</param>
    /// <param name="retainGraph">Keep the graph for another backward (default: <paramref name="createGraph"/>).</param>
    /// <param name="createGraph">Record the backward pass so the resulting gradients can be differentiated.</param>
    public static void Backward(IReadOnlyList<Tensor> tensors, IReadOnlyList<Tensor?>? gradTensors = null, bool? retainGraph = null, bool createGraph = false) =>
        Engine.Backward("Backward", tensors, gradTensors, retainGraph ?? createGraph, createGraph);

    /// <summary>
    /// The sum over <paramref name="outputs"/> of their gradients with respect to each of <paramref name="inputs"/>
    /// (torch.autograd.grad), returned in input order; no <see cref="Tensor.Grad"/> is read or written. Only the part of
    /// the graph that leads to the inputs runs. Tensor hooks (<see cref="Tensor.RegisterHook"/>) on the way apply.
    /// Shape: each result has its input's shape.
    /// </summary>
    /// <param name="outputs">The differentiated tensors; each must require grad.</param>
    /// <param name="inputs">The tensors to differentiate with respect to (leaves or intermediate results); each must require grad.</param>
    /// <param name="gradOutputs">One gradient per output (the vector of the vector-Jacobian product); null entries mean 1 for one-element outputs.</param>
    /// <param name="retainGraph">Keep the graph for another backward (default: <paramref name="createGraph"/>).</param>
    /// <param name="createGraph">Record the backward pass: the results are graph tensors that can be differentiated (higher-order gradients).</param>
    /// <param name="allowUnused">Return null for an input the outputs do not depend on, instead of throwing.</param>
    /// <exception cref="InvalidOperationException">An input was not used to compute the outputs and <paramref name="allowUnused"/> is false.</exception>
    public static Tensor?[] Grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? gradOutputs = null,
        bool? retainGraph = null, bool createGraph = false, bool allowUnused = false)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var grads = Engine.Grad(outputs, inputs, gradOutputs, retainGraph ?? createGraph, createGraph);
        if (!allowUnused)
            for (int i = 0; i < grads.Length; i++)
                if (grads[i] is null)
                    throw new InvalidOperationException($"Grad: input {i} (shape {ShapeUtil.Format(inputs[i].Shape)}) was not used to compute the outputs; pass allowUnused: true to get null for it.");
        return grads;
    }
}
