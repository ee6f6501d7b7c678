using Nabla.Losses;

namespace Nabla.Tests.Losses;

/// <summary>The loss modules as modules (buffers, reduction helper, errors) and closed-form values worked by hand.</summary>
public class LossModuleTests
{
    private sealed class LogCoshLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
    {
        public override Tensor Forward(Tensor input, Tensor target) => Reduce(((input - target).Exp() + (target - input).Exp()).Log() - Math.Log(2));
    }

    private static void Close(double[] expected, Tensor actual)
    {
        var a = actual.ToDoubleArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(expected[i], a[i], 12);
    }

    [Fact]
    public void UserLossUsesTheReductionHelper()
    {
        var x = Tensor.FromArray(new double[] { 1, -2 });
        var y = Tensor.FromArray(new double[] { 0, 0 });
        double l1 = Math.Log(Math.Cosh(1)), l2 = Math.Log(Math.Cosh(2));
        Assert.Equal((l1 + l2) / 2, new LogCoshLoss().Forward(x, y).Item(), 12);
        Assert.Equal(l1 + l2, new LogCoshLoss(Reduction.Sum).Forward(x, y).Item(), 12);
        Close([l1, l2], new LogCoshLoss(Reduction.None).Forward(x, y));
        var e = Assert.Throws<ArgumentException>(() => new LogCoshLoss(Reduction.BatchMean).Forward(x, y));
        Assert.Contains("LogCoshLoss", e.Message);
    }

    [Fact]
    public void WeightsAreBuffersUnderPyTorchKeys()
    {
        var w = Tensor.FromArray(new double[] { 1, 2, 3 });
        Assert.Equal(["weight"], new CrossEntropyLoss(w).StateDict().Keys);
        Assert.Equal(["weight"], new NLLLoss(w).StateDict().Keys);
        Assert.Equal(["weight", "pos_weight"], new BCEWithLogitsLoss(w, posWeight: w).StateDict().Keys);
        Assert.Empty(new CrossEntropyLoss().StateDict());
        Assert.Empty(new MSELoss().Parameters());
    }

    [Fact]
    public void ALossNeedsATarget()
    {
        Nabla.NN.Module m = new MSELoss();
        var e = Assert.Throws<NotSupportedException>(() => m.Forward(Tensor.Zeros(2)));
        Assert.Contains("MSELoss", e.Message);
        e = Assert.Throws<NotSupportedException>(() => new TripletMarginLoss().Forward(Tensor.Zeros(2), Tensor.Zeros(2)));
        Assert.Contains("TripletMarginLoss", e.Message);
    }

