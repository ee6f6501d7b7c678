using System.Globalization;
using Nabla.Data;
using Nabla.IO;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;
using Nabla.Training;

namespace Nabla.Cli;

/// <summary>
/// The options of a training run: everything needed to rebuild it (saved as run.json, read back by --resume, eval,
/// predict). <see cref="WorldSize"/>: the ranks of a --distributed run (0: not distributed), whose
/// <see cref="BatchSize"/> is per rank.
/// </summary>
internal sealed record TrainConfig(
    string Model, int[]? Hidden, string Data, int Epochs, int BatchSize, string Optimizer, double Lr, double Momentum, double WeightDecay,
    bool Nesterov, string Schedule, int Warmup, int Shift, int Seed, double ValSplit, int EarlyStopping, bool Normalize = false, double Rotate = 0, double Scale = 0, double Shear = 0,
    int WorldSize = 0, bool SyncBn = false)
{
    /// <summary>MNIST's pixel mean and standard deviation (over the 60,000 training images), as PyTorch's examples use.</summary>
    public const float MnistMean = 0.1307f, MnistStd = 0.3081f;

    public static readonly string[] Optimizers = ["sgd", "adam", "adamw", "rmsprop", "adagrad"];
    public static readonly string[] Schedules = ["cosine", "constant", "step", "onecycle", "plateau"];

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public ModelPreset Preset => Models.Get(Model);

    /// <summary>How one image is fed to the model.</summary>
    public int[] SampleShape(int pixels) => Model == "mlp" ? [pixels] : Preset.SampleShape;

    public Dictionary<string, string> ToDictionary() => new(StringComparer.Ordinal)
    {
        ["model"] = Model,
        ["hidden"] = Hidden is null ? "" : string.Join(",", Hidden),
        ["data"] = Data,
        ["epochs"] = Epochs.ToString(s_inv),
        ["batch_size"] = BatchSize.ToString(s_inv),
        ["optimizer"] = Optimizer,
        ["lr"] = Lr.ToString("R", s_inv),
        ["momentum"] = Momentum.ToString("R", s_inv),
        ["weight_decay"] = WeightDecay.ToString("R", s_inv),
        ["nesterov"] = Nesterov ? "true" : "false",
        ["schedule"] = Schedule,
        ["warmup"] = Warmup.ToString(s_inv),
        ["shift"] = Shift.ToString(s_inv),
        ["seed"] = Seed.ToString(s_inv),
        ["val_split"] = ValSplit.ToString("R", s_inv),
        ["early_stopping"] = EarlyStopping.ToString(s_inv),
        ["normalize"] = Normalize ? "true" : "false",
        ["rotate"] = Rotate.ToString("R", s_inv),
        ["scale"] = Scale.ToString("R", s_inv),
        ["shear"] = Shear.ToString("R", s_inv),
        ["world_size"] = WorldSize.ToString(s_inv),
        ["sync_bn"] = SyncBn ? "true" : "false",
    };

    public static TrainConfig FromDictionary(IReadOnlyDictionary<string, string> d, string source)
    {
        string S(string k) => d.TryGetValue(k, out var v) ? v : throw new InvalidDataException($"{source}: missing '{k}'.");
        int I(string k) => int.TryParse(S(k), NumberStyles.Integer, s_inv, out int v) ? v : throw new InvalidDataException($"{source}: '{k}' is not an integer: {Untrusted.Quote(S(k))}.");
        double D(string k) => double.TryParse(S(k), NumberStyles.Float, s_inv, out double v) ? v : throw new InvalidDataException($"{source}: '{k}' is not a number: {Untrusted.Quote(S(k))}.");
        string hidden = S("hidden");
        int Size(string h) => int.TryParse(h, NumberStyles.None, s_inv, out int v) && v > 0 ? v
            : throw new InvalidDataException($"{source}: 'hidden' is not a list of positive integers: {Untrusted.Quote(hidden)}.");
        return new TrainConfig(S("model"), hidden.Length > 0 ? hidden.Split(',').Select(Size).ToArray() : null,
            S("data"), I("epochs"), I("batch_size"), S("optimizer"), D("lr"), D("momentum"), D("weight_decay"), S("nesterov") == "true",
            S("schedule"), I("warmup"), I("shift"), I("seed"), D("val_split"), I("early_stopping"), d.GetValueOrDefault("normalize") == "true",
            d.ContainsKey("rotate") ? D("rotate") : 0, d.ContainsKey("scale") ? D("scale") : 0, d.ContainsKey("shear") ? D("shear") : 0,
            d.ContainsKey("world_size") ? I("world_size") : 0, d.GetValueOrDefault("sync_bn") == "true");
    }

    /// <summary>The model, built from the init generator seeded with <see cref="Seed"/>.</summary>
    public Module BuildModel(int pixels, int classes, Generator init)
    {
        var preset = Preset;
        if (SyncBn) return Models.SmallCnn(SampleShape(pixels)[0], classes, init, syncBn: true);
        return Hidden is not null ? Models.Mlp(pixels, Hidden, classes, init) : preset.Build(SampleShape(pixels), classes, init);
    }

    public Optimizer BuildOptimizer(Module model)
    {
        var p = model.Parameters();
        return Optimizer switch
        {
            "sgd" => new SGD(p, Lr, momentum: Momentum, weightDecay: WeightDecay, nesterov: Nesterov),
            "adam" => new Adam(p, Lr, weightDecay: WeightDecay),
            "adamw" => new AdamW(p, Lr, weightDecay: WeightDecay),
            "rmsprop" => new RMSprop(p, Lr, weightDecay: WeightDecay, momentum: Momentum),
            "adagrad" => new Adagrad(p, Lr, weightDecay: WeightDecay),
            _ => throw new CliException($"nabla train: unknown optimizer '{Optimizer}'; choose one of {string.Join(", ", Optimizers)}."),
        };
    }

    /// <summary>
    /// The scheduler and when it steps. cosine: λ·½(1 + cos(π·t/T)) per step; step: ×0.1 every third of the run;
    /// onecycle: PyTorch's OneCycleLR per step with max λ; plateau: ×0.1 after 3 epochs without a better validation
    /// loss; --warmup E: a linear ramp from λ/10 over the first E epochs before the schedule (per step).
    /// </summary>
    public (LRScheduler? Scheduler, ScheduleInterval Interval) BuildScheduler(Optimizer optimizer, int batchesPerEpoch)
    {
        int total = Epochs * batchesPerEpoch, warm = Warmup * batchesPerEpoch;
        if (Schedule == "onecycle")
        {
            bool cycle = Optimizer is "adam" or "adamw" || (Optimizer is "sgd" or "rmsprop" && Momentum > 0);
            return (new OneCycleLR(optimizer, Lr, total, cycleMomentum: cycle), ScheduleInterval.Batch);
        }
        if (Schedule == "plateau") return (new ReduceLROnPlateau(optimizer, factor: 0.1, patience: 3), ScheduleInterval.Epoch);
        LRScheduler? main = Schedule switch
        {
            "cosine" => new CosineAnnealingLR(optimizer, total - warm),
            "step" => new StepLR(optimizer, Math.Max(1, (Epochs - Warmup) / 3) * batchesPerEpoch, 0.1),
            _ => null,
        };
        if (warm == 0) return (main, ScheduleInterval.Batch);
        var ramp = new LinearLR(optimizer, startFactor: 0.1, endFactor: 1, totalIters: warm);
        main ??= new LinearLR(optimizer, startFactor: 1, endFactor: 1, totalIters: 1);
        return (new SequentialLR(optimizer, [ramp, main], [warm]), ScheduleInterval.Batch);
    }

    public string Describe(int pixels, int classes, long parameters, int threads)
    {
        string shape = Model == "mlp" ? string.Join(" → ", new[] { pixels }.Concat(Hidden ?? [512, 256]).Append(classes)) : Model;
        string opt = Optimizer switch
        {
            "sgd" => $"SGD lr={Lr.ToString(s_inv)}" + (Momentum > 0 ? $" momentum={Momentum.ToString(s_inv)}{(Nesterov ? " nesterov" : "")}" : ""),
            _ => $"{Optimizer} lr={Lr.ToString(s_inv)}" + (Optimizer == "rmsprop" && Momentum > 0 ? $" momentum={Momentum.ToString(s_inv)}" : ""),
        } + (WeightDecay > 0 ? $" weight_decay={WeightDecay.ToString(s_inv)}" : "");
        string sched = Schedule + (Warmup > 0 ? $", warm-up {Warmup} epoch(s)" : "");
        return string.Create(s_inv, $"model: {shape} ({parameters:N0} parameters), {opt} ({sched}), batch {BatchSize}, {Epochs} epochs, shift ±{Shift}{(Rotate > 0 ? string.Create(s_inv, $", rotate ±{Rotate}°") : "")}{(Scale > 0 ? string.Create(s_inv, $", scale ±{Scale}") : "")}{(Shear > 0 ? string.Create(s_inv, $", shear ±{Shear}°") : "")}{(Normalize ? ", normalised" : "")}, seed {Seed}, {threads} thread{(threads == 1 ? "" : "s")}{(WorldSize > 0 ? $" x {WorldSize} rank{(WorldSize == 1 ? "" : "s")} (batch {BatchSize} per rank, {BatchSize * WorldSize} per step){(SyncBn ? ", SyncBatchNorm" : "")}" : "")}");
    }

    /// <summary>The per-sample training transform: a random affine map (rotation, scale, shear), a random shift (zero fill = black), then normalisation.</summary>
    public SampleTransform? TrainTransform(int rows, int cols) =>
        Shift == 0 && !Normalize && Rotate == 0 && Scale == 0 && Shear == 0 ? null
        : Transforms.Compose(Rotate > 0 || Scale > 0 || Shear > 0 ? Transforms.RandomAffine(Rotate, 0, 1 - Scale, 1 + Scale, Shear, rows, cols) : null, Shift > 0 ? Transforms.RandomShift(Shift, rows, cols) : null, Normalize ? Transforms.Normalize(MnistMean, MnistStd) : null);

    /// <summary>Applies the run's input normalisation to images in place (evaluation, prediction).</summary>
    public void NormalizeInPlace(float[] pixels)
    {
        if (!Normalize) return;
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (pixels[i] - MnistMean) / MnistStd;
    }
}

