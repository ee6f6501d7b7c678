namespace Nabla.Autograd;

/// <summary>
/// The backward pass: visits the graph's nodes in reverse topological order and adds up, for every tensor, the
/// residuals its successors send back (the text's ∇fJ = Σk ∂J/∂hk·∂hk/∂f) before passing its own on.
/// </summary>
internal static class Engine
{
    /// <summary>Records <paramref name="output"/> as made by an op, when grad mode is on and an input needs a gradient.</summary>
    public static Tensor Record(Tensor output, string name, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, bool external = false)
    {
        if (!GradMode.IsEnabled) return output;
        bool any = false;
        foreach (var t in inputs) any |= t.RequiresGrad;
        if (!any) return output;
        output.GradFn = new Node(name, inputs, backward) { External = external };
        output.RequiresGrad = true;
        return output;
    }

    /// <summary>True when an op's result will need a backward (lets ops skip saving values otherwise).</summary>
    public static bool NeedsGrad(Tensor a) => GradMode.IsEnabled && a.RequiresGrad;

    public static bool NeedsGrad(Tensor a, Tensor b) => GradMode.IsEnabled && (a.RequiresGrad || b.RequiresGrad);

    public static void Backward(Tensor root, Tensor? gradient, bool retainGraph)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException("Backward: the tensor does not require grad and has no GradFn; set RequiresGrad on its inputs (and do not compute it inside NoGrad).");
        if (gradient is null)
        {
            if (root.Numel != 1)
                throw new InvalidOperationException($"Backward: a gradient can be created implicitly only for a scalar output; this one has shape {ShapeUtil.Format(root.Shape)}. Pass the upstream gradient.");
            gradient = Tensor.OnesLike(root);
        }
        else if (!ShapeUtil.SameShape(gradient.Shape, root.Shape) || gradient.DType != root.DType)
        {
            throw new ArgumentException($"Backward: the gradient has shape {ShapeUtil.Format(gradient.Shape)} ({gradient.DType.Name()}) but the output has shape {ShapeUtil.Format(root.Shape)} ({root.DType.Name()}).");
        }

        using var _ = Tensor.NoGrad();
        var order = TopologicalOrder(root);
        var recorder = StoragePool.BeginRecording();
        try
        {
            Run(root, gradient, order, retainGraph);
        }
        finally
        {
            StoragePool.EndRecording(recorder);
        }
    }

    // Storage this pass allocated and nothing can reach any more goes back to the pool (StoragePool.Recycle checks
    // the allocation): a used-up residual the engine owns, unless a backward passed it on or viewed it, a leaf or
    // RetainGrad keeps it, or a user Function saw it.
    private static void Run(Tensor root, Tensor gradient, List<Tensor> order, bool retainGraph)
    {
        // each residual carries whether the engine owns its storage outright (then a leaf may keep it as its Grad)
        var residuals = new Dictionary<Tensor, (Tensor G, bool Owned)>(ReferenceEqualityComparer.Instance) { [root] = (gradient, false) };
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            if (!residuals.Remove(t, out var entry)) continue;
            var residual = entry.G;
            if (t.IsLeaf || t.RetainsGrad) Accumulate(t, residual, owned: entry.Owned && t.IsLeaf);
            if (t.IsLeaf)
            {
                // added into an existing Grad: used up
                if (entry.Owned && !ReferenceEquals(t.Grad!._storage, residual._storage)) StoragePool.Recycle(residual);
                continue;
            }
            var node = t.GradFn!;
            var grads = node.Apply(residual);
            if (!retainGraph) node.Free();
            if (grads.Length != node.Inputs.Length)
                throw new InvalidOperationException($"Backward of {node.Name} returned {grads.Length} gradients for {node.Inputs.Length} inputs.");
            if (entry.Owned && !t.RetainsGrad && !node.External && !SharesStorage(grads, residual)) StoragePool.Recycle(residual);
            for (int k = 0; k < grads.Length; k++)
            {
                var input = node.Inputs[k];
                var g = grads[k];
                if (g is null || !input.RequiresGrad) continue;
                if (!ShapeUtil.SameShape(g.Shape, input.Shape))
                    throw new InvalidOperationException($"Backward of {node.Name} returned a gradient of shape {ShapeUtil.Format(g.Shape)} for input {k} of shape {ShapeUtil.Format(input.Shape)}.");
                // the sum over successors: a tensor that feeds several ops receives the sum of their residuals
                bool owned = IsOwned(node, g, residual, grads, k);
                if (residuals.TryGetValue(input, out var acc))
                {
                    residuals[input] = (acc.G + g, true);
                    if (acc.Owned) StoragePool.Recycle(acc.G);
                    if (owned) StoragePool.Recycle(g);
                }
                else
                {
                    residuals[input] = (g, owned);
                }
            }
        }
    }

    private static bool SharesStorage(Tensor?[] grads, Tensor t)
    {
        foreach (var g in grads)
            if (g is not null && ReferenceEquals(g._storage, t._storage)) return true;
        return false;
    }

    // A gradient the engine may hand to a leaf without copying: freshly allocated by a built-in op's backward, not the
    // residual passed through, and not returned for another input too (user Functions may return tensors they keep).
    private static bool IsOwned(Node node, Tensor g, Tensor residual, Tensor?[] grads, int k)
    {
        if (node.External || !g.OwnsStorage || ReferenceEquals(g._storage, residual._storage)) return false;
        for (int j = 0; j < grads.Length; j++)
            if (j != k && grads[j] is { } other && ReferenceEquals(other._storage, g._storage)) return false;
        return true;
    }

    private static void Accumulate(Tensor t, Tensor g, bool owned)
    {
        if (t.Grad is null)
        {
            t.Grad = owned ? g : g.Clone();
        }
        else
        {
            // gradients accumulate (+=); zeroing is the caller's explicit ZeroGrad
            t.Grad.AddInPlace(g);
        }
    }

    // Iterative depth-first search, so deep graphs (long RNN unrolls) do not overflow the stack.
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.GradFn?.Inputs ?? [];
            if (t.GradFn is { Freed: true })
                throw new InvalidOperationException($"Backward: trying to backward through {t.GradFn.Name} a second time, but its saved values were freed after the first backward. Pass retainGraph: true to the first Backward call.");
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var child = inputs[next];
                if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else
            {
                order.Add(t);
            }
        }
        // order is post-order (inputs before outputs); walking it backwards visits outputs first
        return order;
    }
}
