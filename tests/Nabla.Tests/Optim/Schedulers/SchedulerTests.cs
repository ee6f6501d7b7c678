using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;

namespace Nabla.Tests.Optim.Schedulers;

/// <summary>
/// Schedules against torch 1.13's recorded values (<see cref="TorchReference"/>: group 0's lr before the first step
/// and after each) and against closed forms written here.
/// </summary>
public class SchedulerTests
{
    private static SGD Sgd(double lr = 0.1) => new([new Parameter(Tensor.Zeros(1))], lr, momentum: 0.9);

    private static (double[] Lr, double[] Momentum) Trace(Optimizer opt, LRScheduler s, int steps, double[]? metric = null)
    {
        string momKey = opt.Defaults.ContainsKey("betas.0") ? "betas.0" : "momentum";
        var lrs = new List<double> { opt.ParamGroups[0].LearningRate };
        var moms = new List<double> { opt.ParamGroups[0][momKey] };
        for (int t = 0; t < steps; t++)
        {
            if (metric is null) s.Step();
            else ((ReduceLROnPlateau)s).Step(metric[t]);
            lrs.Add(opt.ParamGroups[0].LearningRate);
            moms.Add(opt.ParamGroups[0][momKey]);
            Assert.Equal(opt.ParamGroups[0].LearningRate, s.LastLr[0]);
        }
        return ([.. lrs], [.. moms]);
    }

    private static void Exact(double[] expected, double[] actual, double rel = 1e-13) => OptimizerReferenceTests.Close(expected, actual, rel);

