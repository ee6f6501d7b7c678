using System.Globalization;
using Nabla.Data;
using Nabla.IO;
using Nabla.Kernels;
using Nabla.Losses;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>`nabla train`: the text's fully-connected ReLU network (or another preset) learning to read handwritten digits.</summary>
internal static class TrainCommand
{
    private static string Help => HelpText.Replace("MODELS_PLACEHOLDER", string.Join("\n                        ", Models.Presets.Select(p => $"{p.Name}: {p.Description}")), StringComparison.Ordinal);

    private const string HelpText = """
        Usage: nabla train [options]
               nabla train --resume DIR [--threads N]

        Trains a network on MNIST (by default the text's fully-connected network: 784 → 512 → 256 → 10, Linear +
        ReLU, cross-entropy, SGD with momentum 0.9 and a cosine-decayed λ; training images randomly rotated, scaled,
        sheared and shifted by ±2 pixels), showing loss, accuracy, samples/s and ETA (a live display on a terminal,
        one line per epoch otherwise), then the final test accuracy. Each run gets a folder RUNS/NAME with run.json,
        metrics.csv, checkpoint.safetensors (written atomically after every epoch), model.safetensors,
        best.safetensors and loss/accuracy/lr plots (.png, .svg).
        Ctrl+C stops after the current batch and writes the checkpoint; --resume continues bit for bit.

        Options:
          --model NAME          MODELS_PLACEHOLDER
          --data DIR            folder with train-/t10k- images and labels in IDX format, .gz or raw
                                (default: the bundled 10,000-digit sample, 8,000 train / 2,000 test)
          --epochs N            passes over the training set (default: the model's; mlp 40)
          --batch-size N        samples per step (default: the model's; mlp 32)
          --optimizer NAME      sgd (default), adam, adamw, rmsprop or adagrad
          --lr X                initial learning rate λ (default: the model's; mlp 0.05)
          --momentum X          momentum for sgd and rmsprop (default: the model's; mlp 0.9)
          --nesterov            Nesterov momentum (sgd)
          --weight-decay X      L2 penalty (decoupled for adamw; default 0)
          --schedule S          cosine: λ·½(1 + cos(π·t/T)) per step (default); constant; step: ×0.1 every
                                third of the run; onecycle: one-cycle policy up to λ; plateau: ×0.1 after 3
                                epochs without a better validation loss
          --warmup E            linear warm-up from λ/10 over the first E epochs (default 0)
          --hidden A,B,...      mlp only: hidden layer sizes (default 512,256; empty for a linear model)
          --shift N             random shift of training images by up to N pixels (default 2; 0 = off)
          --rotate DEG          random rotation of training images by up to DEG degrees (default: the model's; mlp 10)
          --scale F             random scaling of training images by a factor in [1 − F, 1 + F] (default: mlp 0.1)
          --shear DEG           random x-shear of training images by up to DEG degrees (default: mlp 10)
          --normalize           feed (x − 0.1307) / 0.3081 (MNIST's mean and std) instead of pixels in [0, 1]
          --val-split F         hold out a fraction F of the training set for validation (fixed by the seed);
                                without it the test set is scored after each epoch
          --early-stopping N    stop when the validation loss has not improved for N epochs (default: off)
          --seed N              seed for initial weights, shuffling, shifts and the split (default 1)
          --run NAME            run folder name (default: MODEL-yyyyMMdd-HHmmss)
          --runs-dir DIR        where run folders go (default: runs)
          --resume DIR          continue an interrupted run from its checkpoint, with its own options
          --threads N           threads for the kernels (default: all cores; results do not depend on it)
          --plain               one line per epoch even on a terminal
          --help                this text

        Example: nabla train --epochs 5 --hidden 128 --run small
        """;

