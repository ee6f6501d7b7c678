using System.Globalization;
using System.Text;

namespace Nabla.Diagnostics;

public sealed partial class AutogradGraph
{
    private const double CharWidth = 6.7, LineHeight = 14, PadX = 8, PadY = 5;

    /// <summary>The text lines drawn in a vertex's box.</summary>
    internal static List<string> Lines(GraphNode v)
    {
        var lines = new List<string>();
        switch (v.Kind)
        {
            case GraphNodeKind.Group:
                lines.Add(string.Create(CultureInfo.InvariantCulture, $"{v.Label} ({v.Count} ops)"));
                if (v.Detail.Length > 0) lines.Add(v.Detail);
                break;
            default:
                lines.Add(v.IsRoot ? v.Label + " (loss)" : v.Label);
                break;
        }
        if (v.Shape.Length > 0) lines.Add(v.Shape);
        if (v.Kind is GraphNodeKind.Parameter or GraphNodeKind.Leaf)
        {
            if (v.ResidualNorm is { } g)
                lines.Add("‖grad‖ " + Num(g) + (v.Successors > 1 ? string.Create(CultureInfo.InvariantCulture, $" (Σ of {v.Successors})") : ""));
        }
        else if (v.Successors > 1)
        {
            lines.Add(v.ResidualNorm is { } r ? string.Create(CultureInfo.InvariantCulture, $"Σ‖r‖ {Num(r)} from {v.Successors}")
                : string.Create(CultureInfo.InvariantCulture, $"Σ over {v.Successors} successors"));
        }
        return lines;
    }

    internal static string EdgeLabel(GraphEdge e) =>
        e.Count > 1 ? string.Create(CultureInfo.InvariantCulture, $"×{e.Count}") : e.ResidualNorm is { } r ? Num(r) : "";

    internal static string Num(double x) => x.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>What is drawn: the vertices, plus a copy of a parameter (or leaf) beside each further op that reads it.</summary>
    /// <param name="Vertices">The graph's vertices in order (index = <see cref="GraphNode.Id"/>), then the copies.</param>
    /// <param name="Ghost">Per drawn vertex: true for a copy.</param>
    /// <param name="Edges">Per edge of <see cref="Edges"/>, the drawn source and target.</param>
    /// <param name="Layout">The layered layout (inputs at the top, the loss at the bottom).</param>
    internal sealed record Drawing(List<GraphNode> Vertices, List<bool> Ghost, List<(int From, int To)> Edges, LayeredLayout Layout)
    {
        public List<string> LinesOf(int i) => Ghost[i] ? GhostLines(Vertices[i]) : AutogradGraph.Lines(Vertices[i]);
    }

    private static List<string> GhostLines(GraphNode v) => [v.Label, string.Create(CultureInfo.InvariantCulture, $"(shared, {v.Successors} uses)")];

    private static (double W, double H) Size(List<string> lines) => (lines.Max(l => l.Length) * CharWidth + 2 * PadX, lines.Count * LineHeight + 2 * PadY);

    /// <summary>
    /// Lays the graph out. A parameter read by several ops (a recurrent weight read at every time step) is drawn once
    /// beside its first reader, with its gradient norm, and as a small copy beside every other reader, instead of as
    /// long edges across the whole drawing.
    /// </summary>
    internal Drawing Draw()
    {
        var vertices = new List<GraphNode>(Nodes);
        var ghost = Enumerable.Repeat(false, Nodes.Count).ToList();
        var edges = new List<(int, int)>(Edges.Count);
        var copies = new Dictionary<(int Source, int Target), int>();
        var firstTarget = new Dictionary<int, int>();
        foreach (var e in Edges)
        {
            int from = e.From;
            if (Nodes[from].Kind is GraphNodeKind.Parameter or GraphNodeKind.Leaf)
            {
                if (!firstTarget.TryGetValue(from, out int first)) firstTarget[from] = first = e.To;
                if (first != e.To)
                {
                    if (!copies.TryGetValue((from, e.To), out int copy))
                    {
                        copy = vertices.Count;
                        vertices.Add(Nodes[from]);
                        ghost.Add(true);
                        copies[(from, e.To)] = copy;
                    }
                    from = copy;
                }
            }
            edges.Add((from, e.To));
        }
        var width = new double[vertices.Count];
        var height = new double[vertices.Count];
        for (int i = 0; i < vertices.Count; i++)
            (width[i], height[i]) = Size(ghost[i] ? GhostLines(vertices[i]) : Lines(vertices[i]));
        return new Drawing(vertices, ghost, edges, LayeredLayout.Compute(vertices.Count, edges, width, height));
    }

