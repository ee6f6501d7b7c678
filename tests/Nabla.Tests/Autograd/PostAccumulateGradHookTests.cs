using Nabla.Autograd;

namespace Nabla.Tests.Autograd;

/// <summary>
/// Tensor.RegisterPostAccumulateGradHook: the hook runs once per backward pass per leaf, after every successor's residual
/// has been added into Grad (data-parallel training sends the gradient from there, so an early call would send a
/// partial sum), and in the order the leaves' gradients become final.
/// </summary>
public class PostAccumulateGradHookTests
{
    [Fact]
    public void RunsOnceWithTheFinalGradOfALeafThatFeedsSeveralOps()
    {
        var x = Tensor.FromArray([1.0, 2.0]).RequireGrad();
        var seen = new List<double[]>();
        x.RegisterPostAccumulateGradHook(t => seen.Add(t.Grad!.ToDoubleArray()));
        // x feeds three ops: y = x² + 3x + x·x·x ⇒ dy/dx = 2x + 3 + 3x²
        (x * x + x * 3.0 + x * x * x).Sum().Backward();
        Assert.Equal([[8.0, 19.0]], seen);
        // a second pass accumulates (+=) and the hook sees the sum
        (x * 2.0).Sum().Backward();
        Assert.Equal([8.0, 19.0], seen[0]);
        Assert.Equal([10.0, 21.0], seen[1]);
    }

    [Fact]
    public void RunsAfterTheLeafsLastConsumerAndBeforeEarlierLayers()
    {
        // w2 is used last in the forward pass, so its gradient is final before w1's: the order DDP's buckets rely on
        var w1 = Tensor.FromArray([2.0]).RequireGrad();
        var w2 = Tensor.FromArray([3.0]).RequireGrad();
        var order = new List<string>();
        w1.RegisterPostAccumulateGradHook(_ => order.Add("w1"));
        w2.RegisterPostAccumulateGradHook(_ => order.Add("w2"));
        var x = Tensor.FromArray([5.0]);
        ((x * w1).Tanh() * w2).Sum().Backward();
        Assert.Equal(["w2", "w1"], order);
    }

    [Fact]
    public void RemoveStopsTheHookAndALeafWithoutGradGetsNoCall()
    {
        var x = Tensor.FromArray([1.0]).RequireGrad();
        var unused = Tensor.FromArray([1.0]).RequireGrad();
        int calls = 0, unusedCalls = 0;
        var handle = x.RegisterPostAccumulateGradHook(_ => calls++);
        unused.RegisterPostAccumulateGradHook(_ => unusedCalls++);
        (x * 2.0).Sum().Backward();
        handle.Remove();
        handle.Remove();
        (x * 2.0).Sum().Backward();
        Assert.Equal(1, calls);
        Assert.Equal(0, unusedCalls);
    }

    [Fact]
    public void OnlyLeavesThatRequireGradTakeAHook()
    {
        var x = Tensor.FromArray([1.0]).RequireGrad();
        var e1 = Assert.Throws<InvalidOperationException>(() => (x * 2.0).RegisterPostAccumulateGradHook(_ => { }));
        Assert.Contains("was made by MulBackward", e1.Message);
        var e2 = Assert.Throws<InvalidOperationException>(() => Tensor.FromArray([1.0]).RegisterPostAccumulateGradHook(_ => { }));
        Assert.Contains("does not require grad", e2.Message);
    }
}
