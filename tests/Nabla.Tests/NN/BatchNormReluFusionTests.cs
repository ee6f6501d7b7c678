using Nabla.Autograd;
using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>
/// Sequential runs a BatchNorm1d/2d layer followed by a ReLU layer as one op: the same output, gradients and running
/// statistics, bit for bit, as the two layers run apart, in training and evaluation, in float and double; the fused op
/// passes gradcheck; a hook on either layer keeps them apart; Linear + ReLU stays two ops.
/// </summary>
public class BatchNormReluFusionTests
{
    public static TheoryData<string, bool, DType> Cases()
    {
        var data = new TheoryData<string, bool, DType>();
        foreach (string shape in new[] { "2d", "1d_ncl", "1d_nc", "linear" })
            foreach (bool train in new[] { true, false })
                foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                    data.Add(shape, train, dtype);
        return data;
    }

    private static (Module Bn, int[] Shape) Make(string shape, DType dtype) => shape switch
    {
        "2d" => (new BatchNorm2d(3, dtype: dtype), [4, 3, 5, 7]),
        "1d_ncl" => (new BatchNorm1d(3, dtype: dtype), [4, 3, 20]),   // 20 values per row: the fused path
        "1d_nc" => (new BatchNorm1d(3, dtype: dtype), [6, 3]),          // (N, C): laid out per channel, ReLU applied after
        _ => (new Linear(5, 70, dtype: dtype), [9, 5]),
    };

    private static Tensor Leaf(Tensor t)
    {
        t.RequiresGrad = true;
        return t;
    }

    private sealed record Run(Tensor Y, Tensor Dx, Tensor Dw, Tensor Db, Tensor Mean, Tensor Var, string Node);

    private static Run Step(string shape, bool train, DType dtype, bool fuse)
    {
        var (bn, s) = Make(shape, dtype);
        var g = new Generator(5);
        foreach (var p in bn.Parameters()) p.Copy(Tensor.Uniform(p.Shape.ToArray(), -1.5, 1.5, dtype, g));
        var model = new Sequential(bn, new ReLU());
        model.Train(true);
        for (int i = 0; i < 2; i++) model.Forward(Tensor.Randn(s, dtype, g) * 2 + 0.3);   // running statistics to use in eval
        model.Train(train);
        var x = Leaf(Tensor.Randn(s, dtype, g) * 2 + 0.3);
        Sequential.s_fuseRelu = fuse;
        try
        {
            var y = model.Forward(x);
            var r = Tensor.Randn(y.Shape.ToArray(), dtype, g);
            string node = y.GradFn!.Name;
            (y * r).Sum().Backward();
            if (bn is Linear linear) return new Run(y.Detach(), x.Grad!, linear.Weight.Grad!, linear.Bias!.Grad!, Tensor.Zeros([1]), Tensor.Zeros([1]), node);
            var bnBase = (BatchNormBase)bn;
            return new Run(y.Detach(), x.Grad!, bnBase.Weight!.Grad!, bnBase.Bias!.Grad!, bnBase.RunningMean!, bnBase.RunningVar!, node);
        }
        finally
        {
            Sequential.s_fuseRelu = true;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FusedPair_GivesTheBitsOfTheTwoLayers(string shape, bool train, DType dtype)
    {
        var fused = Step(shape, train, dtype, fuse: true);
        var apart = Step(shape, train, dtype, fuse: false);
        Assert.Equal("ReluBackward", apart.Node);
        string op = shape == "2d" ? "BatchNorm2d" : shape.StartsWith("linear", StringComparison.Ordinal) ? "Linear" : "BatchNorm1d";
        Assert.Equal(shape is "1d_nc" or "linear" ? "ReluBackward" : op + "ReluBackward", fused.Node);
        Assert.True(fused.Y.ToDoubleArray().Any(v => v == 0) && fused.Y.ToDoubleArray().Any(v => v > 0), "the data must exercise both sides of ReLU");
        foreach (var (name, a, b) in new[] { ("y", fused.Y, apart.Y), ("dx", fused.Dx, apart.Dx), ("dweight", fused.Dw, apart.Dw),
                     ("dbias", fused.Db, apart.Db), ("running_mean", fused.Mean, apart.Mean), ("running_var", fused.Var, apart.Var) })
            Assert.True(a.ToDoubleArray().AsSpan().SequenceEqual(b.ToDoubleArray()), $"{name} differs ({shape}, train={train}, {dtype})");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FusedPair_PassesGradCheck(bool train)
    {
        var bn = new BatchNorm2d(2, dtype: DType.Float64);
        var g = new Generator(7);
        foreach (var p in bn.Parameters()) p.Copy(Tensor.Uniform(p.Shape.ToArray(), 0.5, 1.5, DType.Float64, g));
        var model = new Sequential(bn, new ReLU());
        for (int i = 0; i < 3; i++) model.Forward(Tensor.Randn([3, 2, 4, 5], DType.Float64, g) * 1.5 + 0.5);
        model.Train(train);
        var x = Tensor.Randn([3, 2, 4, 5], DType.Float64, g);
        Assert.Equal("BatchNorm2dReluBackward", model.Forward(Leaf(x)).GradFn!.Name);
        var result = GradCheck.Check(() => model.Forward(x), [x, .. bn.Parameters()]);
        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void AHookOnEitherLayer_KeepsThemApart()
    {
        foreach (bool onRelu in new[] { true, false })
        {
            var bn = new BatchNorm2d(2);
            var relu = new ReLU();
            var model = new Sequential(bn, relu);
            int calls = 0;
            (onRelu ? (Module)relu : bn).RegisterForwardHook((_, _, _) => { calls++; return null; });
            var y = model.Forward(Leaf(Tensor.Randn([2, 2, 3, 3])));
            Assert.Equal(1, calls);
            Assert.Equal("ReluBackward", y.GradFn!.Name);
        }
    }
}
