using System.Globalization;
using Nabla.Kernels;
using K = Nabla.Kernels.Conv;

namespace Nabla.Benchmarks;

/// <summary>
/// Where a convolution's time goes (<c>Nabla.Benchmarks convpasses</c>): each pass (forward, input residual, weight
/// gradient) of the conv benchmark's layers, timed alone with every method that fits, median of repeated calls.
/// </summary>
internal static class ConvPasses
{
    public static void Run()
    {
        // (name, N, C, H, W, O): 3x3, stride 1, padding 1
        (string, int, int, int, int, int)[] layers =
        [
            ("cnn.conv1", 32, 3, 32, 32, 32), ("cnn.conv2", 32, 32, 32, 32, 64), ("cnn.conv3", 32, 64, 16, 16, 128),
            ("resnet", 8, 64, 56, 56, 64),
        ];
        Console.WriteLine($"# convpasses: ms per call (median), Threading.MaxThreads={Threading.MaxThreads}");
        foreach (var (name, n, c, h, w, o) in layers)
        {
            var g = new ConvGeometry(n, c, h, w, o, 3, 3, 1, 1, 1, 1, 1, 1, 1, h, w);
            var x = Tensor.Randn([n * c * h * w]).ToArray();
            var wt = Tensor.Randn([o * g.K]).ToArray();
            var dy = Tensor.Randn([n * o * g.P]).ToArray();
            var y = new float[dy.Length];
            var dx = new float[x.Length];
            var dw = new float[wt.Length];
            double gflop = 2.0 * n * o * g.P * g.K / 1e9;
            foreach (var m in new[] { K.Method.Im2ColGemm, K.Method.Winograd })
            {
                if (m == K.Method.Winograd && !K.WinogradFits(g)) continue;
                Report(name, "forward", m, gflop, () => K.Forward<float>(g, x, wt, default, y, m));
                Report(name, "input residual", m, gflop, () => K.BackwardData<float>(g, dy, wt, dx, m));
                Report(name, "weight gradient", m, gflop, () => K.BackwardWeight<float>(g, x, dy, dw, m));
            }
        }
    }

    private static void Report(string layer, string pass, K.Method m, double gflop, Action body)
    {
        var t = Harness.TimeIt(body, warmup: 3);
        double med = Harness.Median(t);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PASS\t{layer}\t{pass}\t{m}\t{med * 1e3:F3}\tms\t{gflop / med:F0}\tGFLOP/s (direct-conv flops)"));
    }
}
