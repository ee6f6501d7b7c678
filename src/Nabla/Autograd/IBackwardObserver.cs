namespace Nabla.Autograd;

/// <summary>
/// Watches one backward pass (set as <see cref="Engine.Observer"/>): sees each residual an op sends to one of its inputs,
/// and each tensor's summed residual (the sum over its successors) when the walk reaches it. Runs under NoGrad; must
/// not keep or modify the tensors it is shown (the engine recycles their storage).
/// </summary>
internal interface IBackwardObserver
{
    /// <summary>The gradient <paramref name="node"/>'s backward returned for its input <paramref name="input"/>.</summary>
    void Edge(Node node, int input, Tensor gradient);

    /// <summary>The residual of <paramref name="tensor"/> summed over all its successors.</summary>
    void Residual(Tensor tensor, Tensor summed);
}