    /// <summary>
    /// The graph as a standalone SVG document: ops (blue), parameters with their gradient norms (orange), groups
    /// (green), the loss (red); a vertex with several successors has a thick purple border and its summed residual;
    /// edges are labelled with the residual's norm and drawn wider for larger norms (log scale). Hovering a box shows
    /// its module path and norms.
    /// </summary>
    public string ToSvg()
    {
        var drawing = Draw();
        var layout = drawing.Layout;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"nabla-graph\" width=\"{layout.Width:F0}\" height=\"{layout.Height:F0}\" viewBox=\"0 0 {layout.Width:F0} {layout.Height:F0}\" font-family=\"ui-monospace, Menlo, Consolas, monospace\" font-size=\"11\">\n");
        sb.Append("<defs><marker id=\"nabla-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#777\"/></marker></defs>\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<g class=\"edges\" fill=\"none\" stroke=\"#888\">\n");
        var logs = Edges.Where(e => e.ResidualNorm > 0).Select(e => Math.Log(e.ResidualNorm!.Value)).ToList();
        double lo = logs.Count > 0 ? logs.Min() : 0, hi = logs.Count > 0 ? logs.Max() : 0;
        for (int i = 0; i < Edges.Count; i++)
        {
            var e = Edges[i];
            double sw = e.ResidualNorm > 0 && hi > lo ? 0.8 + 2.7 * (Math.Log(e.ResidualNorm!.Value) - lo) / (hi - lo) : 1.2;
            sb.Append(inv, $"<path d=\"{PathData(layout.Routes[i])}\" stroke-width=\"{sw:F2}\" marker-end=\"url(#nabla-arrow)\"/>\n");
        }
        sb.Append("</g>\n<g class=\"edge-labels\" fill=\"#555\" font-size=\"10\" text-anchor=\"middle\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\n");
        for (int i = 0; i < Edges.Count; i++)
        {
            string label = EdgeLabel(Edges[i]);
            if (label.Length == 0) continue;
            var route = layout.Routes[i];
            // halfway along the arrow's last stretch, where edges into one op still come from different sides
            var (x0, y0) = route[^2];
            var (x1, y1) = route[^1];
            sb.Append(inv, $"<text x=\"{(x0 + x1) / 2:F1}\" y=\"{(y0 + y1) / 2 + 3:F1}\">{Escape(label)}</text>\n");
        }
        sb.Append("</g>\n<g class=\"nodes\">\n");
        for (int i = 0; i < drawing.Vertices.Count; i++)
        {
            var v = drawing.Vertices[i];
            bool isGhost = drawing.Ghost[i];
            var lines = drawing.LinesOf(i);
            var (w, h) = Size(lines);
            double x = layout.X[i] - w / 2, y = layout.Y[i] - h / 2;
            var (fill, stroke) = Colours(v);
            bool many = !isGhost && v.Successors > 1 && v.Kind is not (GraphNodeKind.Parameter or GraphNodeKind.Leaf);
            if (many) stroke = "#7b1fa2";
            string cls = v.Kind.ToString().ToLowerInvariant() + (many ? " fanout" : "") + (isGhost ? " copy" : "") + (v.IsRoot ? " loss" : "");
            sb.Append(inv, $"<g class=\"node {cls}\"><title>{Escape(Tooltip(v))}</title>");
            sb.Append(inv, $"<rect x=\"{x:F1}\" y=\"{y:F1}\" width=\"{w:F1}\" height=\"{h:F1}\" rx=\"5\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{(many ? 2.6 : 1.2)}\"{(isGhost ? " stroke-dasharray=\"4 3\"" : "")}/>");
            for (int k = 0; k < lines.Count; k++)
            {
                string weight = k == 0 && !isGhost ? " font-weight=\"bold\"" : "";
                sb.Append(inv, $"<text x=\"{layout.X[i]:F1}\" y=\"{y + PadY + (k + 1) * LineHeight - 3:F1}\" text-anchor=\"middle\"{weight}>{Escape(lines[k])}</text>");
            }
            sb.Append("</g>\n");
        }
        sb.Append("</g>\n</svg>\n");
        return sb.ToString();
    }

    private static (string Fill, string Stroke) Colours(GraphNode v) => v.IsRoot ? ("#fde8e8", "#b3261e") : v.Kind switch
    {
        GraphNodeKind.Parameter => ("#fff3df", "#c77c02"),
        GraphNodeKind.Leaf => ("#f1f1f1", "#777777"),
        GraphNodeKind.Group => ("#e6f4ea", "#2e7d32"),
        _ => ("#e8f0fe", "#4a6fa5"),
    };

    // straight through the dummies' vertical runs, with smooth vertical curves in between
    private static string PathData(List<(double X, double Y)> route)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"M{route[0].X:F1},{route[0].Y:F1}");
        for (int i = 1; i < route.Count; i++)
        {
            var (ax, ay) = route[i - 1];
            var (bx, by) = route[i];
            if (Math.Abs(ax - bx) < 0.05) { sb.Append(inv, $" L{bx:F1},{by:F1}"); continue; }
            double my = (ay + by) / 2;
            sb.Append(inv, $" C{ax:F1},{my:F1} {bx:F1},{my:F1} {bx:F1},{by:F1}");
        }
        return sb.ToString();
    }

    private static string Tooltip(GraphNode v)
    {
        var parts = new List<string> { v.Kind == GraphNodeKind.Group ? $"{v.Label}: {v.Count} ops ({v.Detail})" : v.Label };
        if (v.Shape.Length > 0) parts.Add("output " + v.Shape);
        if (v.Scope is not null) parts.Add("module " + v.Scope);
        if (v.ResidualNorm is { } r) parts.Add((v.Kind is GraphNodeKind.Parameter or GraphNodeKind.Leaf ? "gradient norm " : "residual norm (summed over successors) ") + Num(r));
        if (v.Successors > 1) parts.Add($"{v.Successors} successors");
        return string.Join("\n", parts);
    }

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);

    /// <summary>
    /// The graph in Graphviz's DOT language (render with <c>dot -Tsvg</c>): the same boxes, colours and edge labels as
    /// <see cref="ToSvg"/>, with the ops of each module in a cluster.
    /// </summary>
    public string ToDot()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("digraph autograd {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"monospace\", fontsize=10];\n  edge [fontsize=9, color=\"#888888\", fontcolor=\"#555555\"];\n");
        string Dot(GraphNode v)
        {
            var (fill, color) = Colours(v);
            bool many = v.Successors > 1 && v.Kind is not (GraphNodeKind.Parameter or GraphNodeKind.Leaf);
            return string.Create(inv, $"n{v.Id} [label=\"{DotEscape(string.Join("\n", Lines(v)))}\", fillcolor=\"{fill}\", color=\"{(many ? "#7b1fa2" : color)}\", penwidth={(many ? 2.6 : 1.0)}];");
        }
        // an op (or a parameter) sits in the cluster of the module that made (owns) it; groups are already one box
        var clusters = Nodes.Where(v => v.Kind != GraphNodeKind.Group && v.Scope is not null).GroupBy(v => v.Scope!).ToList();
        int c = 0;
        foreach (var cluster in clusters)
        {
            sb.Append(inv, $"  subgraph cluster_{c++} {{\n    label=\"{DotEscape(cluster.Key)}\"; style=\"rounded,dashed\"; color=\"#999999\"; fontname=\"monospace\"; fontsize=10;\n");
            foreach (var v in cluster) sb.Append("    ").Append(Dot(v)).Append('\n');
            sb.Append("  }\n");
        }
        foreach (var v in Nodes.Where(v => v.Kind == GraphNodeKind.Group || v.Scope is null)) sb.Append("  ").Append(Dot(v)).Append('\n');
        var logs = Edges.Where(e => e.ResidualNorm > 0).Select(e => Math.Log(e.ResidualNorm!.Value)).ToList();
        double lo = logs.Count > 0 ? logs.Min() : 0, hi = logs.Count > 0 ? logs.Max() : 0;
        foreach (var e in Edges)
        {
            double pw = e.ResidualNorm > 0 && hi > lo ? 0.8 + 2.7 * (Math.Log(e.ResidualNorm!.Value) - lo) / (hi - lo) : 1.2;
            sb.Append(inv, $"  n{e.From} -> n{e.To} [label=\"{DotEscape(EdgeLabel(e))}\", penwidth={pw:F2}];\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    private static string DotEscape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
