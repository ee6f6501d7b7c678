using System.Globalization;

namespace Nabla.Diagnostics;

public sealed partial class AutogradGraph
{
    /// <summary>
    /// Groups the ops by the first <paramref name="depth"/> parts of their module path (<c>features.0.conv</c> at depth 1
    /// is <c>features</c>): each module, or each time step of a loop that entered a scope per step, becomes one vertex.
    /// Parameters and ops outside any module stay as they are; parallel edges merge (their count is kept).
    /// </summary>
    public AutogradGraph Collapse(int depth = 1)
    {
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), $"AutogradGraph.Collapse: depth must be at least 1, got {depth}.");
        var nodes = new List<GraphNode>();
        var map = new int[Nodes.Count];
        var groups = new Dictionary<string, GraphNode>(StringComparer.Ordinal);
        var members = new Dictionary<GraphNode, List<GraphNode>>();
        foreach (var v in Nodes)
        {
            string? key = v.Kind is GraphNodeKind.Op or GraphNodeKind.Group && v.Scope is not null ? Prefix(v.Scope, depth) : null;
            if (key is null)
            {
                var copy = new GraphNode(nodes.Count, v.Label, v.Kind)
                {
                    Shape = v.Shape, Scope = v.Scope, ResidualNorm = v.ResidualNorm, Count = v.Count, Detail = v.Detail, IsRoot = v.IsRoot,
                };
                map[v.Id] = copy.Id;
                nodes.Add(copy);
                continue;
            }
            if (!groups.TryGetValue(key, out var g))
            {
                g = new GraphNode(nodes.Count, key, GraphNodeKind.Group) { Scope = key, Count = 0 };
                groups[key] = g;
                members[g] = [];
                nodes.Add(g);
            }
            g.Count += v.Count;
            g.IsRoot |= v.IsRoot;
            members[g].Add(v);
            map[v.Id] = g.Id;
        }

        // a group shows what leaves it: the shape and residual of its members with edges out of the group
        var leaving = new HashSet<int>();
        foreach (var e in Edges)
            if (map[e.From] != map[e.To]) leaving.Add(e.From);
        foreach (var (g, list) in members)
        {
            var exits = list.Where(m => leaving.Contains(m.Id)).ToList();
            if (exits.Count == 0) exits = [list[^1]];
            g.Shape = string.Join(" ", exits.Select(m => m.Shape).Distinct().Take(3));
            var rs = exits.Where(m => m.ResidualNorm is not null).Select(m => m.ResidualNorm!.Value).ToList();
            g.ResidualNorm = rs.Count > 0 ? Math.Sqrt(rs.Sum(r => r * r)) : null;
            g.Detail = string.Join(", ", list.GroupBy(m => m.Label.EndsWith("Backward", StringComparison.Ordinal) ? m.Label[..^8] : m.Label)
                .OrderByDescending(x => x.Count()).Take(3)
                .Select(x => x.Count() > 1 ? string.Create(CultureInfo.InvariantCulture, $"{x.Key}×{x.Count()}") : x.Key))
                + (list.Select(m => m.Label).Distinct().Count() > 3 ? ", …" : "");
        }

        var edges = new List<GraphEdge>();
        var merged = new Dictionary<(int, int), GraphEdge>();
        foreach (var e in Edges)
        {
            int a = map[e.From], b = map[e.To];
            if (a == b) continue;
            if (merged.TryGetValue((a, b), out var m))
            {
                m.Count += e.Count;
                m.ResidualNorm = null;   // norms of residuals that were summed do not add up
                continue;
            }
            m = new GraphEdge(a, b, e.ResidualNorm) { Count = e.Count };
            merged[(a, b)] = m;
            edges.Add(m);
        }
        foreach (var e in edges) nodes[e.From].Successors++;
        return new AutogradGraph(nodes, edges);
    }

    private static string Prefix(string scope, int depth)
    {
        int i = -1;
        for (int d = 0; d < depth; d++)
        {
            i = scope.IndexOf('.', i + 1);
            if (i < 0) return scope;
        }
        return scope[..i];
    }
}
