namespace Nabla.Autograd;

/// <summary>
/// A recorded op in the graph: the inputs it was applied to and its backward, which turns the residual of its
/// output into one gradient per input (null where an input needs none).
/// </summary>
public sealed class Node
{
    private Func<Tensor, Tensor?[]>? _backward;

    internal Node(string name, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        Name = name;
        Inputs = inputs;
        _backward = backward;
    }

    /// <summary>The op's name, as shown in errors and in <see cref="Tensor.ToString()"/> (grad_fn=&lt;Name&gt;).</summary>
    public string Name { get; }

    internal Tensor[] Inputs { get; }

    // a user Function: its gradients are always copied before they become a leaf's Grad
    internal bool External { get; init; }

    internal bool Freed => _backward is null;

    internal Tensor?[] Apply(Tensor residual)
    {
        var fn = _backward ?? throw new InvalidOperationException(
            $"Backward: trying to backward through {Name} a second time, but its saved values were freed after the first backward. Pass retainGraph: true to the first Backward call.");
        return fn(residual);
    }

    internal void Free() => _backward = null;
}
