using Nabla.Autograd;
using Nabla.NN;

namespace Nabla.Diagnostics;

/// <summary>What a vertex of a drawn autograd graph stands for.</summary>
public enum GraphNodeKind
{
    /// <summary>A recorded op (its output shapes are shown).</summary>
    Op,

    /// <summary>A parameter of the model (its gradient norm is shown).</summary>
    Parameter,

    /// <summary>Another leaf tensor that requires grad (e.g. an input the caller marked).</summary>
    Leaf,

    /// <summary>Several ops of one module or time step, collapsed by <see cref="AutogradGraph.Collapse"/>.</summary>
    Group,
}

/// <summary>A vertex of an <see cref="AutogradGraph"/>.</summary>
public sealed class GraphNode
{
    internal GraphNode(int id, string label, GraphNodeKind kind) => (Id, Label, Kind) = (id, label, kind);

    /// <summary>Position in <see cref="AutogradGraph.Nodes"/>.</summary>
    public int Id { get; internal set; }

    /// <summary>The op's name (<c>Addmm</c>), the parameter's name (<c>fc.weight</c>) or the group's module path.</summary>
    public string Label { get; internal set; }

    /// <summary>What the vertex stands for.</summary>
    public GraphNodeKind Kind { get; }

    /// <summary>The output shape(s), e.g. <c>(64, 10)</c>; several outputs are joined with a space.</summary>
    public string Shape { get; internal set; } = "";

    /// <summary>The <see cref="ModuleScope"/> path of the module that made it, or null.</summary>
    public string? Scope { get; internal set; }

    /// <summary>The norm of the residual its output received, summed over all its successors (null before a backward).</summary>
    public double? ResidualNorm { get; internal set; }

    /// <summary>How many edges leave it: more than one means its residual is the text's sum over successors.</summary>
    public int Successors { get; internal set; }

    /// <summary>How many ops a <see cref="GraphNodeKind.Group"/> stands for (1 otherwise).</summary>
    public int Count { get; internal set; } = 1;

    /// <summary>A group's op names, most frequent first (empty otherwise).</summary>
    public string Detail { get; internal set; } = "";

    /// <summary>True for the vertex that made the loss (the root of the backward pass).</summary>
    public bool IsRoot { get; internal set; }
}

/// <summary>An edge of an <see cref="AutogradGraph"/>: a tensor flowing forward from <see cref="From"/> into <see cref="To"/>.</summary>
public sealed class GraphEdge
{
    internal GraphEdge(int from, int to, double? norm) => (From, To, ResidualNorm) = (from, to, norm);

    /// <summary>The producing vertex.</summary>
    public int From { get; internal set; }

    /// <summary>The consuming vertex.</summary>
    public int To { get; internal set; }

    /// <summary>The norm of the residual <see cref="To"/>'s backward sent back along this edge (null before a backward, or for merged edges).</summary>
    public double? ResidualNorm { get; internal set; }

    /// <summary>How many edges of the full graph this one stands for (after <see cref="AutogradGraph.Collapse"/>).</summary>
    public int Count { get; internal set; } = 1;
}

/// <summary>
/// The autograd graph of one step, as data to draw: ops with their output shapes, parameters with their gradient norms,
/// and, on every edge, the norm of the residual the backward pass sent along it (<see cref="Capture"/> watches that
/// backward). A vertex with several successors carries the summed residual, the text's ∇fJ = Σk ∂J/∂hk·∂hk/∂f.
/// Render with <see cref="ToSvg"/> (layered layout computed here) or <see cref="ToDot"/> (for Graphviz).
/// </summary>
public sealed partial class AutogradGraph
{
    private AutogradGraph(List<GraphNode> nodes, List<GraphEdge> edges) => (Nodes, Edges) = (nodes, edges);

    /// <summary>The vertices, inputs before the ops that consume them.</summary>
    public IReadOnlyList<GraphNode> Nodes { get; }

    /// <summary>The edges, in the direction of the forward pass.</summary>
    public IReadOnlyList<GraphEdge> Edges { get; }

