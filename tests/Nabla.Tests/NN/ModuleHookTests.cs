using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>Module forward pre-hooks, forward hooks and full backward hooks (PyTorch names), run through Module.Call.</summary>
public class ModuleHookTests
{
    private static Linear MakeLinear()
    {
        var m = new Linear(2, 1);
        using (Tensor.NoGrad())
        {
            m.Weight.Detach().Span<float>()[0] = 2f;
            m.Weight.Detach().Span<float>()[1] = -1f;
            m.Bias!.Detach().Span<float>()[0] = 0.5f;
        }
        return m;
    }

    [Fact]
    public void ForwardHooksSeeAndReplaceInputAndOutput()
    {
        var m = MakeLinear();
        var x = Tensor.FromArray([1f, 3f], 1, 2);
        var calls = new List<string>();
        m.RegisterForwardPreHook((mod, input) => { calls.Add("pre"); Assert.Same(m, mod); return input * 2f; });
        m.RegisterForwardHook((mod, input, output) =>
        {
            calls.Add("post");
            Assert.Equal([2f, 6f], input.ToArray());          // the pre-hook's replacement
            Assert.Equal([2f * 2 - 6 + 0.5f], output.ToArray());
            return output + 10f;
        });
        var y = m.Call(x);
        Assert.Equal(["pre", "post"], calls);
        Assert.Equal([8.5f], y.ToArray());
        // Forward itself runs no hooks
        Assert.Equal([2 - 3 + 0.5f], m.Forward(x).ToArray());
    }

    [Fact]
    public void RemovedForwardHookDoesNotRun()
    {
        var m = MakeLinear();
        int calls = 0;
        var h = m.RegisterForwardHook((_, _, _) => { calls++; return null; });
        m.Call(Tensor.Ones([1, 2]));
        h.Remove();
        m.Call(Tensor.Ones([1, 2]));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void SequentialRunsItsChildrensHooks()
    {
        var inner = MakeLinear();
        var seq = new Sequential(inner, new ReLU());
        int calls = 0;
        inner.RegisterForwardHook((_, _, o) => { calls++; return o; });
        seq.Forward(Tensor.Ones([3, 2]));
        Assert.Equal(1, calls);
    }

    [Fact]
    public void FullBackwardHookSeesGradOutputAndGradInputAndMayReplaceIt()
    {
        var m = MakeLinear();
        var x = Tensor.FromArray([1f, 3f, -1f, 0f], 2, 2).RequireGrad();
        Tensor? seenIn = null, seenOut = null;
        m.RegisterFullBackwardHook((mod, gradInput, gradOutput) =>
        {
            Assert.Same(m, mod);
            (seenIn, seenOut) = (gradInput, gradOutput);
            return gradInput! * 3f;
        });
        var y = m.Call(x);
        (y * Tensor.FromArray([1f, -2f], 2, 1)).Sum().Backward();
        Assert.Equal([1f, -2f], seenOut!.ToArray());
        // dL/dx = gradOutput · W
        Assert.Equal([2f, -1f, -4f, 2f], seenIn!.ToArray());
        Assert.Equal([6f, -3f, -12f, 6f], x.Grad!.ToArray());
        // the parameters' gradients are not affected by the replacement
        Assert.Equal([1f * 1 + -2f * -1, 1f * 3 + 0], m.Weight.Grad!.ToArray());
    }

    [Fact]
    public void FullBackwardHookWithAnInputThatNeedsNoGrad()
    {
        var m = MakeLinear();
        Tensor? seenIn = Tensor.Ones([1]), seenOut = null;
        int calls = 0;
        m.RegisterFullBackwardHook((_, gi, go) => { calls++; (seenIn, seenOut) = (gi, go); return null; });
        m.Call(Tensor.Ones([1, 2])).Sum().Backward();
        Assert.Equal(1, calls);
        Assert.Null(seenIn);
        Assert.Equal([1f], seenOut!.ToArray());
    }

    [Fact]
    public void BackwardHookReturningAWrongShapeIsRefused()
    {
        var m = MakeLinear();
        m.RegisterFullBackwardHook((_, _, _) => Tensor.Ones([5]));
        var x = Tensor.Ones([1, 2]).RequireGrad();
        var e = Assert.Throws<InvalidOperationException>(() => m.Call(x).Sum().Backward());
        Assert.Contains("Linear backward hook", e.Message);
        Assert.Contains("[5]", e.Message);
    }
}
