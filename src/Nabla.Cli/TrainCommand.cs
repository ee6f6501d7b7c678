using System.Diagnostics;
using System.Globalization;
using Nabla.Data;
using Nabla.Kernels;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Cli;

/// <summary>`nabla train`: the text's fully-connected ReLU network learning to read handwritten digits.</summary>
internal static class TrainCommand
{
    private static string Help => HelpText.Replace("MODELS_PLACEHOLDER", string.Join("\n                      ", Models.Presets.Select(p => $"{p.Name}: {p.Description}")), StringComparison.Ordinal);

    private const string HelpText = """
        Usage: nabla train [options]

        Trains a network on MNIST (by default the text's fully-connected network: 784 → 512 → 256 → 10, Linear +
        ReLU, cross-entropy, plain SGD θ ← θ − λ∇θJ), printing loss, accuracy and throughput per epoch and the
        final test accuracy.

        Options:
          --model NAME        MODELS_PLACEHOLDER
          --data DIR          folder with train-/t10k- images and labels in IDX format, .gz or raw
                              (default: the bundled 10,000-digit sample, 8,000 train / 2,000 test)
          --epochs N          passes over the training set (default: the model's; mlp 30)
          --batch-size N      samples per SGD step (default: the model's; mlp 32)
          --lr X              initial learning rate λ (default: the model's; mlp 0.1)
          --schedule S        cosine: λ decays to 0 along a half cosine over the run, per step (default);
                              constant: λ stays fixed
          --hidden A,B,...    mlp only: hidden layer sizes (default 512,256; empty for a linear model)
          --shift N           random shift of training images by up to N pixels (default 2; 0 = off)
          --seed N            seed for initial weights, shuffling and shifts (default 1)
          --threads N         threads for the kernels (default: all cores)
          --help              this text

        Example: nabla train --epochs 5 --hidden 128
        """;

    private static readonly HashSet<string> s_flags = ["help"];
    private static readonly HashSet<string> s_valued = ["model", "data", "epochs", "batch-size", "lr", "schedule", "hidden", "shift", "seed", "threads"];

