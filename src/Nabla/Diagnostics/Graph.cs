using Nabla.NN;

namespace Nabla.Diagnostics;

/// <summary>What <see cref="Graph.Render"/> writes.</summary>
public enum GraphFormat
{
    /// <summary>A standalone SVG document, laid out here (no Graphviz needed).</summary>
    Svg,

    /// <summary>Graphviz's DOT language.</summary>
    Dot,
}

/// <summary>Draws the autograd graph of one training step (see <see cref="AutogradGraph"/>).</summary>
public static class Graph
{
    /// <summary>
    /// Runs <c>loss.Backward()</c> while recording every residual, and draws the graph from <paramref name="loss"/>:
    /// ops with output shapes, edges with the norm of the residual sent back along them, parameters (named from
    /// <paramref name="model"/> when given) with their gradient norms. <paramref name="collapse"/> &gt; 0 groups
    /// the ops per module path of that depth (see <see cref="AutogradGraph.Collapse"/>).
    /// </summary>
    public static string Render(Tensor loss, Module? model = null, GraphFormat format = GraphFormat.Svg, int collapse = 0)
    {
        var graph = AutogradGraph.Capture(loss, model);
        if (collapse > 0) graph = graph.Collapse(collapse);
        return format == GraphFormat.Dot ? graph.ToDot() : graph.ToSvg();
    }
}
