using System.Xml.Linq;
using Nabla.Diagnostics;
using Nabla.NN;

namespace Nabla.Tests.Diagnostics;

/// <summary>The drawn autograd graph: residual norms worked by hand, module scopes, collapsing, layout and the SVG/DOT text.</summary>
public class AutogradGraphTests
{
    private static double Norm(IEnumerable<double> xs) => Math.Sqrt(xs.Sum(x => x * x));

    // loss = Σ w·w + Σ w: w feeds Mul twice and Sum once, so its gradient is the sum 2w + 1 over three successors
    [Fact]
    public void ParameterFeedingSeveralOpsShowsTheSumOfTheirResiduals()
    {
        double[] wv = [0.5, -1, 2];
        var w = new Parameter(Tensor.FromArray(wv));
        var loss = (w * w).Sum() + w.Sum();
        var g = AutogradGraph.Capture(loss);

        var param = Assert.Single(g.Nodes, v => v.Kind == GraphNodeKind.Leaf);
        Assert.Equal("[3]", param.Shape);
        Assert.Equal(3, param.Successors);
        Assert.Equal(Norm(wv.Select(x => 2 * x + 1)), param.ResidualNorm!.Value, 12);
        var into = g.Edges.Where(e => e.From == param.Id).Select(e => (g.Nodes[e.To].Label, e.ResidualNorm!.Value)).OrderBy(x => x.Item2).ToList();
        // d(w·w)/d(each factor) = the other factor = w; d(Σw)/dw = 1
        Assert.Equal(3, into.Count);
        Assert.Equal(Norm(wv), into[^1].Item2, 12);
        Assert.Equal(Norm(wv), into[^2].Item2, 12);
        Assert.Equal(Math.Sqrt(3), into[0].Item2, 12);
        var root = Assert.Single(g.Nodes, v => v.IsRoot);
        Assert.Equal(1, root.ResidualNorm!.Value, 12);
        Assert.Equal(wv.Select(x => 2 * x + 1), w.Grad!.ToDoubleArray());
    }

    // h = exp(w) feeds Sum and Mul (twice): its summed residual is 1 + 2h
    [Fact]
    public void IntermediateWithSeveralSuccessorsCarriesTheSummedResidual()
    {
        double[] wv = [0.1, -0.3];
        var w = new Parameter(Tensor.FromArray(wv));
        var h = w.Exp();
        var loss = h.Sum() + (h * h).Sum();
        var g = AutogradGraph.Capture(loss);
        var exp = Assert.Single(g.Nodes, v => v.Kind == GraphNodeKind.Op && v.Label == h.GradFn!.Name);
        Assert.Equal(3, exp.Successors);
        Assert.Equal(Norm(wv.Select(x => 1 + 2 * Math.Exp(x))), exp.ResidualNorm!.Value, 12);
        Assert.Contains(AutogradGraph.Lines(exp), l => l.StartsWith("Σ‖r‖", StringComparison.Ordinal) && l.EndsWith("from 3", StringComparison.Ordinal));
        // the edge from Exp's output back into w carries exp(w)·(1 + 2exp(w))
        var back = Assert.Single(g.Edges, e => e.To == exp.Id);
        Assert.Equal(Norm(wv.Select(x => Math.Exp(x) * (1 + 2 * Math.Exp(x)))), back.ResidualNorm!.Value, 12);
    }

    private static (Sequential Model, Tensor Loss) SmallMlp()
    {
        var gen = new Generator(7);
        var model = new Sequential(new Linear(4, 5, generator: gen), new ReLU(), new Linear(5, 3, generator: gen));
        var x = Tensor.Randn([6, 4], generator: gen);
        var y = Tensor.FromArray(new long[] { 0, 1, 2, 0, 1, 2 });
        return (model, Tensor.CrossEntropy(model.Forward(x), y));
    }

