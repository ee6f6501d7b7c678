using Nabla.Autograd;
using Nabla.NN;

namespace Nabla.Tests.NN;

public class ModuleTests
{
    [Fact]
    public void LinearForwardMatchesPlainLoops()
    {
        var g = new Generator(3);
        var layer = new Linear(5, 3, generator: g);
        var x = Tensor.Randn([4, 5], generator: g);
        var y = layer.Forward(x).ToArray();
        var w = layer.Weight.ToArray();
        var b = layer.Bias!.ToArray();
        var xs = x.ToArray();
        for (int i = 0; i < 4; i++)
            for (int o = 0; o < 3; o++)
            {
                double s = b[o];
                for (int k = 0; k < 5; k++) s += xs[i * 5 + k] * w[o * 5 + k];
                Assert.Equal(s, y[i * 3 + o], 5);
            }
    }

    [Fact]
    public void LinearInitIsPyTorchsUniformBoundAndSeeded()
    {
        var a = new Linear(100, 20, generator: new Generator(7));
        var b = new Linear(100, 20, generator: new Generator(7));
        Assert.Equal(a.Weight.ToArray(), b.Weight.ToArray());
        double bound = 1 / Math.Sqrt(100);
        Assert.All(a.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(a.Bias!.ToArray(), v => Assert.InRange(v, -bound, bound));
        // not degenerate: spread close to the bound
        Assert.True(a.Weight.ToArray().Max() > 0.9 * bound && a.Weight.ToArray().Min() < -0.9 * bound);
    }

    [Fact]
    public void StateDictUsesPyTorchKeysAndRoundTrips()
    {
        var model = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2, bias: false));
        var keys = model.StateDict().Keys.ToArray();
        Assert.Equal(["0.weight", "0.bias", "2.weight"], keys);
        var other = new Sequential(new Linear(4, 3, generator: new Generator(9)), new ReLU(), new Linear(3, 2, bias: false, generator: new Generator(9)));
        other.LoadStateDict(model.StateDict());
        Assert.Equal(model.StateDict()["0.weight"].ToArray(), other.StateDict()["0.weight"].ToArray());
        Assert.Equal(model.StateDict()["2.weight"].ToArray(), other.StateDict()["2.weight"].ToArray());
    }

    [Fact]
    public void LoadStateDictReportsEveryProblemAtOnce()
    {
        var model = new Sequential(new Linear(4, 3), new Linear(3, 2));
        var state = new Dictionary<string, Tensor>
        {
            ["0.weight"] = Tensor.Zeros(3, 5),
            ["0.bias"] = Tensor.Zeros(3),
            ["1.weight"] = Tensor.Zeros(2, 3),
            ["extra"] = Tensor.Zeros(1),
        };
        var e = Assert.Throws<ArgumentException>(() => model.LoadStateDict(state));
        Assert.Contains("'0.weight': shape [3, 5] in the state dict, [3, 4] in the model", e.Message);
        Assert.Contains("missing key '1.bias'", e.Message);
        Assert.Contains("unexpected key 'extra'", e.Message);
        Assert.Contains("3 problem(s)", e.Message);
    }

    [Fact]
    public void TrainAndEvalReachEverySubModule()
    {
        var inner = new Sequential(new Linear(2, 2), new ReLU());
        var model = new Sequential(inner, new Linear(2, 1));
        model.Eval();
        Assert.False(inner.Training);
        Assert.False(inner[0].Training);
        model.Train();
        Assert.True(inner[1].Training);
    }

    [Fact]
    public void LinearShapeMismatchNamesLayerAndShapes()
    {
        var layer = new Linear(784, 10);
        var e = Assert.Throws<ArgumentException>(() => layer.Forward(Tensor.Zeros(2, 100)));
        Assert.Contains("Linear", e.Message);
        Assert.Contains("784", e.Message);
        Assert.Contains("[2, 100]", e.Message);
    }

    [Fact]
    public void ZeroGradClearsAndBackwardAccumulates()
    {
        var layer = new Linear(3, 2, generator: new Generator(1));
        var x = Tensor.Ones(4, 3);
        layer.Forward(x).Sum().Backward();
        var once = layer.Weight.Grad!.ToArray();
        layer.Forward(x).Sum().Backward();
        Assert.Equal(once.Select(v => 2 * v), layer.Weight.Grad!.ToArray());
        layer.ZeroGrad();
        Assert.Null(layer.Weight.Grad);
    }

    public static TheoryData<string> Modules => ["linear", "linear-nobias", "mlp-relu", "tanh-sigmoid", "gelu", "gelu-tanh", "silu", "leaky", "softmax", "logsoftmax", "flatten"];

    [Theory]
    [MemberData(nameof(Modules))]
    public void ModuleGradCheckInFloat64(string name)
    {
        var g = new Generator(11);
        Module m = name switch
        {
            "linear" => new Linear(4, 3, dtype: DType.Float64, generator: g),
            "linear-nobias" => new Linear(4, 3, bias: false, dtype: DType.Float64, generator: g),
            "mlp-relu" => new Sequential(new Linear(4, 5, dtype: DType.Float64, generator: g), new ReLU(), new Linear(5, 3, dtype: DType.Float64, generator: g)),
            "tanh-sigmoid" => new Sequential(new Tanh(), new Linear(4, 3, dtype: DType.Float64, generator: g), new Sigmoid()),
            "gelu" => new Sequential(new Linear(4, 3, dtype: DType.Float64, generator: g), new GELU()),
            "gelu-tanh" => new Sequential(new Linear(4, 3, dtype: DType.Float64, generator: g), new GELU("tanh")),
            "silu" => new Sequential(new Linear(4, 3, dtype: DType.Float64, generator: g), new SiLU()),
            "leaky" => new Sequential(new Linear(4, 3, dtype: DType.Float64, generator: g), new LeakyReLU(0.2)),
            "softmax" => new Sequential(new Linear(4, 3, dtype: DType.Float64, generator: g), new Softmax(1)),
            "logsoftmax" => new Sequential(new Linear(4, 3, dtype: DType.Float64, generator: g), new LogSoftmax()),
            _ => new Sequential(new Flatten(), new Linear(4, 3, dtype: DType.Float64, generator: g)),
        };
        var x = name == "flatten" ? Tensor.Randn([2, 2, 2], DType.Float64, g) : Tensor.Randn([2, 4], DType.Float64, g);
        var inputs = new List<Tensor> { x };
        inputs.AddRange(m.Parameters());
        var r = GradCheck.Check(() => m.Forward(x), inputs);
        Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void ToStringLooksLikePyTorch()
    {
        var model = new Sequential(new Linear(784, 512), new ReLU());
        Assert.Equal("Sequential(\n  (0): Linear(in_features=784, out_features=512, bias=True)\n  (1): ReLU()\n)", model.ToString().Replace("\r", ""));
    }
}
