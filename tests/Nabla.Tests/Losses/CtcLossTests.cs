using Nabla.Autograd;
using Nabla.Losses;

namespace Nabla.Tests.Losses;

/// <summary>CTC against alignments counted by hand, its error messages, and PyTorch's gradient convention.</summary>
public class CtcLossTests
{
    [Fact]
    public void TwoFramesOneLabelSumsItsThreeAlignments()
    {
        // T = 2, classes {∅, a}: the label "a" is aligned by (a, a), (∅, a) and (a, ∅)
        double[] p0 = [0.4, 0.6], p1 = [0.7, 0.3];
        var lp = Tensor.FromArray(new[] { p0[0], p0[1], p1[0], p1[1] }.Select(v => Math.Log(v)).ToArray(), 2, 2);
        double prob = p0[1] * p1[1] + p0[0] * p1[1] + p0[1] * p1[0];
        var loss = Tensor.CtcLoss(lp, Tensor.FromArray(new double[] { 1 }), [2], [1], reduction: Reduction.Sum);
        Assert.Equal(-Math.Log(prob), loss.Item(), 12);
        // a repeated label "aa" needs a blank between: (a, ∅, a) is the only alignment in 3 frames
        var lp3 = Tensor.FromArray(new[] { 0.2, 0.8, 0.9, 0.1, 0.3, 0.7 }.Select(v => Math.Log(v)).ToArray(), 3, 2);
        var rep = Tensor.CtcLoss(lp3, Tensor.FromArray(new double[] { 1, 1 }), [3], [2], reduction: Reduction.None);
        Assert.Equal(-Math.Log(0.8 * 0.9 * 0.7), rep.Item(), 12);
        Assert.Empty(rep.Shape.ToArray());
    }

    [Fact]
    public void MeanDividesByTargetLengthsThenAverages()
    {
        var lp = Tensor.Randn([6, 2, 4], DType.Float64, new Generator(3)).LogSoftmax(2);
        var targets = Tensor.FromArray(new double[] { 1, 2, 3, 0, 0, 0 }, 2, 3);
        var none = new CTCLoss(reduction: Reduction.None).Forward(lp, targets, [6, 6], [3, 0]).ToDoubleArray();
        var mean = new CTCLoss().Forward(lp, targets, Tensor.FromArray(new double[] { 6, 6 }), Tensor.FromArray(new double[] { 3, 0 })).Item();
        Assert.Equal((none[0] / 3 + none[1] / 1) / 2, mean, 12);
    }

    [Fact]
    public void GradientIsPyTorchsWithRespectToTheLogitsBehindLogSoftmax()
    {
        // Σ_c grad_tc = Σ_c e^{lp_tc} − 1 = 0 for every frame a sample uses, and 0 beyond its input length
        var lp = Tensor.Randn([5, 1, 3], DType.Float64, new Generator(4)).LogSoftmax(2).Detach().RequireGrad();
        Tensor.CtcLoss(lp, Tensor.FromArray(new double[] { 1, 2 }, 1, 2), [4], [2], reduction: Reduction.Sum).Backward();
        var g = lp.Grad!.Sum(2).ToDoubleArray();
        for (int t = 0; t < 5; t++) Assert.Equal(0, g[t], 12);
        Assert.All(lp.Grad.Narrow(0, 4, 1).ToDoubleArray(), v => Assert.Equal(0, v));
        // through LogSoftmax it is the true gradient of the loss in the logits
        var logits = Tensor.Randn([5, 2, 3], DType.Float64, new Generator(5));
        var r = GradCheck.Check(() => Tensor.CtcLoss(logits.LogSoftmax(2), Tensor.FromArray(new double[] { 1, 2, 2, 0 }, 2, 2), [5, 3], [2, 1]), [logits]);
        Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        var lp = Tensor.Zeros(4, 2, 3);
        var targets = Tensor.FromArray(new float[] { 1, 2, 1, 0 }, 2, 2);
        void Throws(string expected, Action a) => Assert.Contains(expected, Assert.Throws<ArgumentException>(a).Message);
        Throws("input_lengths[1] is 5", () => Tensor.CtcLoss(lp, targets, [4, 5], [2, 1]));
        Throws("target_lengths[0] is 3", () => Tensor.CtcLoss(lp, targets, [4, 4], [3, 1]));
        Throws("blank (3)", () => Tensor.CtcLoss(lp, targets, [4, 4], [2, 1], blank: 3));
        Throws("expected a class index in [0, 3)", () => Tensor.CtcLoss(lp, Tensor.FromArray(new float[] { 1, 7, 1, 0 }, 2, 2), [4, 4], [2, 1]));
        Throws("sum to 3", () => Tensor.CtcLoss(lp, Tensor.FromArray(new float[] { 1, 2 }), [4, 4], [2, 1]));
        Throws("batch size", () => Tensor.CtcLoss(lp, targets, [4], [2]));
        Throws("(T, N, C)", () => Tensor.CtcLoss(Tensor.Zeros(3), targets, [4], [2]));
    }
}
