using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.Optim;

public class OptimizerStateTests
{
    private static Parameter P(params double[] v) => new(Tensor.FromArray(v.Select(x => (float)x).ToArray()));

    private static void SetGrads(IEnumerable<Parameter> ps, int t)
    {
        int k = 0;
        foreach (var p in ps)
        {
            var g = new float[p.Numel];
            for (int j = 0; j < g.Length; j++) g[j] = (float)OptimizerReferenceTests.Grad(t, j + k);
            k++;
            p.Grad = Tensor.FromArray(g, p.Shape.ToArray());
        }
    }

    [Fact]
    public void ParamGroupsUseTheirOwnHyperParameters()
    {
        // group 1 with lr 0.01 must move exactly as a separate SGD with lr 0.01
        var a = P(1, 2);
        var b = P(3, 4);
        var opt = new SGD([new ParamGroup([a]), new ParamGroup([b], new Dictionary<string, double> { ["lr"] = 0.01 })], lr: 0.1, momentum: 0.9);
        var b2 = P(3, 4);
        var alone = new SGD([b2], lr: 0.01, momentum: 0.9);
        for (int t = 0; t < 3; t++)
        {
            SetGrads([a, b], t);
            b2.Grad = b.Grad;
            opt.Step();
            alone.Step();
        }
        Assert.Equal(b2.ToArray(), b.ToArray());
        Assert.Equal(0.1, opt.ParamGroups[0].LearningRate);
        Assert.Equal(0.01, opt.ParamGroups[1]["lr"]);
        Assert.Equal(0.9, opt.ParamGroups[1]["momentum"]);
        Assert.Equal([a, b], opt.Params);
        opt.LearningRate = 0.5;
        Assert.All(opt.ParamGroups, g => Assert.Equal(0.5, g.LearningRate));
    }

    [Fact]
    public void StateDictUsesPyTorchNamesAndResumesBitIdentically()
    {
        Parameter[] Make() => [P(1, -2, 0.5), P(0.25, 0.75)];
        var ps = Make();
        var opt = new Adam([new ParamGroup([ps[0]]), new ParamGroup([ps[1]], new Dictionary<string, double> { ["lr"] = 0.05 })], lr: 0.01, amsgrad: true);
        for (int t = 0; t < 3; t++) { SetGrads(ps, t); opt.Step(); }
        var state = opt.StateDict();
        string[] expectedKeys =
        [
            "state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq",
            "state.1.step", "state.1.exp_avg", "state.1.exp_avg_sq", "state.1.max_exp_avg_sq",
            "param_groups.0.lr", "param_groups.0.betas.0", "param_groups.0.betas.1", "param_groups.0.eps", "param_groups.0.weight_decay",
            "param_groups.0.amsgrad", "param_groups.0.maximize", "param_groups.0.params",
            "param_groups.1.lr", "param_groups.1.betas.0", "param_groups.1.betas.1", "param_groups.1.eps", "param_groups.1.weight_decay",
            "param_groups.1.amsgrad", "param_groups.1.maximize", "param_groups.1.params",
        ];
        Assert.Equal(expectedKeys.Order(), state.Keys.Order());
        Assert.Equal(3.0, state["state.0.step"].Item());
        Assert.Equal(0.05, state["param_groups.1.lr"].Item());
        Assert.Equal([1.0], state["param_groups.1.params"].ToDoubleArray());

        // a fresh optimizer over copies, loaded from the state dict, continues exactly as the original
        var qs = Make();
        for (int i = 0; i < 2; i++) qs[i].Copy(ps[i]);
        var opt2 = new Adam([new ParamGroup([qs[0]]), new ParamGroup([qs[1]])], lr: 0.3, amsgrad: true);
        opt2.LoadStateDict(state);
        Assert.Equal(0.05, opt2.ParamGroups[1].LearningRate);
        for (int t = 3; t < 6; t++)
        {
            SetGrads(ps, t); opt.Step();
            SetGrads(qs, t); opt2.Step();
        }
        for (int i = 0; i < 2; i++) Assert.Equal(ps[i].ToArray(), qs[i].ToArray());
    }

