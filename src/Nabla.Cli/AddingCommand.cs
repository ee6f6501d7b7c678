using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Nabla.Kernels;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// The adding problem of Hochreiter &amp; Schmidhuber (1997): each step carries a value in [0, 1) and a marker; exactly
/// two steps are marked (one in each half) and the target is the sum of their values. Always answering 1 scores an
/// MSE of 1/6 ≈ 0.167; solving it needs memory across the whole sequence, which backpropagation through time gives
/// an LSTM.
/// </summary>
internal static class AddingProblem
{
    /// <summary>A batch: x (B, T, 2) = (value, marker) per step, y (B, 1) = the sum of the two marked values.</summary>
    public static (Tensor X, Tensor Y) Batch(Generator g, int batch, int length)
    {
        var x = new float[batch * length * 2];
        var y = new float[batch];
        int half = length / 2;
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < length; t++) x[(b * length + t) * 2] = g.NextSingle();
            int i = (int)g.NextInt64(0, half), j = (int)g.NextInt64(half, length);
            x[(b * length + i) * 2 + 1] = 1;
            x[(b * length + j) * 2 + 1] = 1;
            y[b] = x[(b * length + i) * 2] + x[(b * length + j) * 2];
        }
        return (Tensor.FromArray(x, batch, length, 2), Tensor.FromArray(y, batch, 1));
    }

    /// <summary>LSTM(2 → hidden) reading the sequence, a connection layer on the last step's h. Shape: (B, T, 2) → (B, 1).</summary>
    public sealed class Model : Module
    {
        private readonly LSTM _lstm;
        private readonly Linear _fc;

        public Model(int hidden, Generator g)
        {
            _lstm = RegisterModule("lstm", new LSTM(2, hidden, batchFirst: true, generator: g));
            _fc = RegisterModule("fc", new Linear(hidden, 1, generator: g));
        }

        public override Tensor Forward(Tensor input) => _fc.Forward(_lstm.Forward(input, null).HN.Select(0, 0));
    }

    /// <summary>MSE of <paramref name="model"/> on <paramref name="count"/> fresh sequences from <paramref name="g"/>.</summary>
    public static double TestMse(Module model, Generator g, int count, int length)
    {
        using var _ = Tensor.NoGrad();
        double sum = 0;
        for (int done = 0; done < count; done += 500)
        {
            int n = Math.Min(500, count - done);
            var (x, y) = Batch(g, n, length);
            sum += new MSELoss(Reduction.Sum).Forward(model.Forward(x), y).Item();
        }
        return sum / count;
    }

    /// <summary>Trains with Adam (gradient norm clipped at 1) on fresh batches; returns the final test MSE.</summary>
    public static double Train(int length, int hidden, int steps, int batch, double lr, int seed, int reportEvery, TextWriter log)
    {
        var g = new Generator((ulong)seed);
        var model = new Model(hidden, g);
        var trainer = new Trainer(model, new Adam(model.Parameters(), lr), new MSELoss().Forward) { MaxGradNorm = 1.0 };
        var inv = CultureInfo.InvariantCulture;
        var sw = Stopwatch.StartNew();
        double running = 0;
        int seen = 0;
        for (int step = 1; step <= steps; step++)
        {
            var (x, y) = Batch(g, batch, length);
            running += TrainCommand.Step(trainer, x, y, "adding", lr);
            seen++;
            if (step % reportEvery == 0 || step == steps)
            {
                log.WriteLine(string.Create(inv, $"step {step,6}/{steps}  train mse {running / seen:F5}  {sw.Elapsed.TotalSeconds:F1} s"));
                running = 0;
                seen = 0;
            }
        }
        return TestMse(model, new Generator((ulong)seed + 1_000_003), 2000, length);
    }
}

/// <summary>`nabla adding`: the adding problem, solved by an LSTM trained through time.</summary>
internal static class AddingCommand
{
    private const string Description = """
        the adding problem (length 100), solved by an LSTM trained through time

        The adding problem (Hochreiter & Schmidhuber 1997): sequences of (value, marker) pairs with two marked steps, one in each half; the target is the sum of the two marked values. An LSTM reads the sequence and a connection layer answers from its last hidden state; Adam (gradient norm clipped at 1), fresh random batches every step. Always answering 1 scores a mean squared error of about 0.167; the task counts as solved below 0.01.
        """;

    public static Command Create(SharedOptions shared)
    {
        var lengthOpt = CliOptions.Int("--length", "T", "sequence length (default 100)", min: 2);
        var hiddenOpt = CliOptions.Int("--hidden", "H", "LSTM hidden size (default 64)", min: 1);
        var stepsOpt = CliOptions.Int("--steps", "N", "training steps (default 3000)", min: 1);
        var batchOpt = CliOptions.Int("--batch-size", "N", "sequences per step (default 64)", min: 1);
        var lrOpt = CliOptions.Double("--lr", "X", "Adam learning rate (default 0.005)", min: 0, exclusiveMin: true);
        var command = new Command("adding", Description) { lengthOpt, hiddenOpt, stepsOpt, batchOpt, lrOpt, shared.Seed, shared.Threads };
        command.SetAction(r =>
        {
            shared.ApplyThreads(r);
            return Run(r.GetValue(lengthOpt) ?? 100, r.GetValue(hiddenOpt) ?? 64, r.GetValue(stepsOpt) ?? 3000, r.GetValue(batchOpt) ?? 64, r.GetValue(lrOpt) ?? 0.005,
                r.GetValue(shared.Seed) ?? 1, r.InvocationConfiguration.Output);
        });
        return command;
    }

    private static int Run(int length, int hidden, int steps, int batch, double lr, int seed, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(inv, $"adding problem: length {length}, LSTM(2→{hidden}) + fc {hidden}→1, Adam lr={lr}, batch {batch}, {steps} steps, seed {seed}, {Threading.MaxThreads} threads"));
        stdout.WriteLine("baseline (always 1): test mse ≈ 0.167");
        double mse = AddingProblem.Train(length, hidden, steps, batch, lr, seed, Math.Max(1, steps / 20), stdout);
        stdout.WriteLine(string.Create(inv, $"test mse: {mse:F5} on 2000 new sequences ({(mse < 0.01 ? "solved" : "not solved")}: below 0.01 counts as solved)"));
        return 0;
    }
}
