using Nabla.NN;

namespace Nabla.Tests.Ops;

/// <summary>Pooling and dropout forward results against plain loops and hand-computed values.</summary>
public class PoolForwardTests
{
    private static Tensor R(Generator g, params int[] shape) => Tensor.Randn(shape, DType.Float64, g);

    [Theory]
    [InlineData(5, 5, 2, 2, 0, 1, false)]
    [InlineData(5, 5, 2, 2, 0, 1, true)]
    [InlineData(7, 6, 3, 2, 1, 1, true)]
    [InlineData(9, 8, 3, 2, 1, 2, false)]
    [InlineData(6, 6, 3, 3, 1, 1, true)]
    public void MaxPool2dMatchesPlainLoops(int h, int w, int k, int s, int p, int d, bool ceil)
    {
        var x = R(new Generator(9), 2, 3, h, w);
        var y = x.MaxPool2d(k, s, p, d, ceil);
        int oh = y.Size(2), ow = y.Size(3);
        // the output size rule, written out
        int Out(int len)
        {
            double v = (len + 2.0 * p - d * (k - 1) - 1) / s;
            int o = (int)(ceil ? Math.Ceiling(v) : Math.Floor(v)) + 1;
            if (ceil && (o - 1) * s >= len + p) o--;
            return o;
        }
        Assert.Equal(Out(h), oh);
        Assert.Equal(Out(w), ow);
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double m = double.NegativeInfinity;
                        for (int a = 0; a < k; a++)
                            for (int b = 0; b < k; b++)
                            {
                                int r = i * s - p + a * d, q = j * s - p + b * d;
                                if (r >= 0 && r < h && q >= 0 && q < w) m = Math.Max(m, x[n, c, r, q]);
                            }
                        Assert.Equal(m, y[n, c, i, j]);
                    }
    }

    [Fact]
    public void MaxPoolResidualGoesToTheArgMax()
    {
        var x = Tensor.FromArray([1.0, 5, 2, 0, 3, 4, 9, 8, 7, 6, 1, 2, 0, 0, 3, 1], 1, 1, 4, 4).RequireGrad();
        var y = x.MaxPool2d(2);
        Assert.Equal([5.0, 9, 7, 3], y.ToDoubleArray());
        y.Backward(Tensor.FromArray([1.0, 2, 3, 4], 1, 1, 2, 2));
        Assert.Equal([0.0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void MaxPoolTiesGoToTheFirstMaximum()
    {
        var x = Tensor.Ones([1, 1, 2, 2], DType.Float64).RequireGrad();
        x.MaxPool2d(2).Sum().Backward();
        Assert.Equal([1.0, 0, 0, 0], x.Grad!.ToDoubleArray());
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void AvgPool2dDivisors(bool countIncludePad, bool ceil)
    {
        // 5x5 input, k3 s2 p1: PyTorch's divisor clips the window to the padded input (include) or the input (exclude)
        int h = 5, k = 3, s = 2, p = 1;
        var x = R(new Generator(1), 1, 2, h, h);
        var y = x.AvgPool2d(k, s, p, ceil, countIncludePad);
        int oh = y.Size(2);
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < oh; j++)
                {
                    int r0 = i * s - p, q0 = j * s - p;
                    int r1 = Math.Min(r0 + k, h + p), q1 = Math.Min(q0 + k, h + p);
                    int padded = (r1 - r0) * (q1 - q0);
                    double sum = 0;
                    int count = 0;
                    for (int r = Math.Max(r0, 0); r < Math.Min(r1, h); r++)
                        for (int q = Math.Max(q0, 0); q < Math.Min(q1, h); q++) { sum += x[0, c, r, q]; count++; }
                    Assert.Equal(sum / (countIncludePad ? padded : count), y[0, c, i, j], 12);
                }
    }

    [Fact]
    public void AvgPool1dWindowsAndDivisorOverrideMatchPyTorch()
    {
        // hand-derived, and what PyTorch 1.13's avg_pool1d/avg_pool2d print for the same inputs
        var x = Tensor.Arange(1, 6, 1, DType.Float64).Reshape(1, 1, 5);
        // k2 s2 p1 ceil: windows [-1, 1), [1, 3), [3, 5); the padded zero counts unless count_include_pad is false
        Assert.Equal([0.5, 2.5, 4.5], x.AvgPool1d(2, 2, 1, ceilMode: true).ToDoubleArray());
        Assert.Equal([1.0, 2.5, 4.5], x.AvgPool1d(2, 2, 1, ceilMode: true, countIncludePad: false).ToDoubleArray());
        Assert.Equal([1.0, 3.0, 3.0], new AvgPool1d(3, 2, 1, ceilMode: true).Forward(x).ToDoubleArray());
        Assert.Equal([1.5, 3.5], new AvgPool1d(2).Forward(x).ToDoubleArray());
        var y = Tensor.Arange(1, 17, 1, DType.Float64).Reshape(1, 1, 4, 4);
        Assert.Equal([14.0 / 3, 22.0 / 3, 46.0 / 3, 18.0], y.AvgPool2d(2, divisorOverride: 3).ToDoubleArray(), new ToleranceComparer(1e-14));
        Assert.Equal([-7.0, -15.0, -28.5, -49.5], new AvgPool2d(3, 2, 1, divisorOverride: -2).Forward(y).ToDoubleArray());
        // the gradient is dy / divisor over each window
        var g = y.Detach().RequireGrad();
        g.AvgPool2d(2, divisorOverride: 8).Sum().Backward();
        Assert.All(g.Grad!.ToDoubleArray(), v => Assert.Equal(0.125, v));
        Assert.Contains("divisor_override", Assert.Throws<ArgumentException>(() => y.AvgPool2d(2, divisorOverride: 0)).Message);
        Assert.Throws<ArgumentException>(() => new AvgPool2d(2, divisorOverride: 0));
        Assert.Equal("AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))", new AvgPool1d(3, 2).ToString());
    }

    [Fact]
    public void AdaptivePoolsUsePyTorchWindows()
    {
        // H = 5 into 3: windows [0,2), [1,4), [3,5)
        var x = Tensor.Arange(0, 5, 1, DType.Float64).Reshape(1, 1, 1, 5);
        Assert.Equal([0.5, 2, 3.5], x.AdaptiveAvgPool2d(1, 3).ToDoubleArray());
        Assert.Equal([1.0, 3, 4], x.AdaptiveMaxPool2d(1, 3).ToDoubleArray());
        var g = R(new Generator(2), 2, 3, 4, 5);
        var global = g.AdaptiveAvgPool2d(1, 1);
        var mean = g.Mean([2, 3], keepDim: true);
        Assert.Equal(mean.ToDoubleArray(), global.ToDoubleArray(), new ToleranceComparer(1e-12));
    }

    [Fact]
    public void DropoutIsInvertedSeededAndOffInEval()
    {
        var x = Tensor.Ones([1000], DType.Float64);
        var a = x.Dropout(0.25, true, new Generator(11));
        var b = x.Dropout(0.25, true, new Generator(11));
        Assert.Equal(a.ToDoubleArray(), b.ToDoubleArray());
        var v = a.ToDoubleArray();
        Assert.All(v, e => Assert.True(e == 0 || Math.Abs(e - 1 / 0.75) < 1e-12));
        int zeros = v.Count(e => e == 0);
        Assert.InRange(zeros, 200, 300);
        Assert.Same(x, x.Dropout(0.25, false));
        Assert.All(x.Dropout(1.0, true, new Generator(1)).ToDoubleArray(), e => Assert.Equal(0, e));
        var m = new global::Nabla.NN.Dropout(0.5, new Generator(3));
        m.Eval();
        Assert.Equal(x.ToDoubleArray(), m.Forward(x).ToDoubleArray());
    }

    [Fact]
    public void Dropout2dZeroesWholeChannels()
    {
        var x = Tensor.Ones([4, 8, 3, 3], DType.Float64);
        var y = x.Dropout2d(0.5, true, new Generator(5));
        for (int n = 0; n < 4; n++)
            for (int c = 0; c < 8; c++)
            {
                double first = y[n, c, 0, 0];
                Assert.True(first == 0 || first == 2);
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++) Assert.Equal(first, y[n, c, i, j]);
            }
    }

    private sealed class ToleranceComparer(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;

        public int GetHashCode(double obj) => 0;
    }
}
