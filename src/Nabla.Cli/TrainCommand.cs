using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using Nabla.Data;
using Nabla.Distributed;
using Nabla.IO;
using Nabla.Kernels;
using Nabla.Losses;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>`nabla train`: the text's fully-connected ReLU network (or another preset) learning to read handwritten digits.</summary>
internal static class TrainCommand
{
    private const string Description = """
        train a network on MNIST (the bundled 10,000-digit sample by default)

        Trains a network on MNIST (by default the text's fully-connected network: 784 → 512 → 256 → 10, Linear + ReLU, cross-entropy, SGD with momentum 0.9 and a cosine-decayed λ; training images randomly rotated, scaled, sheared and shifted by ±2 pixels), showing loss, accuracy, samples/s and ETA (a live display on a terminal, one line per epoch otherwise), then the final test accuracy. Each run gets a folder RUNS/NAME with run.json, metrics.csv, checkpoint.safetensors (written atomically after every epoch), model.safetensors, best.safetensors and loss/accuracy/lr plots (.png, .svg); one process at a time trains a run folder.
        Ctrl+C or SIGTERM stops after the current batch and writes the checkpoint; nabla train --resume DIR continues bit for bit (only --threads, --plain and --tensorboard may be given with it). A run folder that never completed an epoch (a run that diverged at once) is reused by the next run of that name.
        mpirun -np N nabla train ... --distributed trains data-parallel over N processes (Open MPI): --batch-size per rank, rank 0 alone prints and writes the run folder, resume with mpirun -np N nabla train --resume DIR (docs/distributed.md).

        Example: nabla train --epochs 5 --hidden 128 --run small
        """;

