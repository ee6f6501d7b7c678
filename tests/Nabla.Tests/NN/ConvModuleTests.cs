using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>The conv, pooling, dropout and unflatten modules: PyTorch names and shapes, and clear errors.</summary>
public class ConvModuleTests
{
    [Fact]
    public void Conv2dHasPyTorchParametersAndInit()
    {
        var conv = new Conv2d(4, 6, (3, 5), padding: (1, 2), groups: 2, generator: new Generator(1));
        var sd = conv.StateDict();
        Assert.Equal(["weight", "bias"], sd.Keys.ToArray());
        Assert.Equal([6, 2, 3, 5], sd["weight"].Shape.ToArray());
        double bound = 1 / Math.Sqrt(2 * 3 * 5);
        Assert.All(conv.Weight.ToDoubleArray(), v => Assert.InRange(Math.Abs(v), 0, bound));
        Assert.Equal([2, 6, 7, 9], conv.Forward(Tensor.Randn([2, 4, 7, 9])).Shape.ToArray());
        Assert.Contains("kernel_size=(3, 5)", conv.ToString());
        Assert.Null(new Conv2d(1, 2, 3, bias: false).Bias);
        Assert.Equal(["weight"], new Conv2d(1, 2, 3, bias: false).StateDict().Keys.ToArray());
    }

    [Fact]
    public void OtherModulesHaveTheExpectedShapes()
    {
        var x = Tensor.Randn([2, 3, 10, 12]);
        Assert.Equal([2, 5, 10, 12], new Conv2d(3, 5, 4, padding: "same").Forward(x).Shape.ToArray());
        Assert.Equal([2, 5, 7, 9], new Conv2d(3, 5, 4, padding: "valid").Forward(x).Shape.ToArray());
        Assert.Equal([2, 4, 10], new Conv1d(3, 4, 3, padding: 1).Forward(Tensor.Randn([2, 3, 10])).Shape.ToArray());
        Assert.Equal([2, 4, 10], new Conv1d(3, 4, 4, padding: "same").Forward(Tensor.Randn([2, 3, 10])).Shape.ToArray());
        Assert.Equal([3, 8, 3, 3], new ConvTranspose2d(3, 8, 3).Weight.Shape.ToArray());
        Assert.Equal([2, 8, 21, 25], new ConvTranspose2d(3, 8, 3, stride: 2).Forward(x).Shape.ToArray());
        Assert.Equal([2, 3, 5, 6], new MaxPool2d(2).Forward(x).Shape.ToArray());
        Assert.Equal([2, 3, 4, 4], new MaxPool2d(3, stride: 3, ceilMode: true).Forward(x).Shape.ToArray());
        Assert.Equal([2, 3, 5], new MaxPool1d(2).Forward(Tensor.Randn([2, 3, 10])).Shape.ToArray());
        Assert.Equal([2, 3, 5, 6], new AvgPool2d(3, 2, 1).Forward(x).Shape.ToArray());
        Assert.Equal([2, 3, 3, 7], new AdaptiveAvgPool2d((3, 7)).Forward(x).Shape.ToArray());
        Assert.Equal([2, 3, 1, 1], new AdaptiveMaxPool2d(1).Forward(x).Shape.ToArray());
        Assert.Equal([2, 3], new GlobalAvgPool2d().Forward(x).Shape.ToArray());
        Assert.Equal([2, 3, 10, 12], new Unflatten(1, [3, -1, 12]).Forward(x.Flatten(1)).Shape.ToArray());
        Assert.Equal(x.Shape.ToArray(), new Dropout2d(0.2).Forward(x).Shape.ToArray());
    }

