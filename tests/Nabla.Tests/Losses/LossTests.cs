using Nabla.Autograd;
using Nabla.Losses;

namespace Nabla.Tests.Losses;

public class LossTests
{
    private static readonly double[,] s_logits = { { 1, 2, 3 }, { 1, -1, 0 } };

    private static double Lse(double[] row) => Math.Log(row.Sum(Math.Exp));

    [Fact]
    public void CrossEntropyMatchesTheFormula()
    {
        var x = Tensor.FromArray(s_logits);
        var t = Tensor.FromArray(new float[] { 2, 0 });
        double l0 = Lse([1, 2, 3]) - 3, l1 = Lse([1, -1, 0]) - 1;
        Assert.Equal((l0 + l1) / 2, new CrossEntropyLoss().Forward(x, t).Item(), 5);
        Assert.Equal(l0 + l1, new CrossEntropyLoss(reduction: Reduction.Sum).Forward(x, t).Item(), 5);
        var none = new CrossEntropyLoss(reduction: Reduction.None).Forward(x, t).ToDoubleArray();
        Assert.Equal(l0, none[0], 5);
        Assert.Equal(l1, none[1], 5);
    }

    [Fact]
    public void CrossEntropyIsStableForHugeLogits()
    {
        var x = Tensor.FromArray(new float[] { 1000, 0, -1000 }, 1, 3);
        var loss = new CrossEntropyLoss().Forward(x, Tensor.FromArray(new float[] { 1 }));
        Assert.Equal(1000, loss.Item(), 3);
    }

    [Fact]
    public void CrossEntropyIgnoreIndexSkipsAndDoesNotCount()
    {
        var x = Tensor.FromArray(s_logits);
        var loss = new CrossEntropyLoss(ignoreIndex: -1).Forward(x, Tensor.FromArray(new float[] { 2, -1 }));
        Assert.Equal(Lse([1, 2, 3]) - 3, loss.Item(), 5);
    }

    [Fact]
    public void CrossEntropyRejectsBadTargets()
    {
        var x = Tensor.FromArray(s_logits);
        var e = Assert.Throws<ArgumentException>(() => new CrossEntropyLoss().Forward(x, Tensor.FromArray(new float[] { 3, 0 })));
        Assert.Contains("CrossEntropyLoss", e.Message);
        Assert.Contains("[0, 3)", e.Message);
        e = Assert.Throws<ArgumentException>(() => new CrossEntropyLoss().Forward(x, Tensor.FromArray(new float[] { 1, 0, 2 })));
        Assert.Contains("[2]", e.Message);
    }

    [Fact]
    public void NllOfLogSoftmaxEqualsCrossEntropy()
    {
        var x = Tensor.Randn([5, 4], generator: new Generator(2));
        var t = Tensor.FromArray(new float[] { 0, 3, 1, 1, 2 });
        Assert.Equal(new CrossEntropyLoss().Forward(x, t).Item(), new NLLLoss().Forward(x.LogSoftmax(1), t).Item(), 5);
    }

    [Fact]
    public void MseAndBceMatchFormulas()
    {
        var x = Tensor.FromArray(new float[] { 0.5f, -2f, 3f });
        var y = Tensor.FromArray(new float[] { 1f, 0f, 1f });
        Assert.Equal((0.25 + 4 + 4) / 3, new MSELoss().Forward(x, y).Item(), 5);
        double Bce(double z, double t) => -(t * Math.Log(1 / (1 + Math.Exp(-z))) + (1 - t) * Math.Log(1 - 1 / (1 + Math.Exp(-z))));
        Assert.Equal((Bce(0.5, 1) + Bce(-2, 0) + Bce(3, 1)) / 3, new BCEWithLogitsLoss().Forward(x, y).Item(), 5);
        var e = Assert.Throws<ArgumentException>(() => new MSELoss().Forward(x, Tensor.Zeros(2)));
        Assert.Contains("MSELoss", e.Message);
    }

    public static TheoryData<string> Cases => ["ce-mean", "ce-sum", "ce-none", "ce-ignore", "nll", "mse", "mse-sum", "bce"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void LossGradCheckInFloat64(string name)
    {
        var g = new Generator(5);
        var x = Tensor.Randn([4, 3], DType.Float64, g);
        var t = Tensor.FromArray(new double[] { 2, 0, 1, 1 });
        var w = Tensor.Randn([4], DType.Float64, g);
        var y = Tensor.Rand([4, 3], DType.Float64, g);
        Func<Tensor> f = name switch
        {
            "ce-mean" => () => new CrossEntropyLoss().Forward(x, t),
            "ce-sum" => () => new CrossEntropyLoss(reduction: Reduction.Sum).Forward(x, t),
            "ce-none" => () => new CrossEntropyLoss(reduction: Reduction.None).Forward(x, t) * w,
            "ce-ignore" => () => new CrossEntropyLoss(ignoreIndex: 1).Forward(x, t),
            "nll" => () => new NLLLoss().Forward(x.LogSoftmax(1), t),
            "mse" => () => new MSELoss().Forward(x, y),
            "mse-sum" => () => new MSELoss(Reduction.Sum).Forward(x, y),
            _ => () => new BCEWithLogitsLoss().Forward(x, y),
        };
        var r = GradCheck.Check(f, [x]);
        Assert.True(r.Passed, r.ToString());
    }
}
