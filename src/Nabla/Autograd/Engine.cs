using Nabla.Diagnostics;

namespace Nabla.Autograd;

/// <summary>
/// The backward pass: visits the graph's nodes in reverse topological order and adds up, for every tensor, the
/// residuals its successors send back (the text's ∇fJ = Σk ∂J/∂hk·∂hk/∂f) before passing its own on.
/// </summary>
internal static class Engine
{
    // set while a diagnostic (Diagnostics.AutogradGraph) watches a backward pass on this thread; null otherwise
    [ThreadStatic] internal static IBackwardObserver? Observer;

    /// <summary>Records <paramref name="output"/> as made by an op, when grad mode is on and an input needs a gradient.</summary>
    // firstOrderOnly: the backward runs kernels outside the graph, so under createGraph its gradients cannot be
    // differentiated again (Opaque); ops whose backward composes graph ops leave it false
    public static Tensor Record(Tensor output, string name, Tensor[] inputs, Func<Tensor, Tensor?[]> backward, bool external = false, bool firstOrderOnly = false)
    {
        // every op passes here when it finishes its forward, graph or not: the profiler's hook (one static bool when off)
        if (Profiler.IsActive) Profiler.OnForward(name);
        // integer and bool results (comparisons, ArgMax, casts) carry no gradient, as in PyTorch
        if (!NeedsRecord(inputs) || !output.DType.IsFloatingPoint()) return output;
        output.GradFn = new Node(name, inputs, backward) { External = external, FirstOrderOnly = firstOrderOnly, Module = Profiler.CurrentModule };
        output.RequiresGrad = true;
        return output;
    }

    /// <summary>The no-grad end of an op that checked <see cref="GradMode.IsEnabled"/> first: only the profiler's hook, no inputs array or closure.</summary>
    public static Tensor Unrecorded(Tensor output, string name)
    {
        if (Profiler.IsActive) Profiler.OnForward(name);
        return output;
    }