    [Theory]
    [InlineData("conv", "Conv2d: the kernel 5x5", "[1, 1, 3, 3]")]
    [InlineData("conv_stride", "Conv2d: the kernel 3x3 (dilation 3x3", "[2, 1, 4, 4]")]
    [InlineData("conv1d", "Conv1d: the kernel 9", "[1, 2, 4]")]
    [InlineData("pool", "MaxPool2d: the kernel 4x4", "[1, 2, 3, 3]")]
    [InlineData("avgpool", "AvgPool2d: the kernel 5x5", "[1, 1, 2, 2]")]
    [InlineData("transpose", "ConvTranspose2d: the kernel 2x2", "[1, 1, 1, 1]")]
    public void KernelsThatDoNotFitNameTheLayerTheShapeAndTheParameters(string which, string expected, string shape)
    {
        var e = Assert.Throws<ArgumentException>(() => which switch
        {
            "conv" => Tensor.Conv2d(Tensor.Zeros(1, 1, 3, 3), Tensor.Zeros(1, 1, 5, 5)),
            "conv_stride" => Tensor.Conv2d(Tensor.Zeros(2, 1, 4, 4), Tensor.Zeros(1, 1, 3, 3), stride: 2, dilation: 3),
            "conv1d" => Tensor.Conv1d(Tensor.Zeros(1, 2, 4), Tensor.Zeros(1, 2, 9), padding: 1),
            "pool" => Tensor.Zeros(1, 2, 3, 3).MaxPool2d(4),
            "avgpool" => Tensor.Zeros(1, 1, 2, 2).AvgPool2d(5, 1, 1),
            _ => Tensor.ConvTranspose2d(Tensor.Zeros(1, 1, 1, 1), Tensor.Zeros(1, 1, 2, 2), padding: 1),
        });
        Assert.Contains(expected, e.Message);
        Assert.Contains(shape, e.Message);
    }

    [Fact]
    public void BadArgumentsGiveClearErrors()
    {
        Assert.Contains("expects 3", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros(1, 2, 5, 5), Tensor.Zeros(4, 3, 3, 3))).Message);
        Assert.Contains("divisible by groups", Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 3, groups: 2)).Message);
        Assert.Contains("strided", Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 3, stride: 2, padding: "same")).Message);
        Assert.Contains("\"full\"", Assert.Throws<ArgumentException>(() => new Conv2d(3, 4, 3, padding: "full")).Message);
        Assert.Contains("at most half", Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 1, 8, 8).MaxPool2d(2, 2, 2)).Message);
        Assert.Contains("output_padding", Assert.Throws<ArgumentException>(() => Tensor.ConvTranspose2d(Tensor.Zeros(1, 1, 3, 3), Tensor.Zeros(1, 1, 3, 3), outputPadding: 1)).Message);
        Assert.Contains("(N, C_in, H, W)", Assert.Throws<ArgumentException>(() => Tensor.Conv2d(Tensor.Zeros(5, 5), Tensor.Zeros(1, 1, 3, 3))).Message);
        Assert.Contains("cannot be split", Assert.Throws<ArgumentException>(() => new Unflatten(1, [4, 4]).Forward(Tensor.Zeros(2, 15))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.5));
    }

    [Fact]
    public void SmallConvNetLearns()
    {
        // a tiny budget: 30 SGD steps on a fixed batch; the loss must fall well below its start
        var g = new Generator(3);
        var model = new Sequential(new Conv2d(1, 4, 3, padding: 1, generator: g), new ReLU(), new MaxPool2d(2),
            new Conv2d(4, 8, 3, generator: g), new ReLU(), new GlobalAvgPool2d(), new Linear(8, 3, generator: g));
        var x = Tensor.Randn([12, 1, 8, 8], generator: g);
        var y = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (float)(i % 3)).ToArray());
        for (int i = 0; i < 12; i++) for (int r = 0; r < 8; r++) x.Buffer<float>()[i * 64 + r * 8 + (i % 3) * 3] += 3; // class-dependent stripe
        var sgd = new global::Nabla.Optim.SGD(model.Parameters(), 0.1, momentum: 0.9);
        var loss = new Nabla.Losses.CrossEntropyLoss();
        double first = 0, last = 0;
        for (int step = 0; step < 30; step++)
        {
            var j = loss.Forward(model.Forward(x), y);
            if (step == 0) first = j.Item();
            last = j.Item();
            sgd.ZeroGrad();
            j.Backward();
            sgd.Step();
        }
        Assert.True(last < 0.5 * first, $"loss {first} → {last}");
    }
}
