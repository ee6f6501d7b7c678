using Nabla.Diagnostics;

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
        // every op passes here when it finishes its forward, graph or not: the profiler's hook (one static bool when off)
        if (Profiler.IsActive) Profiler.OnForward(name);
        // integer and bool results (comparisons, ArgMax, casts) carry no gradient, as in PyTorch
        if (!NeedsRecord(inputs) || !output.DType.IsFloatingPoint()) return output;
        output.GradFn = new Node(name, inputs, backward) { External = external, Module = Profiler.CurrentModule };
        output.RequiresGrad = true;
        return output;
    }

    /// <summary>
    /// Records <paramref name="outputs"/> (distinct tensors) as the outputs of one op: its backward receives one residual
    /// per output, null for an output that received none (e.g. a loss that reads only the final hidden state).
    /// </summary>
    public static Tensor[] Record(Tensor[] outputs, string name, Tensor[] inputs, Func<Tensor?[], Tensor?[]> backward, bool external = false)
    {
        if (Profiler.IsActive) Profiler.OnForward(name);
        if (!NeedsRecord(inputs)) return outputs;
        var node = new Node(name, inputs, outputs.Length, backward) { External = external, Module = Profiler.CurrentModule };
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i].GradFn = node;
            outputs[i].OutputIndex = i;
            outputs[i].RequiresGrad = true;
        }
        return outputs;
    }

    private static bool NeedsRecord(Tensor[] inputs)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in inputs)
            if (t.RequiresGrad) return true;
        return false;
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
        var (order, gathers) = TopologicalOrder(root);
        var recorder = StoragePool.BeginRecording();
        using var scope = Profiler.Scope("Backward");
        try
        {
            Run(root, gradient, order, gathers, retainGraph);
        }
        finally
        {
            StoragePool.EndRecording(recorder);
        }
    }

    // The residuals of a multi-output node's outputs, gathered until the walk reaches the last of them.
    private sealed class Gather(int outputs)
    {
        public readonly Tensor?[] Residuals = new Tensor?[outputs];
        public readonly bool[] Owned = new bool[outputs];
        public int Pending;
        public bool Any;
    }

    // Storage this pass allocated and nothing can reach any more goes back to the pool (StoragePool.Recycle checks
    // the allocation): a used-up residual the engine owns, unless a backward passed it on or viewed it, a leaf or
    // RetainGrad keeps it, or a user Function saw it.
    private static void Run(Tensor root, Tensor gradient, List<Tensor> order, Dictionary<Node, Gather>? gathers, bool retainGraph)
    {
        // each residual carries whether the engine owns its storage outright (then a leaf may keep it as its Grad)
        var residuals = new Dictionary<Tensor, (Tensor G, bool Owned)>(ReferenceEqualityComparer.Instance) { [root] = (gradient, false) };
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            bool has = residuals.Remove(t, out var entry);
            if (has && (t.IsLeaf || t.RetainsGrad)) Accumulate(t, entry.G, owned: entry.Owned && t.IsLeaf);
            if (t.IsLeaf)
            {
                // added into an existing Grad: used up
                if (has && entry.Owned && !ReferenceEquals(t.Grad!._storage, entry.G._storage)) StoragePool.Recycle(entry.G);
                // a leaf appears once in the order, after every consumer: its Grad is final for this pass
                if (has && t.PostAccumulateGradHooks is { } hooks) foreach (var hook in hooks.ToArray()) hook(t);
                continue;
            }
            var node = t.GradFn!;
            if (node.OutputCount > 1)
            {
                // every consumer of every output comes later in the order, so the node runs at its earliest output,
                // once, with all its outputs' residuals
                var gather = gathers![node];
                if (has)
                {
                    gather.Residuals[t.OutputIndex] = entry.G;
                    gather.Owned[t.OutputIndex] = entry.Owned && !t.RetainsGrad;
                    gather.Any = true;
                }
                if (--gather.Pending > 0 || !gather.Any) continue;
                var many = Profiler.IsActive ? ProfiledApply(node, gather.Residuals) : node.Apply(gather.Residuals);
                if (!retainGraph) node.Free();
                PassBack(node, many, gather.Residuals, gather.Owned, residuals);
                continue;
            }
            if (!has) continue;
            var grads = Profiler.IsActive ? ProfiledApply(node, entry.G) : node.Apply(entry.G);
            if (!retainGraph) node.Free();
            Tensor? used = entry.G;
            bool owned = entry.Owned && !t.RetainsGrad;
            PassBack(node, grads, new ReadOnlySpan<Tensor?>(ref used), new ReadOnlySpan<bool>(ref owned), residuals);
        }
    }

    // a backward as a profiler event, timed exactly around its gradient function (the ops it runs nest under it)
    private static Tensor?[] ProfiledApply(Node node, Tensor residual)
    {
        using var _ = new ProfilerScope(Profiler.Begin(node.Name, ProfilerEventKind.Backward, node.Module));
        return node.Apply(residual);
    }

    private static Tensor?[] ProfiledApply(Node node, Tensor?[] residuals)
    {
        using var _ = new ProfilerScope(Profiler.Begin(node.Name, ProfilerEventKind.Backward, node.Module));
        return node.Apply(residuals);
    }

    // Adds a node's input gradients into the inputs' residuals, and recycles the output residuals it used up.
    private static void PassBack(Node node, Tensor?[] grads, ReadOnlySpan<Tensor?> used, ReadOnlySpan<bool> owned,
        Dictionary<Tensor, (Tensor G, bool Owned)> residuals)
    {
        if (grads.Length != node.Inputs.Length)
            throw new InvalidOperationException($"Backward of {node.Name} returned {grads.Length} gradients for {node.Inputs.Length} inputs.");
        for (int o = 0; o < used.Length; o++)
            if (owned[o] && !node.External && !SharesStorage(grads, used[o]!)) StoragePool.Recycle(used[o]!);
        for (int k = 0; k < grads.Length; k++)
        {
            var input = node.Inputs[k];
            var g = grads[k];
            if (g is null || !input.RequiresGrad) continue;
            if (!ShapeUtil.SameShape(g.Shape, input.Shape))
                throw new InvalidOperationException($"Backward of {node.Name} returned a gradient of shape {ShapeUtil.Format(g.Shape)} for input {k} of shape {ShapeUtil.Format(input.Shape)}.");
            // the sum over successors: a tensor that feeds several ops receives the sum of their residuals
            bool gOwned = IsOwned(node, g, used, grads, k);
            if (residuals.TryGetValue(input, out var acc))
            {
                residuals[input] = (acc.G + g, true);
                if (acc.Owned) StoragePool.Recycle(acc.G);
                if (gOwned) StoragePool.Recycle(g);
            }
            else
            {
                residuals[input] = (g, gOwned);
            }
        }
    }

    private static bool SharesStorage(Tensor?[] grads, Tensor t)
    {
        foreach (var g in grads)
            if (g is not null && ReferenceEquals(g._storage, t._storage)) return true;
        return false;
    }

    // A gradient the engine may hand to a leaf without copying: freshly allocated by a built-in op's backward, not an
    // output residual passed through, and not returned for another input too (user Functions may return tensors they keep).
    private static bool IsOwned(Node node, Tensor g, ReadOnlySpan<Tensor?> used, Tensor?[] grads, int k)
    {
        if (node.External || !g.OwnsStorage) return false;
        foreach (var r in used)
            if (r is not null && ReferenceEquals(g._storage, r._storage)) return false;
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

    // Iterative depth-first search, so deep graphs (long RNN unrolls) do not overflow the stack. Also counts, for each
    // multi-output node, how many of its outputs the graph reaches (the Run walk meets each once).
    private static (List<Tensor> Order, Dictionary<Node, Gather>? Gathers) TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        Dictionary<Node, Gather>? gathers = null;
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var node = t.GradFn;
            var inputs = node?.Inputs ?? [];
            if (node is { Freed: true }) throw node.FreedError();
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var child = inputs[next];
                if (child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else
            {
                order.Add(t);
                if (node is { OutputCount: > 1 })
                {
                    gathers ??= new(ReferenceEqualityComparer.Instance);
                    if (!gathers.TryGetValue(node, out var gather)) gathers[node] = gather = new Gather(node.OutputCount);
                    gather.Pending++;
                }
            }
        }
        // order is post-order (inputs before outputs); walking it backwards visits outputs first
        return (order, gathers);
    }
}
