using Nabla.NN;

namespace Nabla.Benchmarks;

/// <summary>
/// Forward + backward of the normalisation layers, timed like bench_torch_layers.py's entries of the same names:
/// a training-mode BatchNorm2d on (32, 64, 56, 56) and a LayerNorm(768) on (64, 512, 768), float32, with the
/// input's and the parameters' gradients cleared (set to null) before each step and a fixed upstream gradient.
/// </summary>
internal static class NormBench
{
    public static void Run()
    {
        Step("batchnorm2d_fwd_bwd", new BatchNorm2d(64), [32, 64, 56, 56]);
        Step("layernorm_fwd_bwd", new LayerNorm(768), [64, 512, 768]);
    }

    private static void Step(string name, Module layer, int[] shape)
    {
        var g = new Generator(0);
        var x = Tensor.Randn(shape, DType.Float32, g).RequireGrad();
        var dy = Tensor.Randn(shape, DType.Float32, g);
        layer.Train();
        var t = Harness.TimeIt(() =>
        {
            x.Grad = null;
            layer.ZeroGrad();
            layer.Forward(x).Backward(dy);
        }, warmup: 5);
        long elements = shape.Aggregate(1L, (a, b) => a * b);
        Harness.Report(name, t[0] * 1e3, Harness.Median(t) * 1e3, "ms/iter", t.Length,
            $"shape={string.Join("x", shape)} MB(x)={elements * 4 / 1e6:F1}");
    }
}