    [Fact]
    public void BadArgumentsNameTheLoss()
    {
        Assert.Contains("HuberLoss", Assert.Throws<ArgumentException>(() => new HuberLoss(delta: 0)).Message);
        Assert.Contains("SmoothL1Loss", Assert.Throws<ArgumentException>(() => new SmoothL1Loss(beta: -1)).Message);
        Assert.Contains("CrossEntropyLoss", Assert.Throws<ArgumentException>(() => new CrossEntropyLoss(labelSmoothing: 1.5)).Message);
        Assert.Contains("NLLLoss", Assert.Throws<ArgumentException>(() => new NLLLoss(reduction: Reduction.BatchMean)).Message);
        var x = Tensor.FromArray(new double[] { 0.5, 1.5 });
        var e = Assert.Throws<ArgumentException>(() => new BCELoss().Forward(x, x));
        Assert.Contains("BCELoss", e.Message);
        Assert.Contains("1.5", e.Message);
        e = Assert.Throws<ArgumentException>(() => new CrossEntropyLoss(Tensor.Ones(4)).Forward(Tensor.Zeros(2, 3), Tensor.Zeros(2)));
        Assert.Contains("size C = 3", e.Message);
        e = Assert.Throws<ArgumentException>(() => new CrossEntropyLoss().Forward(Tensor.Zeros(2, 3, 4), Tensor.Zeros(2, 3)));
        Assert.Contains("[2, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new NLLLoss().Forward(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3)));
        Assert.DoesNotContain("probabilities", e.Message);
        Assert.Contains("NLLLoss", e.Message);
        e = Assert.Throws<ArgumentException>(() => new GaussianNLLLoss().Forward(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3), Tensor.Ones(3)));
        Assert.Contains("GaussianNLLLoss", e.Message);
        e = Assert.Throws<ArgumentException>(() => new GaussianNLLLoss().Forward(Tensor.Zeros(2), Tensor.Zeros(2), Tensor.FromArray(new float[] { 1, -1 })));
        Assert.Contains("negative", e.Message);
        e = Assert.Throws<ArgumentException>(() => new CosineEmbeddingLoss().Forward(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3), Tensor.Zeros(2, 1)));
        Assert.Contains("CosineEmbeddingLoss", e.Message);
    }

    [Fact]
    public void RegressionLossesMatchHandValues()
    {
        var x = Tensor.FromArray(new double[] { 0.5, -3, 2 });
        var y = Tensor.FromArray(new double[] { 0, 0, 0.5 });
        // d = 0.5, −3, 1.5
        Close([0.5, 3, 1.5], new L1Loss(Reduction.None).Forward(x, y));
        Close([0.125, 2.5, 1.0], new SmoothL1Loss(Reduction.None).Forward(x, y));
        Close([0.0625, 2, 0.5625], new SmoothL1Loss(Reduction.None, beta: 2).Forward(x, y));
        Close([0.125, 4, 1.125], new HuberLoss(Reduction.None, delta: 2).Forward(x, y));
        Assert.Equal(0.5 * (Math.Log(2) + 0.25 / 2), new GaussianNLLLoss().Forward(x.Narrow(0, 0, 1), y.Narrow(0, 0, 1), Tensor.FromArray(new double[] { 2 })).Item(), 12);
    }

    [Fact]
    public void ClassificationLossesMatchHandValues()
    {
        // logits (0, ln 3): softmax (1/4, 3/4)
        var x = Tensor.FromArray(new double[] { 0, Math.Log(3) }, 1, 2);
        Assert.Equal(-Math.Log(0.75), new CrossEntropyLoss().Forward(x, Tensor.FromArray(new double[] { 1 })).Item(), 12);
        // ε = 0.5: (1 − ε)·(−log ¾) + ε/2·(−log ¼ − log ¾)
        double smooth = 0.5 * -Math.Log(0.75) + 0.25 * (-Math.Log(0.25) - Math.Log(0.75));
        Assert.Equal(smooth, new CrossEntropyLoss(labelSmoothing: 0.5).Forward(x, Tensor.FromArray(new double[] { 1 })).Item(), 12);
        // probability target (½, ½)
        Assert.Equal(-0.5 * (Math.Log(0.25) + Math.Log(0.75)), new CrossEntropyLoss().Forward(x, Tensor.FromArray(new double[] { 0.5, 0.5 }, 1, 2)).Item(), 12);
        // weighted mean: (w_1·l_a + w_0·l_b) / (w_1 + w_0) with w = (1, 3)
        var two = Tensor.FromArray(new double[] { 0, Math.Log(3), 0, Math.Log(3) }, 2, 2);
        var ce = new CrossEntropyLoss(Tensor.FromArray(new double[] { 1, 3 })).Forward(two, Tensor.FromArray(new double[] { 1, 0 })).Item();
        Assert.Equal((3 * -Math.Log(0.75) + 1 * -Math.Log(0.25)) / 4, ce, 12);
        // BCE clamps log 0 at −100
        Assert.Equal(100, new BCELoss().Forward(Tensor.FromArray(new double[] { 0 }), Tensor.FromArray(new double[] { 1 })).Item(), 12);
        // KL: ½·(log ½ − log ¼) + ½·(log ½ − log ¾), batchmean over one row
        var kl = new KLDivLoss(Reduction.BatchMean).Forward(Tensor.FromArray(new double[] { Math.Log(0.25), Math.Log(0.75) }, 1, 2), Tensor.FromArray(new double[] { 0.5, 0.5 }, 1, 2));
        Assert.Equal(0.5 * Math.Log(2) + 0.5 * Math.Log(2.0 / 3), kl.Item(), 12);
    }

    [Fact]
    public void EmbeddingLossesMatchHandValues()
    {
        var a = Tensor.FromArray(new double[] { 1, 0 }, 1, 2);
        var b = Tensor.FromArray(new double[] { 1, 1 }, 1, 2);
        // cos = 1/√2
        Assert.Equal(1 - 1 / Math.Sqrt(2), new CosineEmbeddingLoss().Forward(a, b, Tensor.FromArray(new double[] { 1 })).Item(), 10);
        Assert.Equal(1 / Math.Sqrt(2) - 0.5, new CosineEmbeddingLoss(0.5).Forward(a, b, Tensor.FromArray(new double[] { -1 })).Item(), 10);
        Assert.Equal(0.5, new MarginRankingLoss(1).Forward(Tensor.FromArray(new double[] { 2.5 }), Tensor.FromArray(new double[] { 2 }), Tensor.FromArray(new double[] { 1 })).Item(), 12);
        // d(a, a) = ‖eps‖ = √2·1e-6, d(a, b) = ‖(0, −1) + eps‖
        double dNeg = Math.Sqrt(1e-12 + (1 - 1e-6) * (1 - 1e-6));
        Assert.Equal(Math.Sqrt(2) * 1e-6 - dNeg + 2, new TripletMarginLoss(2).Forward(a, a, b).Item(), 12);
    }
}