    [Fact]
    public void StateDictIsASnapshot()
    {
        var p = P(1);
        var opt = new SGD([p], 0.1, momentum: 0.9);
        SetGrads([p], 0);
        opt.Step();
        var state = opt.StateDict();
        double before = state["state.0.momentum_buffer"].Item();
        SetGrads([p], 1);
        opt.Step();
        Assert.Equal(before, state["state.0.momentum_buffer"].Item());
    }

    [Fact]
    public void LoadStateDictReportsEveryProblemAndChangesNothing()
    {
        var p = P(1, 2);
        var opt = new Adam([p], lr: 0.01);
        SetGrads([p], 0);
        opt.Step();
        var state = opt.StateDict();
        state["state.0.exp_avg"] = Tensor.Zeros(3);
        state.Remove("param_groups.0.eps");
        state["bogus"] = Tensor.Zeros(1);
        state["param_groups.0.betas.1"] = Tensor.Scalar(1.5, DType.Float64);
        var other = new Adam([P(1, 2)], lr: 0.02);
        var e = Assert.Throws<ArgumentException>(() => other.LoadStateDict(state));
        Assert.Contains("Adam.LoadStateDict", e.Message);
        Assert.Contains("'state.0.exp_avg': shape [3]", e.Message);
        Assert.Contains("missing key 'param_groups.0.eps'", e.Message);
        Assert.Contains("unexpected key 'bogus'", e.Message);
        Assert.Equal(0.02, other.LearningRate);
        Assert.Empty(other.State(0));

        // a valid dict with a bad option: reported through the group check
        var good = opt.StateDict();
        good["param_groups.0.betas.1"] = Tensor.Scalar(1.5, DType.Float64);
        e = Assert.Throws<ArgumentException>(() => other.LoadStateDict(good));
        Assert.Contains("betas.1", e.Message);

        // SGD state into Adam: the state keys do not fit
        var sgd = new SGD([P(1, 2)], 0.1, momentum: 0.9);
        SetGrads(sgd.Params, 0);
        sgd.Step();
        e = Assert.Throws<ArgumentException>(() => other.LoadStateDict(sgd.StateDict()));
        Assert.Contains("missing key 'param_groups.0.betas.0'", e.Message);
    }

    [Fact]
    public void LoadStateDictConvertsStateToTheParameterDtype()
    {
        var p = P(1, 2);
        var opt = new RMSprop([p], momentum: 0.5);
        SetGrads([p], 0);
        opt.Step();
        var state = opt.StateDict();
        state["state.0.square_avg"] = state["state.0.square_avg"].To(DType.Float64);
        var other = new RMSprop([P(1, 2)], momentum: 0.5);
        other.LoadStateDict(state);
        Assert.Equal(DType.Float32, other.State(0)["square_avg"].DType);
    }

    [Fact]
    public void BadGroupsAndGradientsAreRejected()
    {
        var p = P(1, 2);
        Assert.Throws<ArgumentException>(() => new SGD([new ParamGroup([p]), new ParamGroup([p])], 0.1));
        Assert.Throws<ArgumentException>(() => new SGD([new ParamGroup(Array.Empty<Parameter>())], 0.1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], beta1: 1.0));
        Assert.Contains("betas.0", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RMSprop([p], alpha: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adagrad([p], lrDecay: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SGD([new ParamGroup([p], new Dictionary<string, double> { ["nesterov"] = 2 })], 0.1));
        var opt = new Adam([p]);
        p.Grad = Tensor.Zeros(3);
        var s = Assert.Throws<InvalidOperationException>(() => opt.Step());
        Assert.Contains("[2]", s.Message);
        Assert.Contains("[3]", s.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => opt.LearningRate = -1);
        Assert.Throws<KeyNotFoundException>(() => opt.ParamGroups[0]["momentum"]);
    }

    [Fact]
    public void AdagradHasStateBeforeTheFirstStepAndZeroGradClears()
    {
        var p = P(1, 2);
        var opt = new Adagrad([p], initialAccumulatorValue: 0.3);
        Assert.Equal(0.0, opt.State(0)["step"].Item());
        Assert.Equal([0.3f, 0.3f], opt.State(0)["sum"].ToArray());
        p.Grad = Tensor.Ones(2);
        opt.ZeroGrad();
        Assert.Null(p.Grad);
        opt.Step(); // no gradient: no change
        Assert.Equal([1f, 2f], p.ToArray());
        Assert.Equal(0.0, opt.State(0)["step"].Item());
    }
}