    /// <summary>`nabla train` with its options; <paramref name="shared"/> gives --model, --data, --hidden, --seed and --threads.</summary>
    public static Command Create(SharedOptions shared)
    {
        var o = new TrainOptions(shared);
        var command = new Command("train", Description)
        {
            shared.Model, shared.Data, o.Epochs, o.BatchSize, o.Optimizer, o.Lr, o.Momentum, o.Nesterov, o.WeightDecay, o.Schedule, o.Warmup,
            shared.Hidden, o.Shift, o.Rotate, o.Scale, o.Shear, o.Normalize, o.ValSplit, o.EarlyStopping, shared.Seed, o.Run, o.RunsDir, o.Resume,
            o.Overwrite, shared.Threads, o.Plain, o.TensorBoard, o.Distributed, o.SyncBn, o.Text, o.Context, o.Dim, o.Layers, o.Heads, o.Dropout, o.Report, o.Profile,
        };
        command.SetAction(r => Run(r, command, o, r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>train's own options (the shared ones are in <see cref="SharedOptions"/>).</summary>
    private sealed class TrainOptions(SharedOptions shared)
    {
        public SharedOptions Shared { get; } = shared;
        public Option<int?> Epochs { get; } = CliOptions.Int("--epochs", "N", "passes over the training set (default: the model's; mlp 40)", min: 1);
        public Option<int?> BatchSize { get; } = CliOptions.Int("--batch-size", "N", "samples per step (default: the model's; mlp 32)", min: 1);
        public Option<string?> Optimizer { get; } = CliOptions.Text("--optimizer", "NAME", "sgd (default), adam, adamw, rmsprop or adagrad", [.. TrainConfig.Optimizers]);
        public Option<double?> Lr { get; } = CliOptions.Double("--lr", "X", "initial learning rate λ (default: the model's; mlp 0.05)", min: 0, exclusiveMin: true);
        public Option<double?> Momentum { get; } = CliOptions.Double("--momentum", "X", "momentum for sgd and rmsprop (default: the model's; mlp 0.9)", min: 0);
        public Option<bool> Nesterov { get; } = CliOptions.Flag("--nesterov", "Nesterov momentum (sgd)");
        public Option<double?> WeightDecay { get; } = CliOptions.Double("--weight-decay", "X", "L2 penalty (decoupled for adamw; default 0)", min: 0);
        public Option<string?> Schedule { get; } = CliOptions.Text("--schedule", "S",
            "cosine: λ·½(1 + cos(π·t/T)) per step (default); constant; step: ×0.1 every third of the run; onecycle: one-cycle policy up to λ; plateau: ×0.1 after 3 epochs without a better validation loss",
            [.. TrainConfig.Schedules]);
        public Option<int?> Warmup { get; } = CliOptions.Int("--warmup", "E", "linear warm-up from λ/10 over the first E epochs (default 0)", min: 0);
        public Option<int?> Shift { get; } = CliOptions.Int("--shift", "N", "random shift of training images by up to N pixels (default 2; 0 = off)", min: 0);
        public Option<double?> Rotate { get; } = CliOptions.Double("--rotate", "DEG", "random rotation of training images by up to DEG degrees (default: the model's; mlp 10)", min: 0);
        public Option<double?> Scale { get; } = CliOptions.Double("--scale", "F", "random scaling of training images by a factor in [1 − F, 1 + F] (default: mlp 0.1)", min: 0);
        public Option<double?> Shear { get; } = CliOptions.Double("--shear", "DEG", "random x-shear of training images by up to DEG degrees (default: mlp 10)", min: 0);
        public Option<bool> Normalize { get; } = CliOptions.Flag("--normalize", "feed (x − 0.1307) / 0.3081 (MNIST's mean and std) instead of pixels in [0, 1]");
        public Option<double?> ValSplit { get; } = CliOptions.Double("--val-split", "F",
            "hold out a fraction F of the training set for validation (fixed by the seed); without it the test set is scored after each epoch", min: 0);
        public Option<int?> EarlyStopping { get; } = CliOptions.Int("--early-stopping", "N", "stop when the validation loss has not improved for N epochs (default: off)", min: 0);
        public Option<string?> Run { get; } = CliOptions.Text("--run", "NAME", "run folder name (default: MODEL-yyyyMMdd-HHmmss)");
        public Option<string?> RunsDir { get; } = CliOptions.Text("--runs-dir", "DIR", "where run folders go (default: runs)");
        public Option<string?> Resume { get; } = CliOptions.Text("--resume", "DIR", "continue an interrupted run from its checkpoint, with its own options");
        public Option<bool> Overwrite { get; } = CliOptions.Flag("--overwrite", "replace the run already in the --run folder (its weights, checkpoint, metrics, plots)");
        public Option<bool> Plain { get; } = CliOptions.Flag("--plain", "one line per epoch even on a terminal");
        public Option<string?> TensorBoard { get; } = CliOptions.Text("--tensorboard", "DIR",
            "also write TensorBoard event files to DIR: losses, accuracies, lr, weight and gradient histograms, sample predictions (tensorboard --logdir DIR)");
        public Option<bool> Distributed { get; } = CliOptions.Flag("--distributed",
            "data-parallel training over the processes of mpirun -np N (Open MPI): --batch-size is per rank, rank 0 writes the run folder (default --threads: the cores / the ranks on the machine)");
        public Option<bool> SyncBn { get; } = CliOptions.Flag("--sync-bn", "with --distributed: batch normalisation over the global batch (SyncBatchNorm; --model cnn)");
        public Option<string?> Text { get; } = CliOptions.Text("--text", "FILE", "gpt only: the UTF-8 text to learn (default: the bundled KJV Genesis and Exodus, 381,463 characters)");
        public Option<int?> Context { get; } = CliOptions.Int("--context", "T", $"gpt only: the block size, characters the model sees (default {GptConfig.DefaultContext})", min: 1);
        public Option<int?> Dim { get; } = CliOptions.Int("--dim", "D", $"gpt only: the embedding width (default {GptConfig.DefaultDim})", min: 1);
        public Option<int?> Layers { get; } = CliOptions.Int("--layers", "N", $"gpt only: transformer blocks (default {GptConfig.DefaultLayers})", min: 1);
        public Option<int?> Heads { get; } = CliOptions.Int("--heads", "H", $"gpt only: attention heads; must divide --dim (default {GptConfig.DefaultHeads})", min: 1);
        public Option<double?> Dropout { get; } = CliOptions.Double("--dropout", "P", "gpt only: dropout probability in the blocks (default 0)", min: 0);

        /// <summary>The options only the gpt model takes.</summary>
        public Option[] GptOnly => [Text, Context, Dim, Layers, Heads, Dropout];

        /// <summary>The options only the image models take.</summary>
        public Option[] ImageOnly => [Shared.Data, Shared.Hidden, Momentum, Nesterov, Shift, Rotate, Scale, Shear, Normalize, ValSplit, EarlyStopping, Distributed, SyncBn, Profile];
        public Option<bool> Report { get; } = CliOptions.Flag("--report", "at the end, write the run's report.html (as nabla report DIR: plots, model, graph, layers, options, machine)");
        public Option<int?> Profile { get; } = ProfileOption();

        private static Option<int?> ProfileOption()
        {
            var o = CliOptions.Int("--profile", "N", $"profile N training steps (default 1) after {TrainProfile.Warmup} warm-up steps, print time and allocation per op and per layer, write trace.json (chrome://tracing) into the run folder, and stop the run there (--resume continues it)", min: 1);
            o.Arity = ArgumentArity.ZeroOrOne;
            return o;
        }
    }

    private static int Run(ParseResult r, Command command, TrainOptions o, TextWriter stdout, TextWriter stderr)
    {
        o.Shared.ApplyThreads(r);
        bool plain = r.GetValue(o.Plain);
        string? tensorboard = r.GetValue(o.TensorBoard);
        bool distributed = r.GetValue(o.Distributed);
        int launched = DistributedRun.LaunchedSize;
        int? profile = r.Given(o.Profile) ? r.GetValue(o.Profile) ?? 1 : null;
        if (r.GetValue(o.Resume) is string resumeDir)
        {
            var extra = command.Options.FirstOrDefault(opt => opt != o.Resume && opt != o.Shared.Threads && opt != o.Plain && opt != o.TensorBoard && opt != o.Distributed && opt != o.Report && r.Given(opt));
            if (extra is not null) throw new CliException($"nabla train: --resume continues a run with its own options; {extra.Name} cannot be changed (only --threads, --plain, --tensorboard and --report).");
            if (launched > 0 || distributed) return Distributed(r, o, null, resumeDir, stdout, stderr, plain, tensorboard);
            var run = RunFolder.Open("train", resumeDir);
            var raw = run.ReadConfig();
            if (GptConfig.IsGpt(raw))
            {
                using var heldGpt = run.Lock("train");
                ResumeCheck(run);
                return Reported(GptTrain.Train(GptConfig.FromDictionary(raw, run.ConfigFile), run, resume: true, stdout, stderr, note: null, tensorboard: tensorboard), r.GetValue(o.Report), run, stdout);
            }
            var config = TrainConfig.FromDictionary(raw, run.ConfigFile);
            if (config.WorldSize > 1)
                throw new CliException($"nabla train: '{run.Path}' is a distributed run of {config.WorldSize} ranks; resume it with: mpirun -np {config.WorldSize} nabla train --resume {run.Path}");
            if (config.WorldSize == 1) return Distributed(r, o, null, resumeDir, stdout, stderr, plain, tensorboard);
            using var held = run.Lock("train");
            ResumeCheck(run);
            return Reported(Train(config, run, () => TrainingCheckpoint.Load(run.CheckpointFile), null, stdout, stderr, plain, note: null, tensorboard), r.GetValue(o.Report), run, stdout);
        }
        else if (r.GetValue(o.Shared.Model) == GptConfig.ModelName)
        {
            var config = ParseGpt(r, o);
            var (run, held, note) = Claim(r, o, GptConfig.ModelName);
            using (held)
            {
                AtomicFile.RemoveOrphans(run.Path);
                return Reported(GptTrain.Train(config, run, resume: false, stdout, stderr, note, tensorboard: tensorboard), r.GetValue(o.Report), run, stdout);
            }
        }
        else
        {
            if (o.GptOnly.FirstOrDefault(opt => r.Given(opt)) is { } gptOnly)
                throw new CliException($"nabla train: {gptOnly.Name} applies to --model gpt only.");
            var config = Parse(r, o);
            if (distributed && profile is not null) throw new CliException("nabla train: --profile profiles one process; run it without --distributed.");
            if (distributed) return Distributed(r, o, config, null, stdout, stderr, plain, tensorboard);
            if (launched > 1)
                throw new CliException($"nabla train: mpirun started {launched} processes but --distributed is not given: each would train alone; add --distributed to train data-parallel.");
            var (run, held, note) = Claim(r, o, config.Model);
            using (held)
            {
                AtomicFile.RemoveOrphans(run.Path);
                return Reported(Train(config, run, null, null, stdout, stderr, plain, note, tensorboard, profile), r.GetValue(o.Report), run, stdout);
            }
        }
    }

    /// <summary>Removes the locked run folder's orphaned temporary files; a one-line error when it has no checkpoint to resume.</summary>
    private static void ResumeCheck(RunFolder run)
    {
        AtomicFile.RemoveOrphans(run.Path);
        if (!File.Exists(run.CheckpointFile))
            throw new CliException($"nabla train: '{run.Path}' has no checkpoint.safetensors, so there is nothing to resume (the run never completed an epoch); start it again with --run {run.Name} and any options, which reuses the folder.");
    }

    /// <summary>
    /// A --distributed run (<paramref name="config"/>: a new one; <paramref name="resumeDir"/>: a resumed one) on this
    /// rank: rank 0 claims and locks the run folder and reads run.json and the checkpoint, which it broadcasts, and
    /// alone prints and writes files. An error on any rank ends every rank (MPI_Abort).
    /// </summary>
    private static int Distributed(ParseResult r, TrainOptions o, TrainConfig? config, string? resumeDir, TextWriter stdout, TextWriter stderr, bool plain, string? tensorboard)
    {
        var world = DistributedRun.Start(stderr);
        int code;
        RunFolder? written = null; // rank 0's run folder, for --report
        try
        {
            if (!r.Given(o.Shared.Threads)) Threading.MaxThreads = DistributedRun.DefaultThreads();
            bool lead = world.Rank == 0;
            var output = lead ? stdout : TextWriter.Null;
            RunFolder? run = null;
            FileStream? held = null;
            string? note = null;
            TrainingCheckpoint? checkpoint = null;
            try
            {
                if (resumeDir is not null)
                {
                    byte[]? json = null, bytes = null;
                    if (lead)
                    {
                        run = RunFolder.Open("train", resumeDir);
                        held = run.Lock("train");
                        json = File.ReadAllBytes(run.ConfigFile);
                        ResumeCheck(run);
                        bytes = File.ReadAllBytes(run.CheckpointFile);
                    }
                    string dir = run?.Path ?? Path.GetFullPath(resumeDir);
                    var source = new RunFolder(dir);
                    config = TrainConfig.FromDictionary(source.ParseConfig(DistributedRun.Broadcast(world, json)), source.ConfigFile);
                    checkpoint = TrainingCheckpoint.Deserialize(DistributedRun.Broadcast(world, bytes), source.CheckpointFile);
                    if (config.WorldSize != world.WorldSize)
                        throw new CliException(config.WorldSize == 0
                            ? $"nabla train: '{dir}' is not a distributed run; resume it without mpirun and --distributed: nabla train --resume {dir}"
                            : $"nabla train: '{dir}' is a distributed run of {config.WorldSize} rank{(config.WorldSize == 1 ? "" : "s")}, this job has {world.WorldSize}; resume it with: mpirun -np {config.WorldSize} nabla train --resume {dir}");
                }
                else
                {
                    config = config! with { WorldSize = world.WorldSize };
                    if (lead)
                    {
                        (run, held, note) = Claim(r, o, config.Model);
                        AtomicFile.RemoveOrphans(run.Path);
                    }
                }
                code = Train(config, run, checkpoint is null ? null : () => checkpoint, world, output, lead ? stderr : TextWriter.Null, plain, note, lead ? tensorboard : null);
                written = run;
            }
            finally
            {
                held?.Dispose();
            }
        }
        catch (Exception e)
        {
            if (world.WorldSize > 1) DistributedRun.Abort(world, e, stderr);
            world.Dispose();
            throw;
        }
        world.Dispose();
        // after MPI has ended: the report's one step runs on rank 0 alone (a SyncBatchNorm would wait for the others)
        return written is null ? code : Reported(code, r.GetValue(o.Report), written, stdout);
    }

    // --report: a completed run's report.html (an interrupted run has its checkpoint; nabla report DIR draws it anyway)
    private static int Reported(int code, bool report, RunFolder run, TextWriter stdout)
    {
        if (code == 0 && report) stdout.WriteLine($"report: {ReportCommand.Write(run)}");
        return code;
    }

    /// <summary>
    /// The folder of a new run, locked: --run NAME, or the default name (then -2, -3, ... when taken). A folder holding
    /// a run that never completed an epoch is reused; one with a checkpoint only with --overwrite. A note says why
    /// an earlier run's files are to be removed (once the data has loaded, so a mistyped --data loses nothing).
    /// </summary>
    private static (RunFolder Run, FileStream Lock, string? Note) Claim(ParseResult r, TrainOptions o, string model)
    {
        string runsDir = r.GetValue(o.RunsDir) ?? "runs";
        string? given = r.GetValue(o.Run);
        bool named = given is not null;
        string name = given ?? RunFolder.DefaultName(model);
        if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name is "." or "..")
            throw new CliException($"nabla train: --run '{name}' is not a valid folder name.");
        for (int k = 1; ; k++)
        {
            var run = new RunFolder(Path.Combine(runsDir, k == 1 ? name : $"{name}-{k}"));
            var held = named ? run.Lock("train") : run.TryLock();
            if (held is null) continue;
            if (!File.Exists(run.ConfigFile)) return (run, held, null);
            if (!File.Exists(run.CheckpointFile)) return (run, held, "reused: the run there never completed an epoch");
            if (r.GetValue(o.Overwrite)) return (run, held, "--overwrite: the earlier run's files were removed");
            held.Dispose();
            if (named)
                throw new CliException($"nabla train: run folder '{run.Path}' already holds a run; continue it with --resume, replace it with --overwrite, or choose another --run.");
        }
    }

    private static TrainConfig Parse(ParseResult r, TrainOptions o)
    {
        var inv = CultureInfo.InvariantCulture;
        var preset = Models.Get(r.GetValue(o.Shared.Model) ?? Models.Presets[0].Name);
        string optimizer = r.GetValue(o.Optimizer) ?? "sgd";
        if (!TrainConfig.Optimizers.Contains(optimizer))
            throw new CliException($"nabla train: --optimizer must be one of {string.Join(", ", TrainConfig.Optimizers)}, got '{optimizer}'.");
        string schedule = r.GetValue(o.Schedule) ?? "cosine";
        if (!TrainConfig.Schedules.Contains(schedule))
            throw new CliException($"nabla train: --schedule must be one of {string.Join(", ", TrainConfig.Schedules)}, got '{schedule}'.");
        int[]? hidden = r.ListOrNull(o.Shared.Hidden);
        if (hidden is not null && preset.Name != "mlp") throw new CliException($"nabla train: --hidden applies to the mlp model only, not '{preset.Name}'.");
        int epochs = r.GetValue(o.Epochs) ?? preset.Epochs;
        int warmup = r.GetValue(o.Warmup) ?? 0;
        if (warmup >= epochs) throw new CliException($"nabla train: --warmup ({warmup}) must be shorter than the run ({epochs} epochs).");
        if (warmup > 0 && schedule is "onecycle" or "plateau") throw new CliException($"nabla train: --warmup cannot be combined with --schedule {schedule}.");
        double momentum = r.GetValue(o.Momentum) ?? (optimizer is "sgd" ? preset.Momentum : 0);
        if (momentum >= 1) throw new CliException($"nabla train: --momentum must be below 1, got {momentum.ToString(inv)}.");
        if (r.Given(o.Momentum) && optimizer is not ("sgd" or "rmsprop")) throw new CliException($"nabla train: --momentum applies to sgd and rmsprop, not {optimizer}.");
        bool nesterov = r.GetValue(o.Nesterov);
        if (nesterov && (optimizer != "sgd" || momentum == 0)) throw new CliException("nabla train: --nesterov needs --optimizer sgd with a momentum > 0.");
        double valSplit = r.GetValue(o.ValSplit) ?? 0;
        if (valSplit >= 1) throw new CliException($"nabla train: --val-split must be a fraction below 1, got {valSplit.ToString(inv)}.");
        string? dir = r.GetValue(o.Shared.Data);
        if (dir is not null && !Directory.Exists(dir)) throw new CliException($"nabla train: data folder '{dir}' does not exist.");
        double defaultLr = optimizer == "sgd" ? preset.LearningRate : optimizer is "adagrad" ? 0.01 : 0.001;
        // a scale factor 1 − F must stay positive, a shear of 90° is a degenerate map; --shift is checked against the images once they are read
        double scale = r.GetValue(o.Scale) ?? preset.Scale, shear = r.GetValue(o.Shear) ?? preset.Shear;
        if (scale >= 1) throw new CliException($"nabla train: --scale must be in [0, 1) (the factor is drawn from [1 − F, 1 + F]), got {scale.ToString(inv)}.");
        if (shear >= 90) throw new CliException($"nabla train: --shear must be in [0, 90) degrees, got {shear.ToString(inv)}.");
        bool syncBn = r.GetValue(o.SyncBn);
        if (syncBn && !r.GetValue(o.Distributed)) throw new CliException("nabla train: --sync-bn needs --distributed (batch statistics over the ranks of mpirun -np N).");
        if (syncBn && preset.Name != "cnn") throw new CliException($"nabla train: --sync-bn applies to --model cnn (the model with batch normalisation), not '{preset.Name}'.");
        return new TrainConfig(preset.Name, hidden, dir is null ? Mnist.SampleName : Path.GetFullPath(dir), epochs, r.GetValue(o.BatchSize) ?? preset.BatchSize, optimizer,
            r.GetValue(o.Lr) ?? defaultLr, momentum, r.GetValue(o.WeightDecay) ?? 0, nesterov, schedule, warmup,
            r.GetValue(o.Shift) ?? 2, r.GetValue(o.Shared.Seed) ?? 1, valSplit, r.GetValue(o.EarlyStopping) ?? 0, Normalize: r.GetValue(o.Normalize),
            Rotate: r.GetValue(o.Rotate) ?? preset.Rotate, Scale: scale, Shear: shear, SyncBn: syncBn);
    }

    private static GptConfig ParseGpt(ParseResult r, TrainOptions o)
    {
        var inv = CultureInfo.InvariantCulture;
        if (o.ImageOnly.FirstOrDefault(opt => r.Given(opt)) is { } imageOnly)
            throw new CliException($"nabla train: {imageOnly.Name} does not apply to --model gpt (it trains on --text FILE).");
        string optimizer = r.GetValue(o.Optimizer) ?? "adamw";
        if (!GptConfig.Optimizers.Contains(optimizer))
            throw new CliException($"nabla train: --model gpt trains with {string.Join(" or ", GptConfig.Optimizers)}, not --optimizer {optimizer}.");
        string schedule = r.GetValue(o.Schedule) ?? "cosine";
        if (!GptConfig.Schedules.Contains(schedule))
            throw new CliException($"nabla train: --model gpt takes --schedule {string.Join(" or ", GptConfig.Schedules)}, not {schedule}.");
        int epochs = r.GetValue(o.Epochs) ?? GptConfig.DefaultEpochs;
        int warmup = r.GetValue(o.Warmup) ?? 0;
        if (warmup >= epochs) throw new CliException($"nabla train: --warmup ({warmup}) must be shorter than the run ({epochs} epochs).");
        int dim = r.GetValue(o.Dim) ?? GptConfig.DefaultDim, heads = r.GetValue(o.Heads) ?? GptConfig.DefaultHeads;
        if (dim % heads != 0) throw new CliException($"nabla train: --dim ({dim}) must be divisible by --heads ({heads}).");
        double dropout = r.GetValue(o.Dropout) ?? 0;
        if (dropout >= 1) throw new CliException($"nabla train: --dropout must be below 1, got {dropout.ToString(inv)}.");
        var text = GptText.Load(r.GetValue(o.Text), "train");
        int context = r.GetValue(o.Context) ?? GptConfig.DefaultContext;
        text.CheckLength(context, "train");
        return new GptConfig(text.Source, text.Vocab, text.Ids.Length, context, dim,
            r.GetValue(o.Layers) ?? GptConfig.DefaultLayers, heads, dropout, epochs, r.GetValue(o.BatchSize) ?? GptConfig.DefaultBatch, optimizer,
            r.GetValue(o.Lr) ?? GptConfig.DefaultLr, r.GetValue(o.WeightDecay) ?? GptConfig.DefaultWeightDecay, schedule, warmup, r.GetValue(o.Shared.Seed) ?? 1);
    }

    /// <summary>
    /// Trains the run: a new one, or one continued from <paramref name="resume"/>'s checkpoint. <paramref name="world"/>:
    /// the ranks of a --distributed run; <paramref name="run"/> is null on the ranks that write nothing (all but rank 0).
    /// </summary>
    private static int Train(TrainConfig c, RunFolder? run, Func<TrainingCheckpoint>? resume, ProcessGroup? world, TextWriter stdout, TextWriter stderr, bool plain, string? note,
        string? tensorboard, int? profile = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var data = RunData.Load(c, "train");
        var init = new Generator((ulong)c.Seed);
        var model = c.BuildModel(data.Pixels, data.Classes, init);
        var lossFn = new CrossEntropyLoss();
        var transform = c.TrainTransform(data.Rows, data.Cols);
        var loader = world is null
            ? new DataLoader(data.Train, c.BatchSize, shuffle: true, seed: (ulong)c.Seed + 1, transform: transform)
            // every rank shuffles with the same seed and takes its share; the augmentation differs between ranks
            : new DataLoader(data.Train, c.BatchSize, seed: (ulong)c.Seed + 1, transform: PerRank(transform, world.Rank),
                sampler: new DistributedSampler(data.Train.Count, world.WorldSize, world.Rank, shuffle: true, seed: (ulong)c.Seed + 1));
        string valName = data.Validation is null ? "test" : "val", valLabel = data.Validation is null ? "test" : "validation";
        int evalBatch = Evaluate.BatchSize(model, c.SampleShape(data.Pixels));
        var valLoader = new DataLoader(data.Validation ?? data.Test, evalBatch);
        var optimizer = c.BuildOptimizer(model);
        var (scheduler, interval) = c.BuildScheduler(optimizer, loader.BatchCount);
        var trainer = new Trainer(model, optimizer, lossFn.Forward) { Scheduler = scheduler, ScheduleInterval = interval, Distributed = world };
        trainer.Generators["init"] = init;
        trainer.Generators["default"] = Generator.Default;
        if (c.EarlyStopping > 0) trainer.Callbacks.Add(new EarlyStopping(c.EarlyStopping));
        var best = new KeepBest(MonitoredMetric.ValAccuracy);
        if (run is not null) best.Saved = (m, _) => SafeTensors.Save(run.BestFile, m.StateDict());
        trainer.Callbacks.Add(best);
        // last, so the checkpoint holds the other callbacks' counters
        if (run is not null) trainer.Callbacks.Add(new LambdaCallback((t, _) => SaveRun(t, run, valLabel, stderr)));
        using var events = tensorboard is null ? null : TensorBoardRun.Attach(trainer, tensorboard, data.Validation ?? data.Test, data.Rows, data.Cols, loader.BatchCount);

        stdout.WriteLine(string.Create(inv, $"data: {data.Dir} ({data.Train.Count} train, {(data.Validation is null ? "" : $"{data.Validation.Count} val, ")}{data.Test.Count} test, {data.Rows}x{data.Cols})"));
        stdout.WriteLine(c.Describe(data.Pixels, data.Classes, model.ParameterCount(), Threading.MaxThreads));
        if (resume is not null)
        {
            var checkpoint = resume();
            string checkpointFile = checkpoint.Source ?? "checkpoint.safetensors";
            CheckAgainstRun(checkpoint, c, loader.BatchCount, checkpointFile);
            trainer.RestoreState(checkpoint);
            if (best.BestEpoch > checkpoint.Epoch)
                throw new InvalidDataException($"training checkpoint '{checkpointFile}': its best epoch {best.BestEpoch} lies after its epoch {checkpoint.Epoch}.");
            stdout.WriteLine(string.Create(inv, $"resuming {Path.GetDirectoryName(checkpointFile)} at epoch {trainer.Epoch}{(trainer.MidEpoch ? " (inside epoch " + (trainer.Epoch + 1) + ")" : "")}, step {trainer.Step}"));
        }
        else if (run is not null)
        {
            if (note is not null) run.Clear();
            var config = c.ToDictionary();
            config["rows"] = data.Rows.ToString(inv);
            config["cols"] = data.Cols.ToString(inv);
            config["classes"] = data.Classes.ToString(inv);
            run.WriteConfig(config);
            stdout.WriteLine($"run: {run.Path}{(note is null ? "" : $" ({note})")}");
        }

        // Ctrl+C (SIGINT) and SIGTERM (docker stop, systemd, Slurm; mpirun passes them to every rank) alike: finish the
        // batch (every rank the same one), write the checkpoint, exit; a second signal is left to its default action,
        // which ends the process at once
        using var cts = new CancellationTokenSource();
        int stoppedBy = 0; // the first signal (PosixSignal values are non-zero)
        void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.CompareExchange(ref stoppedBy, (int)context.Signal, 0) != 0) return;
            context.Cancel = true;
            cts.Cancel();
        }
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        // after the checkpoint callback, and stateless: a checkpoint written with --profile resumes without it
        var profiler = profile is int steps ? new TrainProfile(steps, cts) : null;
        if (profiler is not null) trainer.Callbacks.Add(profiler);
        bool completed;
        if (run is null && world is not null)
            completed = Fit(trainer, loader, valLoader, c.Epochs, cts.Token, c.Lr); // a rank that prints nothing
        else if (!plain && SpectreProgress.Usable(stdout))
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
        bool term = stoppedBy == (int)PosixSignal.SIGTERM;
        if (run is null) return completed ? 0 : term ? 143 : 130;
        if (!completed && profiler?.Result is not null && stoppedBy == 0)
        {
            SaveRun(trainer, run, valLabel, stderr);
            profiler.Report(run, stdout);
            stdout.WriteLine(string.Create(inv, $"stopped after the profiled steps at epoch {trainer.Epoch + 1}, step {trainer.Step}: checkpoint written; continue with: nabla train --resume {run.Path}"));
            return 0;
        }
        if (!completed)
        {
            SaveRun(trainer, run, valLabel, stderr);
            stdout.WriteLine(string.Create(inv, $"{(term ? "terminated (SIGTERM)" : "interrupted")} at epoch {trainer.Epoch + 1}, step {trainer.Step}: checkpoint written; continue with: {(world is null ? "" : $"mpirun -np {world.WorldSize} ")}nabla train --resume {run.Path}"));
            return term ? 143 : 130; // 128 + the signal's number, as a shell reports a process the signal ended
        }
        profiler?.Report(run, stdout);   // the run ended before the profiled steps were all done
        var (testLoss, testAcc) = Metrics.Evaluate(model, lossFn.Forward, new DataLoader(data.Test, evalBatch));
        SafeTensors.Save(run.ModelFile, model.StateDict());
        if (best.BestEpoch > 0) stdout.WriteLine(string.Create(inv, $"best {valName} accuracy: {100 * best.Best:F2}% at epoch {best.BestEpoch} (best.safetensors)"));
        stdout.WriteLine(string.Create(inv, $"test loss: {testLoss:F4}"));
        stdout.WriteLine(string.Create(inv, $"test accuracy: {100 * testAcc:F2}% ({Math.Round(testAcc * data.Test.Count)}/{data.Test.Count})"));
        stdout.WriteLine($"saved: {run.Path} (metrics.csv, checkpoint.safetensors, model.safetensors, loss/accuracy/lr .png/.svg)");
        return 0;
    }