/// <summary>The loaded data of a run: training (possibly minus a validation split), validation and test sets.</summary>
internal sealed record RunData(TensorDataset Train, TensorDataset? Validation, TensorDataset Test, int Rows, int Cols, int Classes, string Dir)
{
    public int Pixels => Rows * Cols;

    public static RunData Load(TrainConfig c, string command, bool needTrain = true)
    {
        string dir = c.Data;
        var (train, test) = LoadSplits(dir, command, needTrain);
        if (train.Count == 0 || test.Count == 0) throw new CliException($"nabla {command}: the data in '{dir}' is empty ({train.Count} training and {test.Count} test images).");
        if (test.Rows != train.Rows || test.Cols != train.Cols)
            throw new CliException($"nabla {command}: training images are {train.Rows}x{train.Cols} but test images are {test.Rows}x{test.Cols}.");
        int pixels = train.Rows * train.Cols;
        int classes = Math.Max(10, Math.Max(train.Labels.Max(), test.Labels.Max()) + 1);
        var shape = c.SampleShape(pixels);
        // the image presets take rows x cols as the last two dimensions: 784x1 images hold 784 pixels but are no 28x28 digit
        if (c.Model != "mlp" && (shape[^2] != train.Rows || shape[^1] != train.Cols))
            throw new CliException($"nabla {command}: model '{c.Model}' takes {shape[^2]}x{shape[^1]} images but the images in '{dir}' are {train.Rows}x{train.Cols}.");
        if (needTrain && c.Shift >= Math.Min(train.Rows, train.Cols))
            throw new CliException($"nabla {command}: --shift must be smaller than the images ({train.Rows}x{train.Cols}: at most {Math.Min(train.Rows, train.Cols) - 1}), got {c.Shift}.");
        var trainSet = new TensorDataset(train.Images, train.Labels, shape);
        TensorDataset? val = null;
        if (c.ValSplit > 0)
        {
            (trainSet, val) = trainSet.RandomSplit(c.ValSplit, (ulong)c.Seed + 2);
            c.NormalizeInPlace(val.Features);
        }
        var testImages = (float[])test.Images.Clone();
        c.NormalizeInPlace(testImages);
        return new RunData(trainSet, val, new TensorDataset(testImages, test.Labels, shape), train.Rows, train.Cols, classes, dir);
    }

    /// <summary>The training and test splits of a data folder, or of the embedded sample when it is <see cref="Mnist.SampleName"/>.</summary>
    public static (MnistSplit Train, MnistSplit Test) LoadSplits(string dir, string command, bool needTrain = true)
    {
        if (dir == Mnist.SampleName)
        {
            var sampleTest = Mnist.LoadSample(train: false);
            return (needTrain ? Mnist.LoadSample(train: true) : sampleTest, sampleTest);
        }
        if (!Directory.Exists(dir)) throw new CliException($"nabla {command}: data folder '{dir}' does not exist.");
        var test = Mnist.LoadFolder(dir, train: false);
        return (needTrain ? Mnist.LoadFolder(dir, train: true) : test, test);
    }
}
