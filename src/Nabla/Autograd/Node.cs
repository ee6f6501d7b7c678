namespace Nabla.Autograd;

/// <summary>
/// A recorded op in the graph: the inputs it was applied to and its backward, which turns the residuals of its
/// outputs into one gradient per input (null where an input needs none). Most ops have one output; an op with several
/// (the recurrent layer's output sequence and final states) is one node, and each output tensor knows its index.
/// </summary>
public sealed class Node
{
    // exactly one of the two is set until the node is freed
    private Func<Tensor, Tensor?[]>? _backward;
    private Func<Tensor?[], Tensor?[]>? _backwardMany;

    internal Node(string name, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        Name = name;
        Inputs = inputs;
        Scope = NN.ModuleScope.Current;
        OutputCount = 1;
        _backward = backward;
    }

    internal Node(string name, Tensor[] inputs, int outputCount, Func<Tensor?[], Tensor?[]> backward)
    {
        Name = name;
        Inputs = inputs;
        Scope = NN.ModuleScope.Current;
        OutputCount = outputCount;
        _backwardMany = backward;
    }

    /// <summary>The op's name, as shown in errors and in <see cref="Tensor.ToString()"/> (grad_fn=&lt;Name&gt;).</summary>
    public string Name { get; }

    /// <summary>The <see cref="NN.ModuleScope"/> path current when the op ran (the module that made it), or null.</summary>
    public string? Scope { get; }

    /// <summary>How many tensors the op returned (each has this node as its <see cref="Tensor.GradFn"/>).</summary>
    public int OutputCount { get; }

    internal Tensor[] Inputs { get; }

    // a user Function: its gradients are always copied before they become a leaf's Grad
    internal bool External { get; init; }

    // the backward runs kernels outside the graph: with createGraph its gradients cannot be differentiated again
    internal bool FirstOrderOnly { get; init; }
    // the layer (state-dict path) whose forward recorded the node, while a profiler records: its backward's event says it
    internal string? Module { get; init; }

    internal bool Freed => _backward is null && _backwardMany is null;

    internal InvalidOperationException FreedError() => new(
        $"Backward: trying to backward through {Name} a second time, but its saved values were freed after the first backward. Pass retainGraph: true to the first Backward call.");

    /// <summary>The backward of a single-output op.</summary>
    internal Tensor?[] Apply(Tensor residual) => (_backward ?? throw FreedError())(residual);

    /// <summary>The backward of a multi-output op: one residual per output, null for an output that received none.</summary>
    internal Tensor?[] Apply(Tensor?[] residuals) => (_backwardMany ?? throw FreedError())(residuals);

    // called once when the node is freed (its backward can no longer run): an op gives back what it kept for it
    internal Action? OnFree { get; set; }

    // Storage that only this node's backward still reads: a buffer the op saved (max pooling's arg-max positions), or
    // an activation nothing else can reach (Sequential's, between built-in layers), given back to StoragePool once
    // a backward that recycles has run and freed this node and, for an activation, its consumer node too.
    private (Array Storage, Node? After) _release;
    private List<(Array Storage, Node? After)>? _releaseMore;

    /// <summary>
    /// Gives <paramref name="storage"/> back to <see cref="StoragePool"/> when a recycling backward (no retainGraph,
    /// createGraph or Grad capture) frees this node, provided <paramref name="after"/> (when given) is freed by then.
    /// The caller guarantees nothing else reads the storage once both nodes' backwards have run.
    /// </summary>
    internal void ReleaseAfterBackward(Array storage, Node? after = null)
    {
        if (_release.Storage is null) _release = (storage, after);
        else (_releaseMore ??= []).Add((storage, after));
    }

    /// <summary>
    /// Frees the node. <paramref name="grads"/>: the gradients its backward just returned, when the pass recycles
    /// (then its released storage goes back to the pool, unless a gradient shares it); null otherwise.
    /// </summary>
    internal void Free(Tensor?[]? grads = null)
    {
        (_backward, _backwardMany) = (null, null);
        var onFree = OnFree;
        OnFree = null;
        onFree?.Invoke();
        if (_release.Storage is null) return;
        if (grads is not null && !RanUnderCreateGraph)
        {
            Return(_release, grads);
            if (_releaseMore is not null) foreach (var r in _releaseMore) Return(r, grads);
        }
        (_release, _releaseMore) = (default, null);
    }

    // set when a createGraph pass ran this node's backward (keeping it with retainGraph): the graph that pass recorded
    // may have saved what the node released, and can run without meeting a freed node, so nothing is returned
    internal bool RanUnderCreateGraph { get; set; }

    private static void Return((Array Storage, Node? After) r, Tensor?[] grads)
    {
        if (r.After is { Freed: false }) return;
        foreach (var g in grads)
            if (g is not null && ReferenceEquals(g._storage, r.Storage)) return;
        StoragePool.Return(r.Storage);
    }
}