    /// <summary>
    /// A rank's augmentation: each sample's transform draws from a generator seeded by one number of the loader's
    /// generator and the rank, so the ranks augment differently while their loaders' generators stay equal (rank 0's
    /// state in the checkpoint resumes every rank).
    /// </summary>
    private static SampleTransform? PerRank(SampleTransform? transform, int rank) =>
        transform is null ? null : (sample, g) => transform(sample, new Generator(g.NextUInt64() ^ (0x9E3779B97F4A7C15UL * (ulong)(rank + 1))));

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

    /// <summary>One <see cref="Trainer.TrainStep"/> for the commands that draw their own batches (adding, charlm); a diverged loss is a one-line error naming --lr.</summary>
    internal static double Step(Trainer trainer, Tensor x, Tensor y, string command, double lr)
    {
        try
        {
            return trainer.TrainStep(x, y).Loss;
        }
        catch (TrainingDivergedException e)
        {
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"nabla {command}: the loss became {e.Loss} at step {e.Step}; lower the learning rate (--lr {lr})."));
        }
    }

    /// <summary>The checkpoint must fit the run it resumes: epoch and position within run.json's epochs and this data's batches.</summary>
    private static void CheckAgainstRun(TrainingCheckpoint ck, TrainConfig c, int batches, string checkpointFile)
    {
        string? why = ck.Epoch > c.Epochs || (ck.Epoch == c.Epochs && ck.Batch > 0) ? $"it is at epoch {ck.Epoch}{(ck.Batch > 0 ? $" and {ck.Batch} batches" : "")}, past the run's {c.Epochs} epochs"
            : ck.Batch > batches ? $"it is {ck.Batch} batches into epoch {ck.Epoch + 1}, but an epoch has {batches}"
            : ck.Step != (long)ck.Epoch * batches + ck.Batch ? $"its step {ck.Step} is not epoch {ck.Epoch} × {batches} batches + {ck.Batch}"
            : null;
        if (why is not null) throw new InvalidDataException($"training checkpoint '{checkpointFile}' does not fit {Path.Combine(Path.GetDirectoryName(checkpointFile) ?? "", "run.json")}: {why}.");
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
