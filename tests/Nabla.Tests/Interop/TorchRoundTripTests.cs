using Nabla.IO;
using Nabla.NN;
using Nabla.Training;
using Xunit.Abstractions;

namespace Nabla.Tests.Interop;

/// <summary>
/// Nabla → PyTorch: Nabla's weights (Checkpoint.SaveModel), an input and Nabla's outputs go to a folder, and
/// tests/fixtures/torch/check_nabla.py loads them into the PyTorch twins (load_state_dict, strict) and checks that PyTorch
/// reproduces the outputs within 1e-5 of their scale. Runs where a python3 imports torch (.ci/run installs Debian's
/// python3-torch and sets NABLA_REQUIRE_TORCH=1, so CI fails instead of passing without it).
/// </summary>
public sealed class TorchRoundTripTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-torch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void PyTorchReproducesNablaOutputsFromNablaWeights()
    {
        if (TorchPython.Path is not { } python)
        {
            Assert.False(TorchPython.Required, "NABLA_REQUIRE_TORCH=1 but no python3 (nor $NABLA_PYTHON, /usr/bin/python3) imports torch");
            output.WriteLine("no python3 with torch: the PyTorch side was not run (apt-get install python3-torch)");
            return;
        }
        for (int i = 0; i < TorchTwins.Names.Length; i++) Write(TorchTwins.Names[i], (ulong)(1000 + i));
        var (code, stdout, stderr) = TorchPython.Run(python, [Path.Combine(TorchTwins.FixtureDir, "check_nabla.py"), _dir], TimeSpan.FromMinutes(3));
        output.WriteLine(stdout + stderr);
        Assert.True(code == 0, $"check_nabla.py exited {code}:\n{stdout}\n{stderr}");
        foreach (var name in TorchTwins.Names) Assert.Contains($"{name}: ", stdout, StringComparison.Ordinal);
    }

    // Seeded Nabla weights (norm affine parameters drawn too, batch-norm statistics warmed up by three training
    // batches), a seeded input, and Nabla's outputs: eval mode, and training mode for batch norm (after the weights are
    // saved, since a training-mode forward moves the running statistics).
    private void Write(string name, ulong seed)
    {
        var g = new Generator(seed);
        var model = TorchTwins.Build(name, g);
        using var _ = Tensor.NoGrad();
        RandomizeAffine(model, g);
        var inputShape = TorchTwins.InputShapes(name)["input"];
        if (TorchTwins.HasBatchNorm(name))
        {
            model.Train();
            for (int b = 0; b < 3; b++) model.Forward(Tensor.Randn([4, .. inputShape[1..]], generator: g) * 2 + 0.5);
        }
        var x = TorchTwins.InputShapes(name).ToDictionary(kv => kv.Key,
            kv => name == "embedding" ? Tensor.RandInt(0, 10, kv.Value, generator: g) : Tensor.Randn(kv.Value, generator: g));
        model.Eval();
        var y = TorchTwins.Forward(model, x);
        Checkpoint.SaveModel(Path.Combine(_dir, name + ".safetensors"), model);
        if (TorchTwins.HasBatchNorm(name))
        {
            model.Train();
            y["output_train"] = TorchTwins.Forward(model, x)["output"];
        }
        SafeTensors.Save(Path.Combine(_dir, name + ".io.safetensors"), x.Concat(y).ToDictionary());
    }

    // γ = 1, β = 0 would hide a swapped or ignored parameter
    private static void RandomizeAffine(Module m, Generator g)
    {
        if (m is NormBase or LayerNorm or GroupNorm)
            foreach (var (key, p) in m.NamedParameters())
                p.CopyFrom(key == "weight" ? Tensor.Uniform([.. p.Shape], 0.5, 1.5, generator: g) : Tensor.Uniform([.. p.Shape], -0.5, 0.5, generator: g));
        foreach (var (_, child) in m.NamedChildren()) RandomizeAffine(child, g);
    }
}