    public static IEnumerable<object[]> TorchCases() =>
    [
        ["StepLR", TorchReference.StepLr, (Func<Optimizer, LRScheduler>)(o => new StepLR(o, 3, 0.5))],
        ["MultiStepLR", TorchReference.MultiStepLr, (Func<Optimizer, LRScheduler>)(o => new MultiStepLR(o, [5, 2, 5], 0.1))],
        ["ExponentialLR", TorchReference.ExponentialLr, (Func<Optimizer, LRScheduler>)(o => new ExponentialLR(o, 0.9))],
        ["CosineAnnealingLR", TorchReference.CosineLr, (Func<Optimizer, LRScheduler>)(o => new CosineAnnealingLR(o, 5, 0.01))],
        ["LinearLR", TorchReference.LinearLr, (Func<Optimizer, LRScheduler>)(o => new LinearLR(o, 0.25, 1.0, 4))],
        ["OneCycleLR", TorchReference.OneCycleCos, (Func<Optimizer, LRScheduler>)(o => new OneCycleLR(o, 1.0, 10))],
        ["OneCycleLR linear 3-phase", TorchReference.OneCycleLinear3, (Func<Optimizer, LRScheduler>)(o => new OneCycleLR(o, 1.0, 12, pctStart: 0.25, annealStrategy: AnnealStrategy.Linear, threePhase: true, divFactor: 10, finalDivFactor: 100))],
        ["SequentialLR", TorchReference.SequentialLr, (Func<Optimizer, LRScheduler>)(o => new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 3), new CosineAnnealingLR(o, 6)], [3]))],
    ];

    [Theory]
    [MemberData(nameof(TorchCases))]
    public void MatchesTorch(string name, double[] torch, Func<Optimizer, LRScheduler> make)
    {
        var opt = Sgd();
        var (lrs, _) = Trace(opt, make(opt), torch.Length - 1);
        Exact(torch, lrs);
        Assert.NotEmpty(name);
    }

    [Fact]
    public void OneCycleCyclesMomentumAsTorch()
    {
        var opt = Sgd();
        var (_, mom) = Trace(opt, new OneCycleLR(opt, 1.0, 10), 9);
        Exact(TorchReference.OneCycleCosMomentum, mom);
        opt = Sgd();
        (_, mom) = Trace(opt, new OneCycleLR(opt, 1.0, 12, pctStart: 0.25, annealStrategy: AnnealStrategy.Linear, threePhase: true, divFactor: 10, finalDivFactor: 100), 11);
        Exact(TorchReference.OneCycleLinear3Momentum, mom);
        var adam = new Adam([new Parameter(Tensor.Zeros(1))], lr: 0.1);
        var (lr, beta) = Trace(adam, new OneCycleLR(adam, 0.5, 8), 7);
        Exact(TorchReference.OneCycleAdam, lr);
        Exact(TorchReference.OneCycleAdamMomentum, beta);
        var s = new OneCycleLR(Sgd(), 1.0, 2);
        s.Step();
        s.Step();
        Assert.Throws<InvalidOperationException>(() => s.Step());
    }

    [Fact]
    public void ReduceLROnPlateauMatchesTorch()
    {
        var opt = Sgd();
        var (lrs, _) = Trace(opt, new ReduceLROnPlateau(opt, PlateauMode.Min, factor: 0.5, patience: 1, cooldown: 1, minLr: 0.02), TorchReference.PlateauMetric.Length, TorchReference.PlateauMetric);
        Exact(TorchReference.PlateauMinRel, lrs);
        opt = Sgd();
        (lrs, _) = Trace(opt, new ReduceLROnPlateau(opt, PlateauMode.Max, factor: 0.5, patience: 2, threshold: 0.05, thresholdMode: ThresholdMode.Abs), TorchReference.PlateauMetric.Length, TorchReference.PlateauMetric);
        Exact(TorchReference.PlateauMaxAbs, lrs);
        Assert.Throws<InvalidOperationException>(() => new ReduceLROnPlateau(Sgd()).Step());
    }

    [Fact]
    public void RecursiveFormsAgreeWithClosedForms()
    {
        // independent closed forms (PyTorch's documentation), lr0 = 0.1
        const double lr0 = 0.1;
        var cases = new (Func<Optimizer, LRScheduler> Make, Func<int, double> Closed)[]
        {
            (o => new StepLR(o, 4, 0.3), t => lr0 * Math.Pow(0.3, t / 4)),
            (o => new MultiStepLR(o, [3, 7], 0.5), t => lr0 * Math.Pow(0.5, (t >= 3 ? 1 : 0) + (t >= 7 ? 1 : 0))),
            (o => new ExponentialLR(o, 0.95), t => lr0 * Math.Pow(0.95, t)),
            (o => new CosineAnnealingLR(o, 10, 0.001), t => 0.001 + (lr0 - 0.001) * (1 + Math.Cos(Math.PI * t / 10)) / 2),
            (o => new LinearLR(o, 0.2, 0.9, 6), t => lr0 * (0.2 + 0.7 * Math.Min(t, 6) / 6.0)),
        };
        foreach (var (make, closed) in cases)
        {
            var opt = Sgd(lr0);
            var (lrs, _) = Trace(opt, make(opt), 20);
            for (int t = 0; t < lrs.Length; t++)
                Assert.True(Math.Abs(lrs[t] - closed(t)) <= 1e-12, $"step {t}: {lrs[t]:R} vs closed form {closed(t):R}");
        }

        // OneCycle (cos): warm-up to max_lr at step pct·T − 1, then down to initial/final_div
        var o1 = Sgd();
        var (oc, _) = Trace(o1, new OneCycleLR(o1, 1.0, 20, pctStart: 0.25), 19);
        double init = 1.0 / 25, min = init / 1e4, up = 0.25 * 20 - 1;
        for (int t = 0; t < oc.Length; t++)
        {
            double expected = t <= up
                ? 1.0 + (init - 1.0) / 2 * (1 + Math.Cos(Math.PI * t / up))
                : min + (1.0 - min) / 2 * (1 + Math.Cos(Math.PI * (t - up) / (19 - up)));
            Assert.True(Math.Abs(oc[t] - expected) <= 1e-12, $"OneCycle step {t}: {oc[t]:R} vs {expected:R}");
        }
    }

    [Fact]
    public void ParamGroupsAreScheduledSeparatelyAndInitialLrIsRecorded()
    {
        var opt = new SGD([new ParamGroup([new Parameter(Tensor.Zeros(1))]), new ParamGroup([new Parameter(Tensor.Zeros(1))], new Dictionary<string, double> { ["lr"] = 1.0 })], lr: 0.1);
        var s = new StepLR(opt, 1, 0.5);
        s.Step();
        Assert.Equal([0.05, 0.5], s.LastLr);
        Assert.Equal([0.1, 1.0], s.BaseLrs);
        Assert.Equal(1.0, opt.ParamGroups[1]["initial_lr"]);
    }

    public static IEnumerable<object[]> ResumeCases() =>
    [
        ["CosineAnnealingLR", (Func<Optimizer, LRScheduler>)(o => new CosineAnnealingLR(o, 7, 0.01))],
        ["OneCycleLR", (Func<Optimizer, LRScheduler>)(o => new OneCycleLR(o, 1.0, 12))],
        ["SequentialLR", (Func<Optimizer, LRScheduler>)(o => new SequentialLR(o, [new LinearLR(o, 0.1, 1.0, 3), new CosineAnnealingLR(o, 8)], [3]))],
        ["ReduceLROnPlateau", (Func<Optimizer, LRScheduler>)(o => new ReduceLROnPlateau(o, factor: 0.5, patience: 1, cooldown: 1))],
    ];

    [Theory]
    [MemberData(nameof(ResumeCases))]
    public void StateDictResumesTheSchedule(string name, Func<Optimizer, LRScheduler> make)
    {
        void Advance(LRScheduler s, int t)
        {
            if (s is ReduceLROnPlateau r) r.Step(TorchReference.PlateauMetric[t]);
            else s.Step();
        }
        var opt = Sgd();
        var s = make(opt);
        for (int t = 0; t < 5; t++) Advance(s, t);
        var optState = opt.StateDict();
        var schedState = s.StateDict();
        Assert.Equal(5, (int)schedState["last_epoch"].Item());

        var opt2 = Sgd(0.7);
        var s2 = make(opt2);
        opt2.LoadStateDict(optState);
        s2.LoadStateDict(schedState);
        for (int t = 5; t < 11; t++)
        {
            Advance(s, t);
            Advance(s2, t);
            Assert.Equal(s.LastLr, s2.LastLr);
            Assert.Equal(opt.ParamGroups[0]["momentum"], opt2.ParamGroups[0]["momentum"]);
        }
        Assert.NotEmpty(name);
    }

    [Fact]
    public void LoadStateDictRejectsADifferentSchedule()
    {
        var s = new CosineAnnealingLR(Sgd(), 7);
        var state = s.StateDict();
        var other = new CosineAnnealingLR(Sgd(), 9);
        var e = Assert.Throws<ArgumentException>(() => other.LoadStateDict(state));
        Assert.Contains("'T_max' is 7", e.Message);
        state["last_epoch"] = Tensor.Scalar(1.5);
        state["extra"] = Tensor.Scalar(1);
        e = Assert.Throws<ArgumentException>(() => s.LoadStateDict(state));
        Assert.Contains("last_epoch", e.Message);
        Assert.Contains("unexpected key 'extra'", e.Message);
        Assert.Equal(0, s.LastEpoch);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepLR(Sgd(), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealingLR(Sgd(), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearLR(Sgd(), startFactor: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleLR(Sgd(), 1.0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(Sgd(), factor: 1.0));
        Assert.Throws<ArgumentException>(() => new OneCycleLR(new Adagrad([new Parameter(Tensor.Zeros(1))]), 1.0, 10));
        Assert.Throws<ArgumentException>(() => new StepLR(Sgd(), 2, lastEpoch: 3)); // resuming needs initial_lr
    }
}