    [Fact]
    public void SequentialLayersNameTheirOpsAndParameters()
    {
        var (model, loss) = SmallMlp();
        var g = AutogradGraph.Capture(loss, model);
        var names = g.Nodes.Where(v => v.Kind == GraphNodeKind.Parameter).Select(v => v.Label).Order().ToList();
        Assert.Equal(["0.bias", "0.weight", "2.bias", "2.weight"], names);
        foreach (var (name, p) in model.NamedParameters())
            Assert.Equal(Norm(p.Grad!.ToDoubleArray()), g.Nodes.Single(v => v.Label == name).ResidualNorm!.Value, 9);
        Assert.Contains(g.Nodes, v => v.Kind == GraphNodeKind.Op && v.Scope == "0" && v.Shape == "[6, 5]");
        Assert.Contains(g.Nodes, v => v.Kind == GraphNodeKind.Op && v.Scope == "1" && v.Shape == "[6, 5]");
        Assert.Contains(g.Nodes, v => v.Kind == GraphNodeKind.Op && v.Scope == "2" && v.Shape == "[6, 3]");
        var root = Assert.Single(g.Nodes, v => v.IsRoot);
        Assert.Null(root.Scope);
        Assert.Equal("[]", root.Shape);
        Assert.Null(ModuleScope.Current);

        var c = g.Collapse();
        Assert.Equal(["0", "1", "2"], c.Nodes.Where(v => v.Kind == GraphNodeKind.Group).Select(v => v.Label));
        Assert.Equal(4, c.Nodes.Count(v => v.Kind == GraphNodeKind.Parameter));
        // the chain 0 → 1 → 2 → loss, and each parameter into its layer
        Assert.Contains(c.Edges, e => c.Nodes[e.From].Label == "0" && c.Nodes[e.To].Label == "1");
        Assert.Contains(c.Edges, e => c.Nodes[e.From].Label == "1" && c.Nodes[e.To].Label == "2");
        Assert.Contains(c.Edges, e => c.Nodes[e.From].Label == "2.weight" && c.Nodes[e.To].Label == "2");
    }

    [Fact]
    public void ForwardChildEntersTheChildsScope()
    {
        var m = new TwoLayers();
        var x = Tensor.Randn([2, 3], generator: new Generator(1));
        var g = AutogradGraph.FromTensor(m.Forward(x).Sum(), m);
        Assert.Contains(g.Nodes, v => v.Scope == "first");
        Assert.Contains(g.Nodes, v => v.Scope == "second");
        Assert.All(g.Edges, e => Assert.Null(e.ResidualNorm));
        Assert.Throws<ArgumentException>(() => m.CallStranger(x));
    }

    private sealed class TwoLayers : Module
    {
        private readonly Linear _a, _b;

        public TwoLayers()
        {
            var gen = new Generator(2);
            _a = RegisterModule("first", new Linear(3, 3, generator: gen));
            _b = RegisterModule("second", new Linear(3, 2, generator: gen));
        }

        public override Tensor Forward(Tensor input) => ForwardChild(_b, ForwardChild(_a, input).Tanh());

        public Tensor CallStranger(Tensor x) => ForwardChild(new Linear(3, 3), x);
    }

    // an LSTM written out in primitive ops (about a dozen per step), unrolled over 28 steps with one scope per step:
    // hundreds of ops, which collapse to 28 boxes in a chain
    internal static (AutogradGraph Full, Module Model) UnrolledLstm()
    {
        var gen = new Generator(3);
        var model = new Sequential(new Linear(28, 32, generator: gen), new Linear(8, 32, bias: false, generator: gen), new Linear(8, 10, generator: gen));
        var (ih, hh, fc) = ((Linear)model[0], (Linear)model[1], (Linear)model[2]);
        var x = Tensor.Randn([4, 28, 28], generator: gen);
        var h = Tensor.Zeros([4, 8]);
        var c = Tensor.Zeros([4, 8]);
        for (int t = 0; t < 28; t++)
        {
            using var _ = ModuleScope.Enter($"t{t}");
            var gates = x.Select(1, t).MatMul(ih.Weight.T) + ih.Bias! + h.MatMul(hh.Weight.T);
            var q = gates.Split(8, 1);
            c = q[1].Sigmoid() * c + q[0].Sigmoid() * q[2].Tanh();
            h = q[3].Sigmoid() * c.Tanh();
        }
        var loss = Tensor.CrossEntropy(fc.Forward(h), Tensor.FromArray(new long[] { 1, 2, 3, 4 }));
        return (AutogradGraph.Capture(loss, model), model);
    }

    [Fact]
    public void UnrolledLstmCollapsesPerTimeStep()
    {
        var (full, _) = UnrolledLstm();
        Assert.True(full.Nodes.Count > 28 * 10, $"{full.Nodes.Count} vertices");
        var steps = full.Collapse();
        var groups = Enumerable.Range(0, 28).Select(t => steps.Nodes.Single(v => v.Label == $"t{t}")).ToList();
        Assert.Equal(28, steps.Nodes.Count(v => v.Kind == GraphNodeKind.Group));
        Assert.All(groups, v => Assert.Contains("[4, 8]", v.Shape, StringComparison.Ordinal));
        // step t feeds step t+1; the weights feed all 28 (merged edges keep the count)
        for (int t = 0; t + 1 < 28; t++)
            Assert.Contains(steps.Edges, e => steps.Nodes[e.From].Label == $"t{t}" && steps.Nodes[e.To].Label == $"t{t + 1}");
        var wih = steps.Nodes.Single(v => v.Label == "0.weight");
        Assert.Equal(28, steps.Edges.Where(e => e.From == wih.Id).Sum(e => e.Count));
        var drawing = steps.Draw();
        var layout = drawing.Layout;
        // a chain: each step on its own layer, below the one before
        for (int t = 0; t + 1 < 28; t++)
            Assert.True(layout.Layer[groups[t + 1].Id] > layout.Layer[groups[t].Id]);
        AssertNoOverlap(drawing);
        AssertNoOverlap(full.Draw());
        // the shared weight is drawn once with its gradient and once more beside each other step that reads it
        Assert.Equal(27, drawing.Vertices.Where((v, i) => drawing.Ghost[i] && v.Label == "0.weight").Count());
        var svg = XDocument.Parse(steps.ToSvg());
        Assert.Equal(28, svg.Descendants().Count(e => e.Name.LocalName == "g" && (string?)e.Attribute("class") is { } c && c.Contains("group", StringComparison.Ordinal)));
    }

