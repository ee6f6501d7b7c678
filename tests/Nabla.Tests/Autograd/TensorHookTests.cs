using Nabla.Autograd;
using AG = Nabla.Autograd.Autograd;

namespace Nabla.Tests.Autograd;

/// <summary>Tensor.RegisterHook (PyTorch's register_hook): hooks see and may replace the gradient flowing through a tensor.</summary>
public class TensorHookTests
{
    private static Tensor Leaf(params double[] values) => Tensor.FromArray(values).RequireGrad();

    [Fact]
    public void LeafHookReplacesTheGradientBeforeItAccumulates()
    {
        var x = Leaf(1, 2);
        Tensor? seen = null;
        x.RegisterHook(g => { seen = g; return null; });
        x.RegisterHook(g => g * 10.0);
        (x * x).Sum().Backward();
        Assert.Equal([2.0, 4.0], seen!.ToDoubleArray());
        Assert.Equal([20.0, 40.0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void IntermediateHookChangesWhatFlowsBackAndWhatIsRetained()
    {
        var x = Leaf(1, 2);
        var h = (x * 3.0).RetainGrad();
        h.RegisterHook(g => g + 1.0);
        (h * h).Sum().Backward();             // dy/dh = 2h = [6, 12] → hook → [7, 13]
        Assert.Equal([7.0, 13.0], h.Grad!.ToDoubleArray());
        Assert.Equal([21.0, 39.0], x.Grad!.ToDoubleArray());
    }

    [Fact]
    public void HooksRunInOrderAndApplyToGrad()
    {
        var x = Leaf(3);
        var order = new List<int>();
        x.RegisterHook(g => { order.Add(1); return g * 2.0; });
        x.RegisterHook(g => { order.Add(2); return g + 1.0; });
        var g = AG.Grad([x * x], [x])[0]!;
        Assert.Equal([1, 2], order);
        Assert.Equal(6.0 * 2 + 1, g.Item());
        Assert.Null(x.Grad);
    }

    [Fact]
    public void RemovedHookNoLongerRuns()
    {
        var x = Leaf(1);
        int calls = 0;
        var handle = x.RegisterHook(g => { calls++; return g * 0.0; });
        handle.Remove();
        handle.Remove();
        (x * 5.0).Sum().Backward();
        Assert.Equal(0, calls);
        Assert.Equal(5.0, x.Grad!.Item());
    }

    [Fact]
    public void BadHooksAreRefused()
    {
        Assert.Contains("does not require grad", Assert.Throws<InvalidOperationException>(() => Tensor.FromArray([1.0]).RegisterHook(g => g)).Message);
        var x = Leaf(1, 2);
        x.RegisterHook(_ => Tensor.Zeros([3], DType.Float64));
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2.0).Sum().Backward());
        Assert.Contains("RegisterHook", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[2]", e.Message);
    }

    [Fact]
    public void HookUnderCreateGraphIsDifferentiated()
    {
        // a hook that squares the gradient: g = (3x²)² = 9x⁴, and the hook's ops are recorded, so dg/dx = 36x³
        var x = Leaf(2);
        var handle = x.RegisterHook(g => g * g);
        var g = AG.Grad([x.Pow(3)], [x], createGraph: true)[0]!;
        Assert.Equal(144.0, g.Item(), 12);
        handle.Remove();   // (else it would square the second derivative too)
        Assert.Equal(36.0 * 8, AG.Grad([g], [x])[0]!.Item(), 10);
    }
}