    private static int ShapeOf(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    public static int Run(string[] args, TextWriter stdout)
    {
        var o = new Options("train", args, s_flags, s_valued);
        if (o.Has("help"))
        {
            stdout.Write(Help);
            return 0;
        }
        if (o.Positionals.Count > 0) throw new CliException($"nabla train: unexpected argument '{o.Positionals[0]}'. See 'nabla train --help'.");
        var preset = Models.Get(o.String("model") ?? Models.Presets[0].Name);
        int epochs = o.Int("epochs", preset.Epochs, min: 1);
        int batchSize = o.Int("batch-size", preset.BatchSize, min: 1);
        double lr = o.Double("lr", preset.LearningRate, min: 0, exclusiveMin: true);
        string schedule = o.String("schedule") ?? "cosine";
        if (schedule is not ("cosine" or "constant")) throw new CliException($"nabla train: --schedule must be cosine or constant, got '{schedule}'.");
        int[]? hidden = o.Has("hidden") ? o.IntList("hidden", []) : null;
        if (hidden is not null && preset.Name != "mlp") throw new CliException($"nabla train: --hidden applies to the mlp model only, not '{preset.Name}'.");
        int shift = o.Int("shift", 2, min: 0);
        int seed = o.Int("seed", 1, min: 0);
        Threading.MaxThreads = o.Int("threads", Environment.ProcessorCount, min: 1);
        string dir = o.String("data") ?? Mnist.FindBundledData();
        if (!Directory.Exists(dir)) throw new CliException($"nabla train: data folder '{dir}' does not exist.");

        var train = Mnist.LoadFolder(dir, train: true);
        var test = Mnist.LoadFolder(dir, train: false);
        if (train.Count == 0 || test.Count == 0) throw new CliException($"nabla train: the data in '{dir}' is empty ({train.Count} training and {test.Count} test images).");
        int pixels = train.Rows * train.Cols;
        if (test.Rows * test.Cols != pixels)
            throw new CliException($"nabla train: training images are {train.Rows}x{train.Cols} but test images are {test.Rows}x{test.Cols}.");
        int classes = Math.Max(train.Labels.Max(), test.Labels.Max()) + 1;

        var rng = new Generator((ulong)seed);
        classes = Math.Max(classes, 10);
        var sampleShape = preset.Name == "mlp" ? [pixels] : preset.SampleShape;
        if (ShapeOf(sampleShape) != pixels)
            throw new CliException($"nabla train: model '{preset.Name}' expects {string.Join("x", preset.SampleShape)} inputs but the images are {train.Rows}x{train.Cols}.");
        var model = hidden is not null ? Models.Mlp(pixels, hidden, classes, rng) : preset.Build(sampleShape, classes, rng);
        var loss = new CrossEntropyLoss();
        var optimizer = new SGD(model.Parameters(), lr);
        var trainSet = new TensorDataset(train.Images, train.Labels, sampleShape);
        var testSet = new TensorDataset(test.Images, test.Labels, sampleShape);
        var loader = new DataLoader(trainSet, batchSize, shuffle: true, seed: (ulong)seed + 1,
            transform: shift > 0 ? Transforms.RandomShift(shift, train.Rows, train.Cols) : null);

        var inv = CultureInfo.InvariantCulture;
        stdout.WriteLine(string.Create(inv, $"data: {dir} ({train.Count} train, {test.Count} test, {train.Rows}x{train.Cols})"));
        string shapeText = preset.Name == "mlp" ? string.Join(" → ", new[] { pixels }.Concat(hidden ?? [512, 256]).Append(classes)) : preset.Name;
        stdout.WriteLine(string.Create(inv, $"model: {shapeText} ({model.ParameterCount():N0} parameters), SGD lr={lr} ({schedule}), batch {batchSize}, {epochs} epochs, shift ±{shift}, seed {seed}, {Threading.MaxThreads} threads"));
        double testAcc = 0;
        long totalSteps = (long)epochs * loader.BatchCount, globalStep = 0;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            model.Train();
            var sw = Stopwatch.StartNew();
            double lossSum = 0;
            int correct = 0, seen = 0, step = 0;
            foreach (var (x, y) in loader.Epoch())
            {
                step++;
                // θ ← θ − λ_t∇θJ with λ_t = λ·½(1 + cos(π·t/T)) for the cosine schedule
                if (schedule == "cosine") optimizer.LearningRate = lr * 0.5 * (1 + Math.Cos(Math.PI * globalStep / totalSteps));
                globalStep++;
                var logits = model.Forward(x);
                var j = loss.Forward(logits, y);
                double jv = j.Item();
                if (!double.IsFinite(jv))
                    throw new CliException($"nabla train: the loss became {jv} at epoch {epoch}, step {step}; lower the learning rate (--lr {lr.ToString(inv)}).");
                optimizer.ZeroGrad();
                j.Backward();
                optimizer.Step();
                lossSum += jv * x.Size(0);
                correct += Evaluate.Correct(logits, y);
                seen += x.Size(0);
            }
            double seconds = sw.Elapsed.TotalSeconds;
            testAcc = Evaluate.Accuracy(model, testSet, 1000);
            stdout.WriteLine(string.Create(inv,
                $"epoch {epoch,3}/{epochs}  loss {lossSum / seen:F4}  train acc {100.0 * correct / seen:F2}%  test acc {100 * testAcc:F2}%  {seen / seconds,8:N0} samples/s  {seconds:F2} s"));
        }
        stdout.WriteLine(string.Create(inv, $"test accuracy: {100 * testAcc:F2}% ({Math.Round(testAcc * test.Count)}/{test.Count})"));
        return 0;
    }
}