    /// <summary>
    /// Runs <c>loss.Backward(retainGraph)</c> while recording the residual along every edge, then returns the graph
    /// from <paramref name="loss"/> (gradients accumulate into the leaves as in any backward). Names the parameters
    /// of <paramref name="model"/> when given.
    /// </summary>
    public static AutogradGraph Capture(Tensor loss, Module? model = null, bool retainGraph = false)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (!loss.RequiresGrad || loss.GradFn is null)
            throw new ArgumentException("AutogradGraph.Capture: the loss has no GradFn (was it computed inside NoGrad, or from tensors that need no grad?).", nameof(loss));
        var observer = new NormObserver();
        var previous = Engine.Observer;
        Engine.Observer = observer;
        try
        {
            loss.Backward(retainGraph: retainGraph);
        }
        finally
        {
            Engine.Observer = previous;
        }
        return Build(loss, model, observer);
    }

    /// <summary>The graph from <paramref name="root"/> without residual norms (no backward is run).</summary>
    public static AutogradGraph FromTensor(Tensor root, Module? model = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (root.GradFn is null)
            throw new ArgumentException("AutogradGraph.FromTensor: the tensor has no GradFn, so there is no graph to draw.", nameof(root));
        return Build(root, model, null);
    }

    private static AutogradGraph Build(Tensor root, Module? model, NormObserver? norms)
    {
        var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        if (model is not null)
            foreach (var (name, p) in model.NamedParameters()) names.TryAdd(p, name);

        // post-order over tensors (iterative: long unrolls would overflow the stack), so inputs come first
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance) { root };
        var stack = new Stack<(Tensor T, int Next)>();
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.GradFn?.Inputs ?? [];
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

        var nodes = new List<GraphNode>();
        var vertexOf = new Dictionary<object, GraphNode>(ReferenceEqualityComparer.Instance);
        var shapes = new Dictionary<GraphNode, string?[]>();
        foreach (var t in order)
        {
            object key = (object?)t.GradFn ?? t;
            if (!vertexOf.TryGetValue(key, out var v))
            {
                if (t.GradFn is { } fn)
                {
                    v = new GraphNode(nodes.Count, fn.Name, GraphNodeKind.Op) { Scope = fn.Scope };
                    shapes[v] = new string?[fn.OutputCount];
                }
                else if (names.TryGetValue(t, out var name))
                {
                    int dot = name.LastIndexOf('.');
                    v = new GraphNode(nodes.Count, name, GraphNodeKind.Parameter) { Scope = dot > 0 ? name[..dot] : null, Shape = ShapeUtil.Format(t.Shape) };
                }
                else
                {
                    v = new GraphNode(nodes.Count, t is Parameter ? "parameter" : "input (leaf)", GraphNodeKind.Leaf) { Shape = ShapeUtil.Format(t.Shape) };
                }
                vertexOf[key] = v;
                nodes.Add(v);
            }
            if (t.GradFn is not null) shapes[v][t.OutputIndex] = ShapeUtil.Format(t.Shape);
            if (norms is not null && norms.Residuals.TryGetValue(t, out double r))
                v.ResidualNorm = v.ResidualNorm is { } old ? Math.Sqrt(old * old + r * r) : r;
        }
        foreach (var (v, s) in shapes) v.Shape = string.Join(" ", s.Where(x => x is not null));
        vertexOf[(object?)root.GradFn ?? root].IsRoot = true;

        var edges = new List<GraphEdge>();
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        foreach (var t in order)
        {
            if (t.GradFn is not { } fn || !seen.Add(fn)) continue;
            var to = vertexOf[fn];
            for (int k = 0; k < fn.Inputs.Length; k++)
            {
                var input = fn.Inputs[k];
                if (!input.RequiresGrad) continue;
                var from = vertexOf[(object?)input.GradFn ?? input];
                double? norm = norms is not null && norms.Edges.TryGetValue((fn, k), out double e) ? e : null;
                edges.Add(new GraphEdge(from.Id, to.Id, norm));
                from.Successors++;
            }
        }
        return new AutogradGraph(nodes, edges);
    }

    // The norms of what the engine shows (computed at once: the engine recycles the tensors' storage afterwards).
    private sealed class NormObserver : IBackwardObserver
    {
        public readonly Dictionary<(Node, int), double> Edges = new(new NodeInputComparer());
        public readonly Dictionary<Tensor, double> Residuals = new(ReferenceEqualityComparer.Instance);

        public void Edge(Node node, int input, Tensor gradient) => Edges[(node, input)] = Norm(gradient);

        public void Residual(Tensor tensor, Tensor summed) => Residuals[tensor] = Norm(summed);

        private static double Norm(Tensor t)
        {
            double s = 0;
            foreach (double x in t.ToDoubleArray()) s += x * x;
            return Math.Sqrt(s);
        }
    }

    private sealed class NodeInputComparer : IEqualityComparer<(Node, int)>
    {
        public bool Equals((Node, int) a, (Node, int) b) => ReferenceEquals(a.Item1, b.Item1) && a.Item2 == b.Item2;

        public int GetHashCode((Node, int) x) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(x.Item1), x.Item2);
    }
}
