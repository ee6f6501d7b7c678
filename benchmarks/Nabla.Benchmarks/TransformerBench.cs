using Nabla.NN;

namespace Nabla.Benchmarks;

/// <summary>
/// Forward + backward of one TransformerEncoderLayer(d_model 256, 4 heads, dim_feedforward 1024, dropout 0,
/// batch_first) on (16, 128, 256), float32, training mode, timed like bench_torch_layers.py's
/// <c>encoder_layer_fwd_bwd</c>: input and parameter gradients set to null before each step, a fixed upstream gradient.
/// </summary>
internal static class TransformerBench
{
    public static void Run()
    {
        var g = new Generator(0);
        var layer = new TransformerEncoderLayer(256, 4, 1024, dropout: 0, batchFirst: true, generator: g);
        int[] shape = [16, 128, 256];
        var x = Tensor.Randn(shape, DType.Float32, g).RequireGrad();
        var dy = Tensor.Randn(shape, DType.Float32, g);
        layer.Train();
        var t = Harness.TimeIt(() =>
        {
            x.Grad = null;
            layer.ZeroGrad();
            layer.Forward(x).Backward(dy);
        }, warmup: 3);
        // matmul FLOPs: projections 4·(2·B·L·d²) + attention 2·(2·B·L²·d) + ff 2·(2·B·L·d·ff), ×3 with backward
        double flop = 3.0 * (8.0 * 16 * 128 * 256 * 256 + 4.0 * 16 * 128 * 128 * 256 + 4.0 * 16 * 128 * 256 * 1024);
        Harness.Report("encoder_layer_fwd_bwd", t[0] * 1e3, Harness.Median(t) * 1e3, "ms/iter", t.Length,
            $"shape=16x128x256 heads=4 ff=1024 GFLOP/s(median)={flop / 1e9 / Harness.Median(t):F0}");
    }
}
