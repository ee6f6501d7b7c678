using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.Optim;

public class SgdTests
{
    private static Parameter P(params double[] v) => new(Tensor.FromArray(v));

    [Fact]
    public void PlainSgdIsTheTextsRule()
    {
        var p = P(1.0, -2.0, 0.5);
        p.Grad = Tensor.FromArray(new double[] { 0.1, 0.2, -0.4 });
        new SGD([p], lr: 0.5).Step();
        Assert.Equal(new[] { 1.0 - 0.05, -2.0 - 0.1, 0.5 + 0.2 }, p.ToDoubleArray());
    }

    [Fact]
    public void MomentumDampeningWeightDecayFollowPyTorch()
    {
        // reference: PyTorch's documented rule, written out by hand
        double lr = 0.1, mu = 0.9, tau = 0.1, wd = 0.01;
        double theta = 1.0, buf = 0;
        var p = P(theta);
        var opt = new SGD([p], lr, momentum: mu, dampening: tau, weightDecay: wd);
        double[] grads = [0.5, -0.25, 1.0];
        for (int t = 0; t < grads.Length; t++)
        {
            double g = grads[t] + wd * theta;
            buf = t == 0 ? g : mu * buf + (1 - tau) * g;
            theta -= lr * buf;
            p.Grad = Tensor.FromArray(new[] { grads[t] });
            opt.Step();
            Assert.Equal(theta, p.ToDoubleArray()[0], 12);
        }
    }

    [Fact]
    public void NesterovFollowsPyTorch()
    {
        double lr = 0.1, mu = 0.9, theta = 1.0, buf = 0;
        var p = P(theta);
        var opt = new SGD([p], lr, momentum: mu, nesterov: true);
        double[] grads = [0.5, -0.25, 1.0];
        for (int t = 0; t < grads.Length; t++)
        {
            double g = grads[t];
            buf = t == 0 ? g : mu * buf + g;
            theta -= lr * (g + mu * buf);
            p.Grad = Tensor.FromArray(new[] { grads[t] });
            opt.Step();
            Assert.Equal(theta, p.ToDoubleArray()[0], 12);
        }
    }

    [Fact]
    public void BadHyperParametersAreRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SGD([P(1)], lr: -0.1));
        Assert.Contains("SGD", e.Message);
        Assert.Contains("-0.1", e.Message);
        Assert.Throws<ArgumentException>(() => new SGD(Array.Empty<Parameter>(), lr: 0.1));
        Assert.Throws<ArgumentException>(() => new SGD([P(1)], lr: 0.1, nesterov: true));
    }

    [Fact]
    public void ParametersWithoutGradientAreLeftAlone()
    {
        var p = P(3.0);
        new SGD([p], 1.0).Step();
        Assert.Equal(3.0, p.ToDoubleArray()[0]);
    }
}
