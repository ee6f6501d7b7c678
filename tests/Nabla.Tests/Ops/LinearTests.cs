using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>The fused linear layer against a loop.</summary>
public class LinearTests
{
    [Fact]
    public void LinearMatchesLoop()
    {
        var x = Randn(1, 2, 3, 4);
        var w = Randn(2, 5, 4);
        var b = Randn(3, 5);
        var xd = Values(x);
        var wd = Values(w);
        var bd = Values(b);
        var expected = new double[6 * 5];
        var expectedNoBias = new double[6 * 5];
        for (int r = 0; r < 6; r++)
            for (int o = 0; o < 5; o++)
            {
                double s = 0;
                for (int i = 0; i < 4; i++) s += xd[r * 4 + i] * wd[o * 4 + i];
                expectedNoBias[r * 5 + o] = s;
                expected[r * 5 + o] = s + bd[o];
            }
        var y = Tensor.Linear(x, w, b);
        Assert.Equal([2, 3, 5], y.Shape.ToArray());
        Close(expected, Values(y));
        Close(expectedNoBias, Values(Tensor.Linear(x, w)));
        Close(expected, Values(Tensor.Linear(x, w.T.Contiguous().T, b)));
    }
}
