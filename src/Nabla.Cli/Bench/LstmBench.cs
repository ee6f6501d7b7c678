using System.Globalization;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Benchmarks;

/// <summary>
/// bench_torch.py's lstm workload: LSTM(28→128, batch_first) over 28 steps, batch 64, fc 128→10 on the last step,
/// cross-entropy, Adam(lr 1e-3); one training step = zero_grad, forward, backward, step (~0.86 GFLOP).
/// </summary>
internal static class LstmBench
{
    private sealed class LstmNet : Module
    {
        private readonly LSTM _lstm;
        private readonly Linear _fc;

        public LstmNet()
        {
            _lstm = RegisterModule("lstm", new LSTM(28, 128, batchFirst: true));
            _fc = RegisterModule("fc", new Linear(128, 10));
        }

        public override Tensor Forward(Tensor input) => _fc.Forward(_lstm.Forward(input).Select(1, -1));
    }

    public static void Run()
    {
        var model = new LstmNet();
        var g = new Generator(0);
        var x = Tensor.Randn([64, 28, 28], DType.Float32, g);
        var y = Tensor.RandInt(0, 10, [64], DType.Float32, g);
        var opt = new Adam(model.Parameters(), lr: 1e-3);
        var ce = new CrossEntropyLoss();
        model.Train();
        void Step()
        {
            opt.ZeroGrad();
            var loss = ce.Forward(model.Forward(x), y);
            loss.Backward();
            opt.Step();
        }
        var t = Harness.TimeIt(Step, warmup: 5);
        ConvBench.Profile("lstm_train_b64", Step);
        double med = Harness.Median(t);
        Harness.Report("lstm_train_b64", t[0] * 1e3, med * 1e3, "ms/step", t.Length,
            string.Create(CultureInfo.InvariantCulture, $"samples/s(median)={64 / med:F0}"));
    }
}
