namespace Nabla.Diagnostics;

/// <summary>
/// A Sugiyama layered layout of a directed acyclic graph, top to bottom: layers by longest path (sources pulled down
/// next to their first consumer), long edges split by dummy vertices, crossings reduced by barycenter sweeps (the best
/// order seen is kept), and x coordinates pulled toward the neighbours' mean under the minimum-separation constraint.
/// </summary>
internal sealed class LayeredLayout
{
    public const double LayerGap = 46, NodeGap = 18, DummyWidth = 8;

    /// <summary>The centre of each vertex.</summary>
    public double[] X = [], Y = [];

    /// <summary>Width and height of the whole drawing, margins included.</summary>
    public double Width, Height;

    /// <summary>Per edge, the points it passes through: the source's bottom, its dummies, the target's top.</summary>
    public List<(double X, double Y)>[] Routes = [];

    /// <summary>Per vertex, its layer (0 at the top).</summary>
    public int[] Layer = [];

    public static LayeredLayout Compute(int n, IReadOnlyList<(int From, int To)> edges, double[] width, double[] height, double margin = 12)
    {
        var layer = Layers(n, edges);

        // the layered graph: real vertices 0..n-1, then dummies; every edge spans exactly one layer
        var w = new List<double>(width);
        var lay = new List<int>(layer);
        var up = new List<List<int>>();      // neighbours one layer above
        var down = new List<List<int>>();    // neighbours one layer below
        for (int i = 0; i < n; i++) { up.Add([]); down.Add([]); }
        var chains = new List<int>[edges.Count];
        for (int e = 0; e < edges.Count; e++)
        {
            var (a, b) = edges[e];
            var chain = new List<int> { a };
            for (int l = layer[a] + 1; l < layer[b]; l++)
            {
                int d = w.Count;
                w.Add(DummyWidth);
                lay.Add(l);
                up.Add([]);
                down.Add([]);
                chain.Add(d);
            }
            chain.Add(b);
            for (int i = 0; i + 1 < chain.Count; i++)
            {
                down[chain[i]].Add(chain[i + 1]);
                up[chain[i + 1]].Add(chain[i]);
            }
            chains[e] = chain;
        }
        int total = w.Count, layers = n == 0 ? 0 : lay.Max() + 1;
        var rows = new List<int>[layers];
        for (int l = 0; l < layers; l++) rows[l] = [];
        for (int v = 0; v < total; v++) rows[lay[v]].Add(v);   // vertices come inputs-first, so this is a fair start
        var pos = new double[total];

        Order(rows, up, down, pos);
        var x = Coordinates(rows, up, down, w, n);

        // y: each layer as tall as its tallest vertex
        var layerTop = new double[layers];
        var layerHeight = new double[layers];
        for (int v = 0; v < n; v++) layerHeight[layer[v]] = Math.Max(layerHeight[layer[v]], height[v]);
        double y = margin;
        for (int l = 0; l < layers; l++)
        {
            layerTop[l] = y;
            y += layerHeight[l] + LayerGap;
        }
        double minX = double.MaxValue, maxX = double.MinValue;
        for (int v = 0; v < total; v++)
        {
            minX = Math.Min(minX, x[v] - w[v] / 2);
            maxX = Math.Max(maxX, x[v] + w[v] / 2);
        }
        if (total == 0) minX = maxX = 0;
        for (int v = 0; v < total; v++) x[v] += margin - minX;
        var result = new LayeredLayout
        {
            X = x[..n],
            Y = new double[n],
            Layer = layer,
            Width = maxX - minX + 2 * margin,
            Height = Math.Max(y - LayerGap + margin, 2 * margin),
            Routes = new List<(double, double)>[edges.Count],
        };
        for (int v = 0; v < n; v++) result.Y[v] = layerTop[layer[v]] + layerHeight[layer[v]] / 2;
        for (int e = 0; e < edges.Count; e++)
        {
            var chain = chains[e];
            var route = new List<(double, double)> { (x[chain[0]], result.Y[chain[0]] + height[chain[0]] / 2) };
            for (int i = 1; i + 1 < chain.Count; i++)
            {
                int l = lay[chain[i]];
                route.Add((x[chain[i]], layerTop[l]));
                route.Add((x[chain[i]], layerTop[l] + layerHeight[l]));
            }
            int last = chain[^1];
            route.Add((x[last], result.Y[last] - height[last] / 2));
            result.Routes[e] = route;
        }
        return result;
    }

    // Longest path from the sources; then each source moves down to just above its nearest consumer, so parameters
    // sit beside the op that reads them instead of all in the top row.
    internal static int[] Layers(int n, IReadOnlyList<(int From, int To)> edges)
    {
        var outs = new List<int>[n];
        var indeg = new int[n];
        for (int i = 0; i < n; i++) outs[i] = [];
        foreach (var (a, b) in edges)
        {
            outs[a].Add(b);
            indeg[b]++;
        }
        var layer = new int[n];
        var topo = new List<int>(n);
        var queue = new Queue<int>();
        var left = (int[])indeg.Clone();
        for (int i = 0; i < n; i++) if (left[i] == 0) queue.Enqueue(i);
        while (queue.Count > 0)
        {
            int v = queue.Dequeue();
            topo.Add(v);
            foreach (int s in outs[v])
            {
                layer[s] = Math.Max(layer[s], layer[v] + 1);
                if (--left[s] == 0) queue.Enqueue(s);
            }
        }
        if (topo.Count != n) throw new InvalidOperationException("LayeredLayout: the graph has a cycle; an autograd graph never does.");
        for (int i = 0; i < n; i++)
            if (indeg[i] == 0 && outs[i].Count > 0) layer[i] = outs[i].Min(s => layer[s]) - 1;
        return layer;
    }