    /// <summary>
    /// Records <paramref name="outputs"/> (distinct tensors) as the outputs of one op: its backward receives one residual
    /// per output, null for an output that received none (e.g. a loss that reads only the final hidden state).
    /// </summary>
    public static Tensor[] Record(Tensor[] outputs, string name, Tensor[] inputs, Func<Tensor?[], Tensor?[]> backward, bool external = false, bool firstOrderOnly = false)
    {
        if (Profiler.IsActive) Profiler.OnForward(name);
        if (!NeedsRecord(inputs)) return outputs;
        var node = new Node(name, inputs, outputs.Length, backward) { External = external, FirstOrderOnly = firstOrderOnly, Module = Profiler.CurrentModule };
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

    public static void Backward(Tensor root, Tensor? gradient, bool retainGraph, bool createGraph = false) =>
        Backward("Backward", [root], [gradient], retainGraph, createGraph);

    /// <summary>Backward from several roots at once (torch.autograd.backward): their residuals meet in one pass.</summary>
    public static void Backward(string op, IReadOnlyList<Tensor> roots, IReadOnlyList<Tensor?>? gradients, bool retainGraph, bool createGraph)
    {
        var seeds = Seeds(op, roots, gradients);
        Execute(roots, seeds, retainGraph, createGraph, capture: null);
    }

    /// <summary>
    /// The gradients of <paramref name="outputs"/> with respect to <paramref name="inputs"/> (torch.autograd.grad),
    /// without touching any <see cref="Tensor.Grad"/>; null for an input the outputs do not depend on.
    /// </summary>
    public static Tensor?[] Grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor?>? gradOutputs, bool retainGraph, bool createGraph)
    {
        const string op = "Grad";
        var capture = new Dictionary<Tensor, Tensor?>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Count; i++)
        {
            var x = inputs[i] ?? throw new ArgumentNullException(nameof(inputs), $"{op}: input {i} is null.");
            if (!x.RequiresGrad)
                throw new ArgumentException($"{op}: input {i} (shape {ShapeUtil.Format(x.Shape)}) does not require grad, so no gradient flows to it; set RequiresGrad on it before computing the outputs.");
            capture[x] = null;
        }
        var seeds = Seeds(op, outputs, gradOutputs);
        Execute(outputs, seeds, retainGraph, createGraph, capture);
        var result = new Tensor?[inputs.Count];
        for (int i = 0; i < result.Length; i++) result[i] = capture[inputs[i]];
        return result;
    }

    // one (root, residual) pair per root; a residual is the given gradient, or 1 for a one-element root
    private static List<(Tensor Root, Tensor G)> Seeds(string op, IReadOnlyList<Tensor> roots, IReadOnlyList<Tensor?>? gradients)
    {
        ArgumentNullException.ThrowIfNull(roots);
        if (roots.Count == 0) throw new ArgumentException($"{op}: no output tensors were given.");
        if (gradients is not null && gradients.Count != roots.Count)
            throw new ArgumentException($"{op}: {roots.Count} outputs but {gradients.Count} gradients; pass one gradient (or null) per output.");
        var seeds = new List<(Tensor, Tensor)>();
        for (int i = 0; i < roots.Count; i++)
        {
            var root = roots[i] ?? throw new ArgumentNullException(nameof(roots), $"{op}: output {i} is null.");
            var gradient = gradients?[i];
            string which = roots.Count == 1 ? "the tensor" : $"output {i}";
            if (!root.RequiresGrad)
                throw new InvalidOperationException($"{op}: {which} does not require grad and has no GradFn; set RequiresGrad on its inputs (and do not compute it inside NoGrad).");
            if (gradient is null)
            {
                if (root.Numel != 1)
                    throw new InvalidOperationException($"{op}: a gradient can be created implicitly only for a scalar output; {which} has shape {ShapeUtil.Format(root.Shape)}. Pass the upstream gradient.");
                using (Tensor.NoGrad()) gradient = Tensor.OnesLike(root);
            }
            else if (!ShapeUtil.SameShape(gradient.Shape, root.Shape) || gradient.DType != root.DType)
            {
                throw new ArgumentException($"{op}: the gradient has shape {ShapeUtil.Format(gradient.Shape)} ({gradient.DType.Name()}) but {(roots.Count == 1 ? "the output" : $"output {i}")} has shape {ShapeUtil.Format(root.Shape)} ({root.DType.Name()}).");
            }
            seeds.Add((root, gradient));
        }
        return seeds;
    }

    // With createGraph the backward closures run with grad mode on, so the gradients they compute are graph tensors
    // themselves (second-order gradients); nothing is recycled then, since the new graph may keep any residual.
    private static void Execute(IReadOnlyList<Tensor> roots, List<(Tensor Root, Tensor G)> seeds, bool retainGraph, bool createGraph, Dictionary<Tensor, Tensor?>? capture)
    {
        var scratch = Scratch.Take();
        try
        {
            var gathers = TopologicalOrder(roots, scratch);
            var needed = capture is null ? null : Needed(scratch.Order, capture);
            bool recycle = !createGraph && capture is null;
            using var _ = createGraph ? Tensor.EnableGrad() : default;
            using var __ = Tensor.NoGradIf(!createGraph);
            var recorder = recycle ? StoragePool.BeginRecording() : StoragePool.PauseRecording();
            using var scope = Profiler.Scope("Backward");
            try
            {
                Run(seeds, scratch, gathers, retainGraph, capture, needed, recycle);
            }
            finally
            {
                StoragePool.EndRecording(recorder);
            }
        }
        finally
        {
            scratch.Give();
        }
    }

    // A pass's working collections, kept per thread for the next pass (a training step then allocates none of them);
    // a nested pass (a hook that runs a backward) takes fresh ones. Cleared after use, so they hold no tensor between
    // passes; one grown past a large graph's size is dropped rather than kept.
    private sealed class Scratch
    {
        [ThreadStatic] private static Scratch? t_kept;

        public readonly List<Tensor> Order = [];
        public readonly HashSet<Tensor> Visited = new(ReferenceEqualityComparer.Instance);
        public readonly Stack<(Tensor T, int Next)> Stack = new();
        // each residual carries whether the engine owns its storage outright (then a leaf may keep it as its Grad)
        public readonly Dictionary<Tensor, (Tensor G, bool Owned)> Residuals = new(ReferenceEqualityComparer.Instance);

        public static Scratch Take()
        {
            var s = t_kept ?? new Scratch();
            t_kept = null;
            return s;
        }

        public void Give()
        {
            bool keep = Order.Count <= 4096;
            Order.Clear();
            Visited.Clear();
            Stack.Clear();
            Residuals.Clear();
            if (keep) t_kept = this;
        }
    }

    // For Grad: the tensors from which a captured input can be reached (only their nodes need to run).
    private static HashSet<Tensor> Needed(List<Tensor> order, Dictionary<Tensor, Tensor?> capture)
    {
        var needed = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var t in order)
            if (capture.ContainsKey(t) || RunsNode(t, needed)) needed.Add(t);
        return needed;
    }

    private static bool RunsNode(Tensor t, HashSet<Tensor>? needed)
    {
        if (needed is null) return true;
        if (t.GradFn is not { } node) return false;
        foreach (var input in node.Inputs)
            if (needed.Contains(input)) return true;
        return false;
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
    private static void Run(List<(Tensor Root, Tensor G)> seeds, Scratch scratch, Dictionary<Node, Gather>? gathers, bool retainGraph,
        Dictionary<Tensor, Tensor?>? capture, HashSet<Tensor>? needed, bool recycle)
    {
        var order = scratch.Order;
        var residuals = scratch.Residuals;
        foreach (var (root, g) in seeds)
            residuals[root] = residuals.TryGetValue(root, out var prev) ? (prev.G + g, recycle) : (g, false);
        bool grad = capture is null;
        for (int i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            bool has = residuals.Remove(t, out var entry);
            if (has) Observer?.Residual(t, entry.G);
            if (has && t.GradHooks is { Count: > 0 }) entry = RunHooks(t, entry);
            if (has && capture is not null && capture.ContainsKey(t))
            {
                capture[t] = entry.G;
                entry.Owned = false;
            }
            if (grad && has && (t.IsLeaf || t.RetainsGrad)) Accumulate(t, entry.G, owned: entry.Owned && t.IsLeaf && entry.G.IsContiguous, createGraph: GradMode.IsEnabled);
            if (t.IsLeaf)
            {
                if (!grad) continue;
                // added into an existing Grad: used up
                if (recycle && has && entry.Owned && !ReferenceEquals(t.GradInternal!._storage, entry.G._storage)) StoragePool.Recycle(entry.G);
                // a leaf appears once in the order, after every consumer: its Grad is final for this pass
                if (has && t.PostAccumulateGradHooks is { } hooks) foreach (var hook in hooks.ToArray()) hook(t);
                continue;
            }
            if (!RunsNode(t, needed)) continue;
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
                if (GradMode.IsEnabled) node.RanUnderCreateGraph = true;
                var many = Opaque(node, Profiler.IsActive ? ProfiledApply(node, gather.Residuals) : node.Apply(gather.Residuals), gather.Residuals);
                if (!retainGraph) node.Free(recycle ? many : null);
                PassBack(node, many, gather.Residuals, gather.Owned, residuals, recycle);
                continue;
            }
            if (!has) continue;
            Tensor? used = entry.G;
            if (GradMode.IsEnabled) node.RanUnderCreateGraph = true;
            var grads = Opaque(node, Profiler.IsActive ? ProfiledApply(node, entry.G) : node.Apply(entry.G), new ReadOnlySpan<Tensor?>(ref used));
            if (!retainGraph) node.Free(recycle ? grads : null);
            bool owned = entry.Owned && !t.RetainsGrad;
            PassBack(node, grads, new ReadOnlySpan<Tensor?>(ref used), new ReadOnlySpan<bool>(ref owned), residuals, recycle);
        }
    }

    // Tensor.RegisterHook: each hook sees the residual and may replace it (same shape and dtype).
    private static (Tensor G, bool Owned) RunHooks(Tensor t, (Tensor G, bool Owned) entry)
    {
        foreach (var hook in t.GradHooks!.ToArray())
        {
            entry.G.MarkEscaped();   // the hook may keep it: never recycled
            entry.Owned = false;
            var replaced = hook(entry.G);
            if (replaced is null || ReferenceEquals(replaced, entry.G)) continue;
            if (!ShapeUtil.SameShape(replaced.Shape, t.Shape) || replaced.DType != t.DType)
                throw new InvalidOperationException($"RegisterHook: a hook returned a gradient of shape {ShapeUtil.Format(replaced.Shape)} ({replaced.DType.Name()}) for a tensor of shape {ShapeUtil.Format(t.Shape)} ({t.DType.Name()}).");
            entry = (replaced, false);
        }
        return entry;
    }

    // With createGraph, the gradients of an op whose backward runs outside the graph (fused kernels) become the outputs
    // of a node that refuses to be differentiated, so a second-order gradient through it is an error, not a silent 0.
    private static Tensor?[] Opaque(Node node, Tensor?[] grads, ReadOnlySpan<Tensor?> residuals)
    {
        if (!node.FirstOrderOnly || !GradMode.IsEnabled) return grads;
        var deps = new List<Tensor>();
        foreach (var x in node.Inputs) if (x.RequiresGrad) deps.Add(x);
        foreach (var r in residuals) if (r is { RequiresGrad: true }) deps.Add(r);
        var slots = new List<int>();
        for (int k = 0; k < grads.Length; k++) if (grads[k] is not null) slots.Add(k);
        if (deps.Count == 0 || slots.Count == 0) return grads;
        string name = node.Name.EndsWith("Backward", StringComparison.Ordinal) ? node.Name[..^"Backward".Length] : node.Name;
        string why = node.External
            ? "the Function keeps what its Backward needs in fields; save it with SaveForBackward in Forward and read SavedTensors in Backward, so its ops are recorded under createGraph"
            : "its backward runs in fused kernels outside the graph, so its gradient cannot be differentiated again (createGraph: true); compose the op from differentiable ops to take second-order gradients through it";
        var result = (Tensor?[])grads.Clone();
        var outs = slots.Select(k => grads[k]!.Detach()).ToArray();
        if (outs.Length == 1) result[slots[0]] = Refusing(outs[0], name, why, [.. deps]);
        else
        {
            Record(outs, node.Name + "Backward", [.. deps], _ => throw RefusedError(name, why));
            for (int j = 0; j < slots.Count; j++) result[slots[j]] = outs[j];
        }
        return result;
    }

    private static NotSupportedException RefusedError(string name, string why) => new($"Double backward is not supported for {name}: {why}.");

    /// <summary>
    /// <paramref name="value"/> (a gradient computed outside the graph under createGraph) as the output of a node over
    /// <paramref name="deps"/> whose backward raises "Double backward is not supported for <paramref name="op"/>: <paramref name="why"/>".
    /// </summary>
    internal static Tensor Refusing(Tensor value, string op, string why, Tensor[] deps) =>
        Record(value.Detach(), op + "BackwardBackward", deps, _ => throw RefusedError(op, why));

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
        Dictionary<Tensor, (Tensor G, bool Owned)> residuals, bool recycle)
    {
        if (grads.Length != node.Inputs.Length)
            throw new InvalidOperationException($"Backward of {node.Name} returned {grads.Length} gradients for {node.Inputs.Length} inputs.");
        for (int o = 0; o < used.Length; o++)
            if (recycle && owned[o] && !node.External && !SharesStorage(grads, used[o]!)) StoragePool.Recycle(used[o]!);
        for (int k = 0; k < grads.Length; k++)
        {
            var input = node.Inputs[k];
            var g = grads[k];
            if (g is null || !input.RequiresGrad) continue;
            if (!ShapeUtil.SameShape(g.Shape, input.Shape))
                throw new InvalidOperationException($"Backward of {node.Name} returned a gradient of shape {ShapeUtil.Format(g.Shape)} for input {k} of shape {ShapeUtil.Format(input.Shape)}.");
            Observer?.Edge(node, k, g);
            // the sum over successors: a tensor that feeds several ops receives the sum of their residuals
            bool gOwned = recycle && IsOwned(node, g, used, owned, grads, k);
            if (residuals.TryGetValue(input, out var acc))
            {
                residuals[input] = (acc.G + g, recycle);
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
    // A view's backward (Reshape, Flatten, Transpose) passes on its residual viewed: that one is owned when the residual
    // was and the view spans its whole storage, so the storage is recycled once the view is used up in turn (a leaf
    // keeps only a contiguous one as its Grad).
    private static bool IsOwned(Node node, Tensor g, ReadOnlySpan<Tensor?> used, ReadOnlySpan<bool> owned, Tensor?[] grads, int k)
    {
        if (node.External) return false;
        bool whole = g.OwnsStorage;
        for (int o = 0; o < used.Length; o++)
        {
            if (used[o] is not { } r || !ReferenceEquals(g._storage, r._storage)) continue;
            if (!owned[o] || !SpansStorage(g)) return false;
            whole = true;
        }
        if (!whole) return false;
        for (int j = 0; j < grads.Length; j++)
            if (j != k && grads[j] is { } other && ReferenceEquals(other._storage, g._storage)) return false;
        return true;
    }

    // Whether g's elements are exactly its storage's, each once: contiguous, or a permutation of contiguous dims (a transpose).
    private static bool SpansStorage(Tensor g)
    {
        if (g._offset != 0 || g.Numel != g._storage.Length) return false;
        if (g.IsContiguous) return true;
        // walk the dims from the smallest stride up: each must be the product of the sizes below it
        long expected = 1;
        int left = 0;
        for (int d = 0; d < g.Rank; d++) if (g._shape[d] > 1) left++;
        Span<bool> used = stackalloc bool[g.Rank];
        for (; left > 0; left--)
        {
            int next = -1;
            for (int d = 0; d < g.Rank && next < 0; d++)
                if (!used[d] && g._shape[d] > 1 && g._strides[d] == expected) next = d;
            if (next < 0) return false;
            used[next] = true;
            expected *= g._shape[next];
        }
        return true;
    }

    private static void Accumulate(Tensor t, Tensor g, bool owned, bool createGraph)
    {
        if (createGraph)
        {
            // the gradient keeps its graph (a gradient penalty differentiates it); accumulation is out of place
            t.GradInternal = t.GradInternal is null ? g : t.GradInternal + g;
        }
        else if (t.GradInternal is null)
        {
            t.GradInternal = owned ? g : g.Clone();
        }
        else
        {
            // gradients accumulate (+=); zeroing is the caller's explicit ZeroGrad
            t.GradInternal.AddInPlace(g);
        }
        // a gradient with a graph, or one an observer saw, may be referenced elsewhere: never pooled (Tensor.DropGrad)
        if (createGraph || Observer is not null) t.GradInternal!.MarkEscaped();
    }

    // Iterative depth-first search, so deep graphs (long RNN unrolls) do not overflow the stack. Also counts, for each
    // multi-output node, how many of its outputs the graph reaches (the Run walk meets each once).
    // With several roots the post-orders of the searches (sharing one visited set) concatenate into one valid order.
    private static Dictionary<Node, Gather>? TopologicalOrder(IReadOnlyList<Tensor> roots, Scratch scratch)
    {
        var order = scratch.Order;
        Dictionary<Node, Gather>? gathers = null;
        var visited = scratch.Visited;
        var stack = scratch.Stack;
        // one root at a time, each search finished before the next starts (a root may feed a later one)
        foreach (var root in roots)
        {
            if (!visited.Add(root)) continue;
            stack.Push((root, 0));
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
        }
        // order is post-order (inputs before outputs); walking it backwards visits outputs first
        return gathers;
    }
}