    private static readonly HashSet<string> s_flags = ["help", "nesterov", "plain", "normalize"];
    private static readonly HashSet<string> s_valued = ["model", "data", "epochs", "batch-size", "lr", "schedule", "hidden", "shift", "rotate", "scale", "shear", "seed", "threads",
        "optimizer", "momentum", "weight-decay", "warmup", "val-split", "early-stopping", "run", "runs-dir", "resume"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = new Options("train", args, s_flags, s_valued);
        if (o.Has("help"))
        {
            stdout.WriteLine(Help);
            return 0;
        }
        if (o.Positionals.Count > 0) throw new CliException($"nabla train: unexpected argument '{o.Positionals[0]}'. See 'nabla train --help'.");
        Threading.MaxThreads = o.Int("threads", Environment.ProcessorCount, min: 1);
        RunFolder run;
        TrainConfig config;
        bool resume = o.Has("resume");
        if (resume)
        {
            run = RunFolder.Open("train", o.String("resume"));
            var extra = s_valued.Concat(s_flags).Where(k => k is not ("resume" or "threads" or "plain") && o.Has(k)).ToList();
            if (extra.Count > 0) throw new CliException($"nabla train: --resume continues a run with its own options; --{extra[0]} cannot be changed (only --threads and --plain).");
            config = TrainConfig.FromDictionary(run.ReadConfig(), run.ConfigFile);
        }
        else
        {
            config = Parse(o);
            string runsDir = o.String("runs-dir") ?? "runs";
            string name = o.String("run") ?? RunFolder.DefaultName(config.Model);
            if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name is "." or "..")
                throw new CliException($"nabla train: --run '{name}' is not a valid folder name.");
            run = new RunFolder(Path.Combine(runsDir, name));
            // two runs started in the same second get default names mlp-...-2, -3, ...
            for (int k = 2; !o.Has("run") && File.Exists(run.ConfigFile); k++) run = new RunFolder(Path.Combine(runsDir, $"{name}-{k}"));
            if (File.Exists(run.ConfigFile))
                throw new CliException($"nabla train: run folder '{run.Path}' already holds a run; continue it with --resume or choose another --run.");
        }
        return Train(config, run, resume, stdout, stderr, plain: o.Has("plain"));
    }

    private static TrainConfig Parse(Options o)
    {
        var preset = Models.Get(o.String("model") ?? Models.Presets[0].Name);
        string optimizer = o.String("optimizer") ?? "sgd";
        if (!TrainConfig.Optimizers.Contains(optimizer))
            throw new CliException($"nabla train: --optimizer must be one of {string.Join(", ", TrainConfig.Optimizers)}, got '{optimizer}'.");
        string schedule = o.String("schedule") ?? "cosine";
        if (!TrainConfig.Schedules.Contains(schedule))
            throw new CliException($"nabla train: --schedule must be one of {string.Join(", ", TrainConfig.Schedules)}, got '{schedule}'.");
        int[]? hidden = o.Has("hidden") ? o.IntList("hidden", []) : null;
        if (hidden is not null && preset.Name != "mlp") throw new CliException($"nabla train: --hidden applies to the mlp model only, not '{preset.Name}'.");
        int epochs = o.Int("epochs", preset.Epochs, min: 1);
        int warmup = o.Int("warmup", 0, min: 0);
        if (warmup >= epochs) throw new CliException($"nabla train: --warmup ({warmup}) must be shorter than the run ({epochs} epochs).");
        if (warmup > 0 && schedule is "onecycle" or "plateau") throw new CliException($"nabla train: --warmup cannot be combined with --schedule {schedule}.");
        double momentum = o.Double("momentum", optimizer is "sgd" ? preset.Momentum : 0, min: 0);
        if (momentum >= 1) throw new CliException($"nabla train: --momentum must be below 1, got {momentum.ToString(CultureInfo.InvariantCulture)}.");
        if (o.Has("momentum") && optimizer is not ("sgd" or "rmsprop")) throw new CliException($"nabla train: --momentum applies to sgd and rmsprop, not {optimizer}.");
        bool nesterov = o.Has("nesterov");
        if (nesterov && (optimizer != "sgd" || momentum == 0)) throw new CliException("nabla train: --nesterov needs --optimizer sgd with a momentum > 0.");
        double valSplit = o.Double("val-split", 0, min: 0);
        if (valSplit >= 1) throw new CliException($"nabla train: --val-split must be a fraction below 1, got {valSplit.ToString(CultureInfo.InvariantCulture)}.");
        string? dir = o.String("data");
        if (dir is not null && !Directory.Exists(dir)) throw new CliException($"nabla train: data folder '{dir}' does not exist.");
        double defaultLr = optimizer == "sgd" ? preset.LearningRate : optimizer is "adagrad" ? 0.01 : 0.001;
        // a scale factor 1 − F must stay positive, a shear of 90° is a degenerate map; --shift is checked against the images once they are read
        double scale = o.Double("scale", preset.Scale, min: 0), shear = o.Double("shear", preset.Shear, min: 0);
        if (scale >= 1) throw new CliException($"nabla train: --scale must be in [0, 1) (the factor is drawn from [1 − F, 1 + F]), got {o.String("scale")}.");
        if (shear >= 90) throw new CliException($"nabla train: --shear must be in [0, 90) degrees, got {o.String("shear")}.");
        return new TrainConfig(preset.Name, hidden, dir is null ? Mnist.SampleName : Path.GetFullPath(dir), epochs, o.Int("batch-size", preset.BatchSize, min: 1), optimizer,
            o.Double("lr", defaultLr, min: 0, exclusiveMin: true), momentum, o.Double("weight-decay", 0, min: 0), nesterov, schedule, warmup,
            o.Int("shift", 2, min: 0), o.Int("seed", 1, min: 0), valSplit, o.Int("early-stopping", 0, min: 0), Normalize: o.Has("normalize"),
            Rotate: o.Double("rotate", preset.Rotate, min: 0), Scale: scale, Shear: shear);
    }

    private static int Train(TrainConfig c, RunFolder run, bool resume, TextWriter stdout, TextWriter stderr, bool plain)
    {
        var inv = CultureInfo.InvariantCulture;
        var data = RunData.Load(c, "train");
        var init = new Generator((ulong)c.Seed);
        var model = c.BuildModel(data.Pixels, data.Classes, init);
        var lossFn = new CrossEntropyLoss();
        var loader = new DataLoader(data.Train, c.BatchSize, shuffle: true, seed: (ulong)c.Seed + 1,
            transform: c.TrainTransform(data.Rows, data.Cols));
        string valName = data.Validation is null ? "test" : "val", valLabel = data.Validation is null ? "test" : "validation";
        int evalBatch = Evaluate.BatchSize(model, c.SampleShape(data.Pixels));
        var valLoader = new DataLoader(data.Validation ?? data.Test, evalBatch);
        var optimizer = c.BuildOptimizer(model);
        var (scheduler, interval) = c.BuildScheduler(optimizer, loader.BatchCount);
        var trainer = new Trainer(model, optimizer, lossFn.Forward) { Scheduler = scheduler, ScheduleInterval = interval };
        trainer.Generators["init"] = init;
        trainer.Generators["default"] = Generator.Default;
        if (c.EarlyStopping > 0) trainer.Callbacks.Add(new EarlyStopping(c.EarlyStopping));
        var best = new KeepBest(MonitoredMetric.ValAccuracy) { Saved = (m, _) => SafeTensors.Save(run.BestFile, m.StateDict()) };
        trainer.Callbacks.Add(best);
        // last, so the checkpoint holds the other callbacks' counters
        trainer.Callbacks.Add(new LambdaCallback((t, _) => SaveRun(t, run, valLabel, stderr)));

        stdout.WriteLine(string.Create(inv, $"data: {data.Dir} ({data.Train.Count} train, {(data.Validation is null ? "" : $"{data.Validation.Count} val, ")}{data.Test.Count} test, {data.Rows}x{data.Cols})"));
        stdout.WriteLine(c.Describe(data.Pixels, data.Classes, model.ParameterCount(), Threading.MaxThreads));
        if (resume && File.Exists(run.CheckpointFile))
        {
            trainer.LoadCheckpoint(run.CheckpointFile);
            stdout.WriteLine(string.Create(inv, $"resuming {run.Path} at epoch {trainer.Epoch}{(trainer.MidEpoch ? " (inside epoch " + (trainer.Epoch + 1) + ")" : "")}, step {trainer.Step}"));
        }
        else
        {
            Directory.CreateDirectory(run.Path);
            var config = c.ToDictionary();
            config["rows"] = data.Rows.ToString(inv);
            config["cols"] = data.Cols.ToString(inv);
            config["classes"] = data.Classes.ToString(inv);
            run.WriteConfig(config);
            stdout.WriteLine($"run: {run.Path}");
        }

        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // finish the batch, write the checkpoint, then exit
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        bool completed;
        try
        {
            if (!plain && SpectreProgress.Usable(stdout))
                completed = SpectreProgress.Run(ctx =>
                {
                    trainer.Progress = new SpectreProgress(ctx, valName, data.Train.Count);
                    return Fit(trainer, loader, valLoader, c.Epochs, cts.Token, c.Lr);
                });
            else
            {
                trainer.Progress = new PlainProgress(stdout, valName, data.Train.Count);
                completed = Fit(trainer, loader, valLoader, c.Epochs, cts.Token, c.Lr);
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (!completed)
        {
            SaveRun(trainer, run, valLabel, stderr);
            stdout.WriteLine(string.Create(inv, $"interrupted at epoch {trainer.Epoch + 1}, step {trainer.Step}: checkpoint written; continue with: nabla train --resume {run.Path}"));
            return 130;
        }
        var (testLoss, testAcc) = Metrics.Evaluate(model, lossFn.Forward, new DataLoader(data.Test, evalBatch));
        SafeTensors.Save(run.ModelFile, model.StateDict());
        if (best.BestEpoch > 0) stdout.WriteLine(string.Create(inv, $"best {valName} accuracy: {100 * best.Best:F2}% at epoch {best.BestEpoch} (best.safetensors)"));
        stdout.WriteLine(string.Create(inv, $"test loss: {testLoss:F4}"));
        stdout.WriteLine(string.Create(inv, $"test accuracy: {100 * testAcc:F2}% ({Math.Round(testAcc * data.Test.Count)}/{data.Test.Count})"));
        stdout.WriteLine($"saved: {run.Path} (metrics.csv, checkpoint.safetensors, model.safetensors, loss/accuracy/lr .png/.svg)");
        return 0;
    }

    private static bool Fit(Trainer trainer, DataLoader loader, DataLoader valLoader, int epochs, CancellationToken token, double lr)
    {
        try
        {
            return trainer.Fit(loader, valLoader, epochs, token);
        }
        catch (TrainingDivergedException e)
        {
            throw new CliException($"nabla train: {e.Message.Replace("lower the learning rate.", $"lower the learning rate (--lr {lr.ToString(CultureInfo.InvariantCulture)}).", StringComparison.Ordinal)}");
        }
    }

    /// <summary>Writes what a crash must not lose: metrics, the weights, the checkpoint (all atomically); then the plots, which may fail.</summary>
    private static void SaveRun(Trainer trainer, RunFolder run, string valLabel, TextWriter stderr)
    {
        MetricsCsv.Write(run.MetricsFile, trainer.History);
        SafeTensors.Save(run.ModelFile, trainer.Model.StateDict());
        trainer.SaveCheckpoint(run.CheckpointFile);
        run.TryWritePlots(trainer.History, valLabel, stderr);
    }
}
