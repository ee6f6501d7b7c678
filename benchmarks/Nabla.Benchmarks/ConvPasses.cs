using System.Globalization;
using Nabla.Kernels;
using K = Nabla.Kernels.Conv;

namespace Nabla.Benchmarks;

/// <summary>
/// Where a convolution's time goes (<c>Nabla.Benchmarks convpasses</c>): each pass (forward, input residual, weight
/// gradient) of LeNet's and the conv benchmark's layers, timed alone: first with the method <see cref="K.Choose"/>
/// picks ("chosen: …"), then with every method that fits; median of repeated calls.
/// </summary>
internal static class ConvPasses
{
    public static void Run()
    {
        // (name, N, C, H, W, O, kernel, padding): stride 1
        (string, int, int, int, int, int, int, int)[] layers =
        [
            ("lenet.conv1", 64, 1, 28, 28, 6, 5, 2), ("lenet.conv2", 64, 6, 14, 14, 16, 5, 0),
            ("cnn.conv1", 32, 3, 32, 32, 32, 3, 1), ("cnn.conv2", 32, 32, 32, 32, 64, 3, 1), ("cnn.conv3", 32, 64, 16, 16, 128, 3, 1),
            ("resnet", 8, 64, 56, 56, 64, 3, 1),
        ];
        Console.WriteLine($"# convpasses: ms per call (median), Threading.MaxThreads={Threading.MaxThreads}");
        foreach (var (name, n, c, h, w, o, k, pad) in layers)
        {
            int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
            var g = new ConvGeometry(n, c, h, w, o, k, k, 1, 1, pad, pad, 1, 1, 1, oh, ow);
            var x = Tensor.Randn([n * c * h * w]).ToArray();
            var wt = Tensor.Randn([o * g.K]).ToArray();
            var dy = Tensor.Randn([n * o * g.P]).ToArray();
            var y = new float[dy.Length];
            var dx = new float[x.Length];
            var dw = new float[wt.Length];
            double gflop = 2.0 * n * o * g.P * g.K / 1e9;
            Report(name, "forward", K.Choose(g, K.Pass.Forward, true), gflop, () => K.Forward<float>(g, x, wt, default, y), auto: true);
            Report(name, "input residual", K.Choose(g, K.Pass.BackwardData, true), gflop, () => K.BackwardData<float>(g, dy, wt, dx), auto: true);
            Report(name, "weight gradient", K.Choose(g, K.Pass.BackwardWeight, true), gflop, () => K.BackwardWeight<float>(g, x, dy, dw), auto: true);
            if (K.RowDotFits(g))
            {
                Report(name, "forward", K.Method.ShiftedRows, gflop, () => K.Forward<float>(g, x, wt, default, y, K.Method.ShiftedRows));
                Report(name, "weight gradient", K.Method.RowDot, gflop, () => K.BackwardWeight<float>(g, x, dy, dw, K.Method.RowDot));
            }
            foreach (var m in new[] { K.Method.Im2ColGemm, K.Method.Winograd })
            {
                if (m == K.Method.Winograd && !K.WinogradFits(g)) continue;
                Report(name, "forward", m, gflop, () => K.Forward<float>(g, x, wt, default, y, m));
                Report(name, "input residual", m, gflop, () => K.BackwardData<float>(g, dy, wt, dx, m));
                Report(name, "weight gradient", m, gflop, () => K.BackwardWeight<float>(g, x, dy, dw, m));
            }
        }
    }

    private static void Report(string layer, string pass, K.Method m, double gflop, Action body, bool auto = false)
    {
        var t = Harness.TimeIt(body, warmup: 3);
        double med = Harness.Median(t);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PASS\t{layer}\t{pass}\t{(auto ? "chosen: " : "")}{m}\t{med * 1e3:F3}\tms\t{gflop / med:F0}\tGFLOP/s (direct-conv flops)"));
    }
}
