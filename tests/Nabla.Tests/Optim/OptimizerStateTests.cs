using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.Optim;

public class OptimizerStateTests
{
    private static Parameter P(params double[] v) => new(Tensor.FromArray(v.Select(x => (float)x).ToArray()));

    private static void SetGrads(IEnumerable<Tensor> ps, int t)
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
            "param_groups.0.lr", "param_groups.0.betas", "param_groups.0.eps", "param_groups.0.weight_decay",
            "param_groups.0.amsgrad", "param_groups.0.maximize", "param_groups.0.params",
            "param_groups.1.lr", "param_groups.1.betas", "param_groups.1.eps", "param_groups.1.weight_decay",
            "param_groups.1.amsgrad", "param_groups.1.maximize", "param_groups.1.params",
        ];
        Assert.Equal(expectedKeys.Order(), state.Keys.Order());
        Assert.Equal(3.0, state["state.0.step"].Item());
        Assert.Equal(0.05, state["param_groups.1.lr"].Item());
        Assert.Equal([1.0], state["param_groups.1.params"].ToDoubleArray());
        Assert.Equal([0.9, 0.999], state["param_groups.0.betas"].ToDoubleArray());

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
    public void StateDictsWithTheOldFlatBetasKeysStillLoad()
    {
        // Nabla wrote 'betas.0' and 'betas.1' as scalars before PyTorch's 'betas' pair: such files load unchanged
        Parameter[] Make() => [P(1, -2, 0.5)];
        var ps = Make();
        var opt = new Adam(ps, lr: 0.01, betas: (0.8, 0.95));
        for (int t = 0; t < 2; t++) { SetGrads(ps, t); opt.Step(); }
        var state = opt.StateDict();
        state.Remove("param_groups.0.betas");
        state["param_groups.0.betas.0"] = Tensor.Scalar(0.8, DType.Float64);
        state["param_groups.0.betas.1"] = Tensor.Scalar(0.95, DType.Float64);
        var qs = Make();
        qs[0].Copy(ps[0]);
        var opt2 = new Adam(qs, lr: 0.3);
        opt2.LoadStateDict(state);
        Assert.Equal((0.8, 0.95), opt2.ParamGroups[0].Betas);
        SetGrads(ps, 2); opt.Step();
        SetGrads(qs, 2); opt2.Step();
        Assert.Equal(ps[0].ToArray(), qs[0].ToArray());
    }

    [Fact]
    public void ParamGroupsTakeTypedHyperParameters()
    {
        var a = P(1, 2);
        var b = P(3);
        var opt = new Adam([new ParamGroup([a]), new ParamGroup([b]) { Lr = 0.05, Betas = (0.5, 0.9), Amsgrad = true, WeightDecay = 0.1 }], lr: 0.01);
        var (g0, g1) = (opt.ParamGroups[0], opt.ParamGroups[1]);
        Assert.Equal((0.01, (0.9, 0.999), 1e-8, 0.0, false, false), (g0.Lr, g0.Betas, g0.Eps, g0.WeightDecay, g0.Amsgrad, g0.Maximize));
        Assert.Equal((0.05, (0.5, 0.9), 0.1, true), (g1.Lr, g1.Betas, g1.WeightDecay, g1.Amsgrad));
        Assert.Equal(0.5, g1["betas.0"]);
        // the typed options drive the update: group 1 as a single-group Adam with the same options
        var c = P(3);
        var single = new Adam([c], lr: 0.05, betas: (0.5, 0.9), weightDecay: 0.1, amsgrad: true);
        for (int t = 0; t < 3; t++) { SetGrads([a, b], t); SetGrads([a, c], t); opt.Step(); single.Step(); }
        Assert.Equal(c.ToArray(), b.ToArray());
        // SGD's typed options; an option the optimizer lacks throws naming it
        var sgd = new SGD([new ParamGroup([P(1)]) { Momentum = 0.9, Nesterov = true }], lr: 0.1);
        Assert.True(sgd.ParamGroups[0].Nesterov);
        Assert.Equal(0.0, sgd.ParamGroups[0].Dampening);
        Assert.Contains("betas.0", Assert.Throws<KeyNotFoundException>(() => sgd.ParamGroups[0].Betas).Message);
        Assert.Throws<ArgumentException>(() => new SGD([new ParamGroup([P(1)]) { Nesterov = true }], lr: 0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([new ParamGroup([P(1)]) { Betas = (0.9, 1.0) }]));
        var rms = new RMSprop([new ParamGroup([P(1)]) { Alpha = 0.9, Centered = true }]);
        Assert.Equal((0.9, true, 0.0), (rms.ParamGroups[0].Alpha, rms.ParamGroups[0].Centered, rms.ParamGroups[0].Momentum));
        var ada = new Adagrad([new ParamGroup([P(1)]) { LrDecay = 0.1, InitialAccumulatorValue = 0.5 }]);
        Assert.Equal((0.1, 0.5), (ada.ParamGroups[0].LrDecay, ada.ParamGroups[0].InitialAccumulatorValue));
    }

    [Fact]
    public void OptimizersAcceptLeafTensorsAsPyTorch()
    {
        // a plain leaf tensor is optimised as a Parameter is; a non-leaf tensor is refused as PyTorch refuses it
        var x = Tensor.FromArray(new float[] { 1, -2 }).RequireGrad();
        var p = P(1, -2);
        var opt = new SGD([x], lr: 0.1, momentum: 0.5);
        var ref_ = new SGD([p], lr: 0.1, momentum: 0.5);
        for (int t = 0; t < 3; t++)
        {
            x.Grad = null;
            p.Grad = null;
            (x * x).Sum().Backward();
            (p * p).Sum().Backward();
            opt.Step();
            ref_.Step();
        }
        Assert.Equal(p.ToDoubleArray(), x.ToDoubleArray());
        Assert.Same(x, opt.Params[0]);
        var adam = new Adam(new[] { Tensor.Zeros(3).RequireGrad(), Tensor.Ones(2).RequireGrad() }, betas: (0.8, 0.9));
        Assert.Equal(2, adam.Params.Count);
        var e = Assert.Throws<ArgumentException>(() => new Adam([x * 2.0]));
        Assert.Contains("non-leaf", e.Message);
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
        state["param_groups.0.betas"] = Tensor.FromArray([0.9, 0.999, 0.5]);
        var other = new Adam([P(1, 2)], lr: 0.02);
        var e = Assert.Throws<ArgumentException>(() => other.LoadStateDict(state));
        Assert.Contains("Adam.LoadStateDict", e.Message);
        Assert.Contains("'state.0.exp_avg': shape [3]", e.Message);
        Assert.Contains("missing key 'param_groups.0.eps'", e.Message);
        Assert.Contains("unexpected key 'bogus'", e.Message);
        Assert.Contains("'param_groups.0.betas': betas must be a vector of 2, got shape [3]", e.Message);
        Assert.Equal(0.02, other.LearningRate);
        Assert.Empty(other.State(0));

        // a valid dict with a bad option: reported through the group check
        var good = opt.StateDict();
        good["param_groups.0.betas"] = Tensor.FromArray([0.9, 1.5]);
        e = Assert.Throws<ArgumentException>(() => other.LoadStateDict(good));
        Assert.Contains("betas.1", e.Message);

        // SGD state into Adam: the state keys do not fit
        var sgd = new SGD([P(1, 2)], 0.1, momentum: 0.9);
        SetGrads(sgd.Params, 0);
        sgd.Step();
        e = Assert.Throws<ArgumentException>(() => other.LoadStateDict(sgd.StateDict()));
        Assert.Contains("missing key 'param_groups.0.betas'", e.Message);
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
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], betas: (1.0, 0.999)));
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