    // Barycenter sweeps, down then up, keeping the order with the fewest crossings.
    private static void Order(List<int>[] rows, List<List<int>> up, List<List<int>> down, double[] pos)
    {
        void Number()
        {
            foreach (var row in rows)
                for (int i = 0; i < row.Count; i++) pos[row[i]] = i;
        }
        Number();
        var best = rows.Select(r => r.ToArray()).ToArray();
        long bestCrossings = Crossings(rows, down, pos);
        for (int sweep = 0; sweep < 24 && bestCrossings > 0; sweep++)
        {
            bool goingDown = sweep % 2 == 0;
            for (int k = 1; k < rows.Length; k++)
            {
                int l = goingDown ? k : rows.Length - 1 - k;
                var nbrs = goingDown ? up : down;
                var row = rows[l];
                var key = new Dictionary<int, double>(row.Count);
                foreach (int v in row)
                    key[v] = nbrs[v].Count == 0 ? pos[v] : nbrs[v].Average(u => pos[u]);
                // a stable sort keeps ties in their current order
                var sorted = row.Select((v, i) => (v, i)).OrderBy(p => key[p.v]).ThenBy(p => p.i).Select(p => p.v).ToList();
                rows[l] = sorted;
                for (int i = 0; i < sorted.Count; i++) pos[sorted[i]] = i;
            }
            long c = Crossings(rows, down, pos);
            if (c < bestCrossings)
            {
                bestCrossings = c;
                best = rows.Select(r => r.ToArray()).ToArray();
            }
        }
        for (int l = 0; l < rows.Length; l++) rows[l] = [.. best[l]];
        Number();
    }

    internal static long Crossings(List<int>[] rows, List<List<int>> down, double[] pos)
    {
        long count = 0;
        for (int l = 0; l + 1 < rows.Length; l++)
        {
            var seg = new List<(double A, double B)>();
            foreach (int v in rows[l])
                foreach (int u in down[v]) seg.Add((pos[v], pos[u]));
            seg.Sort();
            // pairs whose ends are in opposite orders (quadratic; the graphs drawn are a few hundred edges per layer at most)
            for (int i = 0; i < seg.Count; i++)
                for (int j = i + 1; j < seg.Count; j++)
                    if (seg[i].A < seg[j].A && seg[i].B > seg[j].B) count++;
        }
        return count;
    }

    // Pack each row left to right, then alternately pull every vertex toward the mean x of its neighbours above (or
    // below) while keeping the order and the gaps (see Place).
    private static double[] Coordinates(List<int>[] rows, List<List<int>> up, List<List<int>> down, List<double> w, int real)
    {
        var x = new double[w.Count];
        foreach (var row in rows)
        {
            double cur = 0;
            foreach (int v in row)
            {
                x[v] = cur + w[v] / 2;
                cur += w[v] + NodeGap;
            }
        }
        for (int iter = 0; iter < 16; iter++)
        {
            bool goingDown = iter % 2 == 0;
            for (int k = 0; k < rows.Length; k++)
            {
                int l = goingDown ? k : rows.Length - 1 - k;
                var row = rows[l];
                var wish = new double[row.Count];
                for (int i = 0; i < row.Count; i++)
                {
                    int v = row[i];
                    var nbrs = (goingDown ? up[v] : down[v]).Count > 0 ? (goingDown ? up[v] : down[v]) : (goingDown ? down[v] : up[v]);
                    // sources (parameters) follow their reader; the reader follows the data flow, else a chain
                    // whose every step reads a parameter drifts sideways
                    var main = nbrs.Where(u => up[u].Count > 0).ToList();
                    if (main.Count == 0) main = nbrs;
                    wish[i] = main.Count > 0 ? main.Average(u => x[u]) : x[v];
                }
                Place(row, wish, w, up, real, x);
            }
        }
        return x;
    }

    // The priority method: ops that carry the data flow are placed first at their wished x, then dummies, then
    // sources (parameters); each as close to its wish as the vertices already placed on either side allow, leaving
    // room for those still to come between them.
    private static void Place(List<int> row, double[] wish, List<double> w, List<List<int>> up, int real, double[] x)
    {
        int n = row.Count;
        var cum = new double[n];
        for (int i = 1; i < n; i++) cum[i] = cum[i - 1] + (w[row[i - 1]] + w[row[i]]) / 2 + NodeGap;
        int Priority(int i) => up[row[i]].Count == 0 ? 0 : row[i] >= real ? 1 : 2;
        var order = Enumerable.Range(0, n).OrderByDescending(Priority).ThenBy(i => i).ToArray();
        var placed = new bool[n];
        var pos = new double[n];
        foreach (int i in order)
        {
            double lo = double.NegativeInfinity, hi = double.PositiveInfinity;
            for (int a = i - 1; a >= 0; a--)
                if (placed[a]) { lo = pos[a] + cum[i] - cum[a]; break; }
            for (int b = i + 1; b < n; b++)
                if (placed[b]) { hi = pos[b] - (cum[b] - cum[i]); break; }
            pos[i] = Math.Clamp(wish[i], lo, Math.Max(lo, hi));
            placed[i] = true;
        }
        for (int i = 0; i < n; i++) x[row[i]] = pos[i];
    }
}