    private static void AssertNoOverlap(AutogradGraph.Drawing d)
    {
        var layout = d.Layout;
        var boxes = d.Vertices.Select((v, i) =>
        {
            var lines = d.LinesOf(i);
            double w = lines.Max(l => l.Length) * 6.7 + 16, h = lines.Count * 14 + 10;
            return (X0: layout.X[i] - w / 2, X1: layout.X[i] + w / 2, Y0: layout.Y[i] - h / 2, Y1: layout.Y[i] + h / 2);
        }).ToList();
        for (int i = 0; i < boxes.Count; i++)
        {
            Assert.True(boxes[i].X0 >= 0 && boxes[i].X1 <= layout.Width && boxes[i].Y0 >= 0 && boxes[i].Y1 <= layout.Height);
            for (int j = i + 1; j < boxes.Count; j++)
            {
                bool overlap = boxes[i].X0 < boxes[j].X1 && boxes[j].X0 < boxes[i].X1 && boxes[i].Y0 < boxes[j].Y1 && boxes[j].Y0 < boxes[i].Y1;
                Assert.False(overlap, $"{d.Vertices[i].Label} overlaps {d.Vertices[j].Label}");
            }
        }
    }

    [Fact]
    public void LayersFollowTheLongestPathAndSourcesSitAboveTheirConsumer()
    {
        // 0 → 1 → 2 → 3, and a source 4 read only by 3
        var layers = LayeredLayout.Layers(5, [(0, 1), (1, 2), (2, 3), (4, 3)]);
        Assert.Equal([0, 1, 2, 3, 2], layers);
        Assert.Throws<InvalidOperationException>(() => LayeredLayout.Layers(2, [(0, 1), (1, 0)]));
    }

    [Fact]
    public void BarycenterRemovesAvoidableCrossings()
    {
        // two parallel chains given crosswise: a0 → b1, a1 → b0 with a second layer ordered b0, b1
        var edges = new List<(int, int)> { (0, 3), (1, 2), (2, 4), (3, 5) };
        var layout = LayeredLayout.Compute(6, edges, [40, 40, 40, 40, 40, 40], [20, 20, 20, 20, 20, 20]);
        // after ordering, an edge's ends keep the same left/right relation as its sibling's
        Assert.Equal(layout.X[0] < layout.X[1], layout.X[3] < layout.X[2]);
        Assert.Equal(layout.X[3] < layout.X[2], layout.X[5] < layout.X[4]);
    }

    [Fact]
    public void SvgAndDotNameEveryVertexAndEdge()
    {
        var (model, loss) = SmallMlp();
        var g = AutogradGraph.Capture(loss, model);
        var svg = XDocument.Parse(g.ToSvg());
        var groups = svg.Descendants().Where(e => e.Name.LocalName == "g" && ((string?)e.Attribute("class"))?.StartsWith("node ", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(g.Nodes.Count, groups.Count);
        Assert.Equal(g.Edges.Count, svg.Descendants().Count(e => e.Name.LocalName == "path" && e.Attribute("marker-end") is not null));
        Assert.Contains(groups, e => e.Value.Contains("0.weight", StringComparison.Ordinal) && e.Value.Contains("‖grad‖", StringComparison.Ordinal));
        var dot = g.ToDot();
        Assert.StartsWith("digraph autograd {", dot, StringComparison.Ordinal);
        Assert.Equal(g.Edges.Count, dot.Split('\n').Count(l => l.Contains(" -> ", StringComparison.Ordinal)));
        Assert.Contains("cluster_", dot, StringComparison.Ordinal);
        // the same seeded step drawn through the one-call API gives the same text, norms included
        var (model2, loss2) = SmallMlp();
        Assert.Equal(dot, Graph.Render(loss2, model2, GraphFormat.Dot));
    }

    [Fact]
    public void CaptureRejectsATensorWithoutGraph()
    {
        var e = Assert.Throws<ArgumentException>(() => AutogradGraph.Capture(Tensor.Ones([2])));
        Assert.Contains("AutogradGraph.Capture", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => AutogradGraph.FromTensor(SmallMlp().Loss).Collapse(0));
    }
}
