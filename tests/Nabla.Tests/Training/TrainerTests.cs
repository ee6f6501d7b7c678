using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;
using Nabla.Training;

namespace Nabla.Tests.Training;

public class TrainerTests
{
    // two Gaussian-ish blobs per class in 8 dimensions: learnable in a few epochs by a tiny MLP
    private static TensorDataset Blobs(int n, ulong seed)
    {
        var g = new Generator(seed);
        var x = new float[n * 8];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % 3;
            for (int j = 0; j < 8; j++) x[i * 8 + j] = (float)(g.NextNormal() * 0.5 + (j % 3 == y[i] ? 1.5 : 0));
        }
        return new TensorDataset(x, y, 8);
    }

    private sealed record Setup(Trainer Trainer, DataLoader Train, DataLoader Val);

    private static Setup Make(ulong seed, List<string>? log = null, bool plateau = false)
    {
        var init = new Generator(seed);
        var model = new Sequential(new Linear(8, 16, generator: init), new ReLU(), new Linear(16, 3, generator: init));
        var data = Blobs(300, 7);
        var (train, val) = data.RandomSplit(0.2, 3);
        var loader = new DataLoader(train, 16, shuffle: true, seed: seed + 1, transform: (s, g) => s[0] += (float)(g.NextDouble() * 0.01));
        var opt = new SGD(model.Parameters(), 0.05, momentum: 0.9);
        var trainer = new Trainer(model, opt, new CrossEntropyLoss().Forward)
        {
            Scheduler = plateau ? new ReduceLROnPlateau(opt, patience: 1) : new CosineAnnealingLR(opt, 6 * loader.BatchCount),
            ScheduleInterval = ScheduleInterval.Batch,
        };
        trainer.Generators["init"] = init;
        trainer.Callbacks.Add(new EarlyStopping(50));
        trainer.Callbacks.Add(new KeepBest());
        if (log is not null) trainer.Callbacks.Add(new LambdaCallback((t, m) => log.Add($"{m.Epoch}")));
        return new Setup(trainer, loader, new DataLoader(val, 64));
    }

    private static float[][] Weights(Module m) => m.StateDict().Values.Select(t => t.ToArray()).ToArray();

    [Fact]
    public void FitLearnsAndRecordsMetrics()
    {
        var s = Make(1);
        Assert.True(s.Trainer.Fit(s.Train, s.Val, 6));
        Assert.Equal(6, s.Trainer.History.Count);
        Assert.Equal(6, s.Trainer.Epoch);
        Assert.Equal(6L * s.Train.BatchCount, s.Trainer.Step);
        Assert.True(s.Trainer.History[^1].TrainLoss < s.Trainer.History[0].TrainLoss);
        Assert.True(s.Trainer.History[^1].ValAccuracy > 0.9, $"val acc {s.Trainer.History[^1].ValAccuracy}");
        Assert.True(s.Trainer.History[^1].LearningRate < 1e-3); // cosine decayed to ~0
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ResumingAtAnEpochBoundaryIsBitIdentical(bool plateau)
    {
        var straight = Make(5, plateau: plateau);
        straight.Trainer.Fit(straight.Train, straight.Val, 6);

        var first = Make(5, plateau: plateau);
        first.Trainer.Fit(first.Train, first.Val, 3);
        var state = first.Trainer.CaptureState();
        var second = Make(5, plateau: plateau); // fresh objects, as a new process would build them
        second.Trainer.RestoreState(state);
        Assert.Equal(3, second.Trainer.Epoch);
        second.Trainer.Fit(second.Train, second.Val, 6);

        Assert.Equal(Weights(straight.Trainer.Model), Weights(second.Trainer.Model));
        Assert.Equal(straight.Trainer.History.Select(m => m.TrainLoss), second.Trainer.History.Select(m => m.TrainLoss));
        Assert.Equal(straight.Trainer.Optimizer.LearningRate, second.Trainer.Optimizer.LearningRate);
    }

    [Fact]
    public void CancellingMidEpochThenResumingFromAFileIsBitIdentical()
    {
        var straight = Make(9);
        straight.Trainer.Fit(straight.Train, straight.Val, 4);

        var first = Make(9);
        using var cts = new CancellationTokenSource();
        first.Trainer.Progress = new CancelAt(cts, epoch: 2, batch: 5);
        Assert.False(first.Trainer.Fit(first.Train, first.Val, 4, cts.Token));
        Assert.True(first.Trainer.MidEpoch);
        Assert.Equal(1, first.Trainer.Epoch);
        string path = Path.Combine(Path.GetTempPath(), $"nabla-trainer-{Guid.NewGuid():N}.safetensors");
        try
        {
            first.Trainer.SaveCheckpoint(path);
            var second = Make(9);
            second.Trainer.LoadCheckpoint(path);
            Assert.True(second.Trainer.Fit(second.Train, second.Val, 4));
            Assert.Equal(Weights(straight.Trainer.Model), Weights(second.Trainer.Model));
            Assert.Equal(straight.Trainer.History.Select(m => m.TrainLoss), second.Trainer.History.Select(m => m.TrainLoss));
            Assert.Equal(straight.Trainer.Step, second.Trainer.Step);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class CancelAt(CancellationTokenSource cts, int epoch, int batch) : ITrainingProgress
    {
        public void OnBatchEnd(in BatchProgress p)
        {
            if (p.Epoch == epoch && p.Batch == batch) cts.Cancel();
        }
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement()
    {
        var s = Make(2);
        s.Trainer.Callbacks.Clear();
        var stop = new EarlyStopping(2, MonitoredMetric.ValLoss);
        s.Trainer.Callbacks.Add(stop);
        var h = new[] { 1.0, 0.5, 0.6, 0.55, 0.4 };
        for (int i = 0; i < h.Length && !s.Trainer.StopRequested; i++) stop.OnEpochEnd(s.Trainer, new EpochMetrics(i + 1, 1, 0, h[i], 0, 0.1, 1));
        Assert.True(s.Trainer.StopRequested); // 0.6 and 0.55 did not beat 0.5
        Assert.Equal(0.5, stop.Best);
        Assert.Contains("has not improved for 2", s.Trainer.StopReason);
    }

    [Fact]
    public void ARunResumedAfterItsEarlyStopTrainsNoFurther()
    {
        static Setup Stopping(ulong seed)
        {
            var s = Make(seed);
            s.Trainer.Callbacks.Clear();
            s.Trainer.Callbacks.Add(new EarlyStopping(1, MonitoredMetric.ValLoss));
            s.Trainer.Optimizer.ParamGroups[0].LearningRate = 0; // the validation loss never improves: a stop after epoch 2
            s.Trainer.Scheduler = null;
            return s;
        }
        var first = Stopping(5);
        first.Trainer.Fit(first.Train, first.Val, 6);
        Assert.Equal(2, first.Trainer.Epoch);
        var state = first.Trainer.CaptureState();

        var resumed = Stopping(5);
        resumed.Trainer.RestoreState(state);
        var before = Weights(resumed.Trainer.Model);
        Assert.True(resumed.Trainer.Fit(resumed.Train, resumed.Val, 6));
        Assert.Equal(2, resumed.Trainer.Epoch);
        Assert.True(resumed.Trainer.StopRequested);
        Assert.Contains("early stopping", resumed.Trainer.StopReason);
        Assert.Equal(before, Weights(resumed.Trainer.Model));
    }

    [Fact]
    public void KeepBestRemembersTheBestEpochsWeights()
    {
        var s = Make(3);
        var best = new KeepBest(MonitoredMetric.ValAccuracy);
        var weights = new List<float[][]>();
        s.Trainer.Callbacks.Add(best);
        s.Trainer.Callbacks.Add(new LambdaCallback((t, _) => weights.Add(Weights(t.Model))));
        s.Trainer.Fit(s.Train, s.Val, 5);
        var accuracy = s.Trainer.History.Select(m => m.ValAccuracy).ToList();
        int expected = accuracy.IndexOf(accuracy.Max()) + 1; // the first epoch with the highest accuracy
        Assert.True(expected < 5, "the best epoch is the last one: restoring it would not show anything");
        Assert.Equal(expected, best.BestEpoch);
        Assert.Equal(accuracy.Max(), best.Best);
        best.RestoreBest(s.Trainer.Model);
        Assert.Equal(weights[expected - 1], Weights(s.Trainer.Model));
        Assert.Equal(best.Best, s.Trainer.Evaluate(s.Val).Accuracy);
    }

    [Fact]
    public void DivergingLossThrowsNamingEpochAndStep()
    {
        var s = Make(4);
        s.Trainer.Optimizer.LearningRate = 1e30;
        s.Trainer.Scheduler = null;
        var e = Assert.Throws<TrainingDivergedException>(() => s.Trainer.Fit(s.Train, s.Val, 2));
        Assert.Contains("epoch 1", e.Message);
        Assert.Contains("lower the learning rate", e.Message);
    }

    [Fact]
    public void AStatePastTheRunIsRefusedInsteadOfTrainingForever()
    {
        var s = Make(6);
        s.Trainer.Fit(s.Train, s.Val, 1);
        var state = s.Trainer.CaptureState();
        state.Epoch = int.MaxValue; // Epoch + 1 overflowed to int.MinValue: the loop ran ~2^32 epochs
        var resumed = Make(6);
        resumed.Trainer.RestoreState(state);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => resumed.Trainer.Fit(resumed.Train, resumed.Val, 3));
        Assert.Contains("the restored state is at epoch 2147483647, past the 3 epoch(s) of this run", e.Message);
        var before = Weights(resumed.Trainer.Model);
        Assert.True(resumed.Trainer.Fit(resumed.Train, resumed.Val, int.MaxValue)); // already complete: nothing to train
        Assert.Equal(before, Weights(resumed.Trainer.Model));
        Assert.Equal(state.Step, resumed.Trainer.Step);
    }

    [Fact]
    public void TrainStepIsOneStepOfFitWithOptionalClipping()
    {
        var a = Make(8);
        var b = Make(8);
        var (x, y) = b.Train.Epoch().First(); // the batch a's Fit starts with
        a.Trainer.Fit(a.Train, a.Val, 1, new CancellationToken(canceled: true)); // exactly one batch
        double loss = b.Trainer.TrainStep(x, y).Loss;
        Assert.Equal(Weights(a.Trainer.Model), Weights(b.Trainer.Model));
        Assert.Empty(a.Trainer.History);
        Assert.Equal(1L, b.Trainer.Step);
        Assert.True(loss > 0.5, $"loss {loss}");

        var c = Make(8);
        c.Trainer.MaxGradNorm = 1e-3;
        c.Trainer.TrainStep(x, y);
        double norm = Math.Sqrt(c.Trainer.Model.Parameters().Sum(p => p.Grad!.ToDoubleArray().Sum(g => g * g)));
        Assert.InRange(norm, 0.999e-3, 1.001e-3);
        Assert.Throws<ArgumentOutOfRangeException>(() => c.Trainer.MaxGradNorm = 0);
    }

    [Fact]
    public void MetricsCsvRoundTripsAndRejectsBadRows()
    {
        var rows = new List<EpochMetrics> { new(1, 0.5, 0.9, double.NaN, double.NaN, 0.1, 1.25), new(2, 0.25, 0.95, 0.3, 0.92, 0.05, 1.5) };
        string text = MetricsCsv.Format(rows);
        Assert.StartsWith("epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds\n1,0.5,0.9,,,0.1,1.250\n", text);
        Assert.Equal(rows, MetricsCsv.Parse(text, "x"));
        var e = Assert.Throws<InvalidDataException>(() => MetricsCsv.Parse(MetricsCsv.Header + "\n1,abc,0,0,0,0,0\n", "m.csv"));
        Assert.Contains("m.csv: line 2", e.Message);
    }

    [Fact]
    public void RestoringACheckpointOfAnotherOptimizerFailsClearly()
    {
        var s = Make(1);
        var state = s.Trainer.CaptureState();
        var model = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 3));
        var other = new Trainer(model, new Adam(model.Parameters()), new CrossEntropyLoss().Forward);
        var e = Assert.Throws<ArgumentException>(() => other.RestoreState(state));
        Assert.Contains("SGD", e.Message);
    }
}
