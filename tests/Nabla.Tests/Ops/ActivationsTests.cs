using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>Erf, GELU and softmax against known values and exp-over-sum.</summary>
public class ActivationsTests
{
    [Fact]
    public void ErfMatchesKnownValues()
    {
        var x = Tensor.FromArray([0.0, 0.5, 1.0, 2.0, -3.0, 6.0, -0.5, 1e-10, 4.9, 5.1]);
        var y = Values(x.Erf());
        double[] expected = [0.0, 0.5204998778130465, 0.8427007929497149, 0.9953222650189527, -0.9999779095030014,
            1 - 2.15e-17, -0.5204998778130465, 1.1283791670955126e-10, 1 - 4.218936524005766e-12, 1 - 5.493820217555321e-13];
        Close(expected, y, rel: 1e-15, abs: 1e-16);
        Assert.Equal(1.0, y[5]); // 1 − 2.15e-17 rounds to 1 in float64
        Assert.True(double.IsNaN(Tensor.FromArray([double.NaN]).Erf().Item()));
        Assert.Equal(-1.0, Tensor.FromArray([double.NegativeInfinity]).Erf().Item());
        Close([0.5204998778130465], Values(Tensor.FromArray([0.5f]).Erf()), rel: 1e-7);
    }

    [Fact]
    public void GeluMatchesKnownValues()
    {
        var x = Tensor.FromArray([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]);
        // 0.5·x·(1 + erf(x/√2)) and PyTorch's tanh form, evaluated with Python's math.erf / math.tanh
        Close([-0.04550026389635842, -0.15865525393145707, -0.15426876936299344, 0.0, 0.34573123063700656, 0.8413447460685429, 2.99595030590511],
            Values(x.Gelu()), rel: 1e-14, abs: 1e-16);
        Close([-0.04540230591222494, -0.15880800939172324, -0.15428599017485606, 0.0, 0.34571400982514394, 0.8411919906082768, 2.996362607918227],
            Values(x.Gelu("tanh")), rel: 1e-14, abs: 1e-16);
        Assert.Throws<ArgumentException>(() => x.Gelu("fast"));
    }

    [Fact]
    public void SoftmaxMatchesExpOverSumAndIsStable()
    {
        var x = Randn(5, 3, 4) * 3;
        var xd = Values(x);
        foreach (int dim in new[] { 0, 1, -1 })
        {
            int d = dim < 0 ? 1 : dim;
            var y = Values(x.Softmax(dim));
            var logY = Values(x.LogSoftmax(dim));
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 4; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < (d == 0 ? 3 : 4); k++) sum += Math.Exp(d == 0 ? xd[k * 4 + j] : xd[i * 4 + k]);
                    double e = Math.Exp(xd[i * 4 + j]) / sum;
                    Assert.Equal(e, y[i * 4 + j], 14);
                    Assert.Equal(Math.Log(e), logY[i * 4 + j], 13);
                }
            var rowSums = Values(x.Softmax(dim).Sum(dim));
            foreach (var s in rowSums) Assert.Equal(1.0, s, 14);
        }
        // large logits: no overflow (the max is subtracted first)
        var big = Tensor.FromArray([1000f, 1001f, 999f]);
        var p = Values(big.Softmax(0));
        Assert.All(p, v => Assert.True(double.IsFinite(v)));
        Close([0.24472847, 0.66524096, 0.09003057], p, rel: 1e-6);
        Close([-1.40760596, -0.40760596, -2.40760596], Values(big.LogSoftmax(-1)), rel: 1e-6);
        var t3 = Randn(6, 2, 3, 4);
        foreach (var s in Values(t3.Softmax(0).Sum(0))) Assert.Equal(1.0, s, 14);
    }
}
