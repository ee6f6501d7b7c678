using Nabla.IO;
using Nabla.Training;
using Xunit.Abstractions;

namespace Nabla.Tests.Interop;

/// <summary>
/// PyTorch → Nabla: each state dict that PyTorch 1.13 saved (tests/fixtures/torch/make_fixtures.py) loads strictly
/// into the matching Nabla module, which then reproduces PyTorch's outputs on the saved input: float32, every output
/// within 1e-5 of its largest magnitude (max |nabla − torch| / max |torch| ≤ 1e-5).
/// </summary>
public class TorchWeightsTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => new(TorchTwins.Names);

    [Theory]
    [MemberData(nameof(Cases))]
    public void PyTorchStateDictReproducesPyTorchOutputs(string name)
    {
        var model = TorchTwins.Build(name, new Generator(99));
        var meta = Checkpoint.LoadModel(Path.Combine(TorchTwins.FixtureDir, name + ".safetensors"), model, strict: true);
        Assert.Equal("pt", meta["format"]);
        var io = SafeTensors.Load(Path.Combine(TorchTwins.FixtureDir, name + ".io.safetensors")).Tensors;
        var inputs = TorchTwins.InputShapes(name);
        foreach (var (key, shape) in inputs) Assert.Equal(shape, io[key].Shape);

        model.Eval();
        var got = TorchTwins.Forward(model, io);
        if (TorchTwins.HasBatchNorm(name))
        {
            model.Train();
            got["output_train"] = TorchTwins.Forward(model, io)["output"];
        }
        // every output PyTorch saved is compared, and nothing else
        Assert.Equal(io.Keys.Except(inputs.Keys).Order(), got.Keys.Order());
        foreach (var (key, value) in got)
        {
            double err = TorchTwins.ScaledError(value, io[key]);
            output.WriteLine($"{name} {key}: scaled error {err:G3}");
            Assert.True(err <= 1e-5, $"{name}: {key} differs from PyTorch's by {err:G3} of its scale");
        }
    }

    [Fact]
    public void BatchNormBuffersComeFromPyTorch()
    {
        // the warmed-up statistics and PyTorch's int64 counter (3 training batches) land in the module
        var model = TorchTwins.Build("lenet_bn", new Generator(99));
        Checkpoint.LoadModel(Path.Combine(TorchTwins.FixtureDir, "lenet_bn.safetensors"), model);
        var state = model.StateDict();
        Assert.Equal(3.0, state["1.num_batches_tracked"].Item());
        Assert.Equal(3.0, state["5.num_batches_tracked"].Item());
        Assert.NotEqual(0.0, state["1.running_mean"].ToDoubleArray()[0]);
        Assert.NotEqual(1.0, state["1.running_var"].ToDoubleArray()[0]);
    }
}
