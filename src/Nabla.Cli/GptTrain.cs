using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Nabla.IO;
using Nabla.Kernels;
using Nabla.IO.TensorBoard;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// `nabla train --model gpt`: the character-level GPT trained on a text (the bundled one by default), with the run
/// folder the other presets have: run.json, metrics.csv (one row per epoch: loss in nats, next-character accuracy),
/// checkpoint.safetensors (model, optimizer, schedule, generators, position inside the epoch), model.safetensors and
/// the plots. Ctrl+C or SIGTERM stops after the current step and writes the checkpoint; --resume continues bit for bit.
/// </summary>
internal static class GptTrain
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;
    private static readonly double s_ln2 = Math.Log(2);

    /// <summary>Generators the checkpoint holds: the weights' initialiser (then dropout's masks), the batches' offsets.</summary>
    private const string InitGen = "init", DataGen = "data";

    /// <summary>Trains (or, with <paramref name="resume"/>, continues) the run in <paramref name="run"/>; returns the exit code.</summary>
    public static int Train(GptConfig c, RunFolder run, bool resume, TextWriter stdout, TextWriter stderr, string? note, int? lines = null, string? tensorboard = null)
    {
        var text = GptText.Load(c.Text, "train");
        if (text.Vocab != c.Vocab || text.Ids.Length != c.TextChars)
            throw new InvalidDataException($"nabla train: the text '{c.Text}' has changed since the run started ({text.Ids.Length} characters, {text.Vocab.Length} distinct; {run.ConfigFile} says {c.TextChars} and {c.Vocab.Length}).");
        text.CheckLength(c.Context, "train");
        var gens = new Dictionary<string, Generator>(StringComparer.Ordinal)
        {
            [InitGen] = new((ulong)c.Seed), [DataGen] = new((ulong)c.Seed + 1),
        };
        var model = c.BuildModel(gens[InitGen]);
        var optimizer = c.BuildOptimizer(model);
        var scheduler = c.BuildScheduler(optimizer);
        int vocab = c.Vocab.Length;
        var trainer = new Trainer(model, optimizer, (logits, y) => Tensor.CrossEntropy(logits.Reshape(-1, vocab), y.Reshape(-1)))
        {
            Scheduler = scheduler, ScheduleInterval = ScheduleInterval.Batch, MaxGradNorm = GptConfig.MaxGradNorm,
        };
        int spe = c.StepsPerEpoch;
        int epoch = 0, batch = 0;
        long step = 0;
        var sums = default(EpochSums);
        var history = new List<EpochMetrics>();
        stdout.WriteLine(string.Create(s_inv, $"text: {c.Text} ({text.Ids.Length:N0} characters, {vocab} distinct; {text.Split:N0} to train, {text.Ids.Length - text.Split:N0} to validate)"));
        stdout.WriteLine(c.Describe(model.ParameterCount(), Threading.MaxThreads));
        if (resume)
        {
            var ck = TrainingCheckpoint.Load(run.CheckpointFile);
            if (ck.Epoch > c.Epochs || (ck.Epoch == c.Epochs && ck.Batch > 0) || ck.Batch >= spe || ck.Step != (long)ck.Epoch * spe + ck.Batch || ck.History is null || ck.History.Count != ck.Epoch)
                throw new InvalidDataException($"training checkpoint '{run.CheckpointFile}' does not fit {run.ConfigFile}: epoch {ck.Epoch}, batch {ck.Batch}, step {ck.Step}, for {c.Epochs} epochs of {spe} steps.");
            try
            {
                ck.Restore(model, optimizer, scheduler, gens);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"training checkpoint '{run.CheckpointFile}': {Untrusted.Excerpt(e.Message, 400)}", e);
            }
            (epoch, batch, step, sums) = (ck.Epoch, ck.Batch, ck.Step, ck.Partial);
            history.AddRange(ck.History);
            stdout.WriteLine(string.Create(s_inv, $"resuming {run.Path} at epoch {epoch}{(batch > 0 ? $" (step {batch} of epoch {epoch + 1})" : "")}, step {step}"));
        }
        else
        {
            if (note is not null) run.Clear();
            run.WriteConfig(c.ToDictionary());
            stdout.WriteLine($"run: {run.Path}{(note is null ? "" : $" ({note})")}");
        }

        using var cts = new CancellationTokenSource();
        int stoppedBy = 0;
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.CompareExchange(ref stoppedBy, (int)context.Signal, 0) != 0) return;
            context.Cancel = true;
            cts.Cancel();
        }
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        void Save()
        {
            var ck = TrainingCheckpoint.Capture(model, optimizer, scheduler, epoch, step, gens);
            ck.Batch = batch;
            ck.Partial = sums;
            ck.History = [.. history];
            MetricsCsv.Write(run.MetricsFile, history);
            SafeTensors.Save(run.ModelFile, model.StateDict());
            ck.Save(run.CheckpointFile);
            run.TryWritePlots(history, "validation", stderr);
        }

        // --tensorboard: batch loss and lr about ten times an epoch, and per epoch what the image models' logger writes
        using var events = tensorboard is null ? null : TensorBoardRun.Open(tensorboard);
        var logger = events is null ? null : new TensorBoardLogger(events);
        int logEvery = Math.Max(1, spe / 10);
        int report = Math.Max(1, (lines ?? 10) > 0 ? spe / (lines ?? 10) : spe);
        while (epoch < c.Epochs)
        {
            var sw = Stopwatch.StartNew();
            double seconds0 = sums.Seconds;
            model.Train();
            while (batch < spe)
            {
                var (x, y) = GptText.Windows(text.Ids, 0, text.Split, c.BatchSize, c.Context, gens[DataGen]);
                double loss;
                Tensor logits;
                try
                {
                    (loss, logits) = trainer.TrainStep(x, y);
                }
                catch (TrainingDivergedException e)
                {
                    throw new CliException(string.Create(s_inv, $"nabla train: the loss became {e.Loss} at epoch {epoch + 1}, step {step + 1}; lower the learning rate (--lr {c.Lr})."));
                }
                int n = x.Numel;
                sums = new EpochSums(sums.Loss + loss * n, sums.Correct + Metrics.Correct(logits.Reshape(-1, vocab), y.Reshape(-1)), sums.Seen + n, seconds0 + sw.Elapsed.TotalSeconds);
                batch++;
                step++;
                if (events is not null && step % logEvery == 0)
                {
                    events.AddScalar("batch/loss", loss, step);
                    events.AddScalar("batch/lr", optimizer.LearningRate, step);
                }
                if (batch % report == 0 && batch < spe)
                    stdout.WriteLine(string.Create(s_inv,
                        $"  epoch {epoch + 1}/{c.Epochs} step {batch,5}/{spe}  loss {sums.Loss / sums.Seen:F4} ({sums.Loss / sums.Seen / s_ln2:F3} bits/char)  lr {optimizer.LearningRate:G4}  {sums.Seen / Math.Max(sums.Seconds, 1e-9):N0} chars/s"));
                if (cts.IsCancellationRequested) break;
            }
            if (batch < spe)
            {
                Save();
                bool term = stoppedBy == (int)PosixSignal.SIGTERM;
                stdout.WriteLine(string.Create(s_inv, $"{(term ? "terminated (SIGTERM)" : "interrupted")} at epoch {epoch + 1}, step {step}: checkpoint written; continue with: nabla train --resume {run.Path}"));
                return term ? 143 : 130;
            }
            var (valLoss, valAcc) = Validate(model, text, c);
            epoch++;
            var m = new EpochMetrics(epoch, sums.Loss / sums.Seen, (double)sums.Correct / sums.Seen, valLoss, valAcc, optimizer.LearningRate, sums.Seconds);
            history.Add(m);
            logger?.OnEpochEnd(trainer, m);
            stdout.WriteLine(string.Create(s_inv,
                $"epoch {epoch,3}/{c.Epochs}  loss {m.TrainLoss:F4} ({m.TrainLoss / s_ln2:F3} bits/char)  val loss {valLoss:F4} ({valLoss / s_ln2:F3} bits/char)  val acc {100 * valAcc:F2}%  lr {m.LearningRate:G4}  {sums.Seen / Math.Max(sums.Seconds, 1e-9):N0} chars/s  {m.Seconds:F1} s"));
            stdout.Flush();
            (batch, sums) = (0, default);
            Save();
        }
        var last = history[^1];
        stdout.WriteLine(string.Create(s_inv, $"validation loss: {last.ValLoss:F4} nats/char ({last.ValLoss / s_ln2:F3} bits/char), next-character accuracy {100 * last.ValAccuracy:F2}%"));
        stdout.WriteLine($"saved: {run.Path} (metrics.csv, checkpoint.safetensors, model.safetensors, loss/accuracy/lr .png/.svg)");
        stdout.WriteLine($"sample it with: nabla generate {run.Path} --prompt TEXT");
        return 0;
    }

    /// <summary>Mean cross-entropy (nats per character) and next-character accuracy over the whole validation split, in evaluation mode.</summary>
    internal static (double Loss, double Accuracy) Validate(Gpt model, GptText text, GptConfig c)
    {
        bool training = model.Training;
        model.Eval();
        double sum = 0;
        long correct = 0, seen = 0;
        using (Tensor.NoGrad())
        {
            foreach (var (x, y) in text.ValidationWindows(c.Context, c.BatchSize))
            {
                var logits = model.Forward(x).Reshape(-1, c.Vocab.Length);
                var targets = y.Reshape(-1);
                sum += Tensor.CrossEntropy(logits, targets, reduction: Reduction.Sum).Item();
                correct += Metrics.Correct(logits, targets);
                seen += targets.Numel;
            }
        }
        model.Train(training);
        return (sum / seen, (double)correct / seen);
    }
}
