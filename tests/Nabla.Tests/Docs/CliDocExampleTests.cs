using System.Text.RegularExpressions;
using Nabla.Data;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Optim.Schedulers;
using Nabla.Training;

namespace Nabla.Tests.Docs;

/// <summary>The "From C#" example of docs/cli.md: the code between the markers is the doc's, line for line, run on a small budget.</summary>
public sealed class CliDocExampleTests : IDisposable
{
    private const string Begin = "// docs/cli.md \"From C#\" begins", End = "// docs/cli.md \"From C#\" ends";

    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-cli-doc").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheExampleTrainsAndValidatesOnNormalisedPixels()
    {
        var mnist = Mnist.LoadFolder(Mnist.FindBundledData(), train: true);
        float[] images = mnist.Images[..(1000 * 784)];
        int[] labels = mnist.Labels[..1000];
        var model = new Sequential(new Linear(784, 64), new ReLU(), new Linear(64, 10));
        int epochs = 2;
        string checkpointFile = Path.Combine(_dir, "checkpoint.safetensors");
        var cancellationToken = CancellationToken.None;

        // docs/cli.md "From C#" begins
        var (train, val) = new TensorDataset(images, labels, 784).RandomSplit(0.1, seed: 3);
        var normalize = Transforms.Normalize(0.1307f, 0.3081f); // the same for training and validation
        var loader = new DataLoader(train, 32, shuffle: true, seed: 2,
            transform: Transforms.Compose(Transforms.RandomAffine(10, 2, 0.9, 1.1, 0, 28, 28), normalize));
        var valLoader = new DataLoader(val, 1000, transform: normalize);
        var sgd = new SGD(model.Parameters(), 0.05, momentum: 0.9);
        var trainer = new Trainer(model, sgd, new CrossEntropyLoss().Forward)
        {
            Scheduler = new CosineAnnealingLR(sgd, epochs * loader.BatchCount), ScheduleInterval = ScheduleInterval.Batch,
        };
        trainer.Callbacks.Add(new EarlyStopping(patience: 5));
        trainer.Callbacks.Add(new LambdaCallback((t, m) => t.SaveCheckpoint(checkpointFile)));
        trainer.Fit(loader, valLoader, epochs, cancellationToken);
        // docs/cli.md "From C#" ends

        Assert.Equal(epochs, trainer.History.Count);
        Assert.True(File.Exists(checkpointFile));
        // the validation pixels are normalised as the training ones: a blank pixel reads (0 − 0.1307) / 0.3081
        var (x, _) = valLoader.Epoch().First();
        Assert.Equal(100, x.Shape[0]);
        Assert.Equal(-0.1307f / 0.3081f, x.ToArray().Min(), 5);
        Assert.True(trainer.History[^1].ValAccuracy > 0.7, $"val accuracy {trainer.History[^1].ValAccuracy}");
    }

    [Fact]
    public void TheDocShowsTheTestedCode()
    {
        string doc = File.ReadAllText(Path.Combine(NablaProcess.RepoRoot, "docs", "cli.md"));
        string section = doc[doc.IndexOf("## From C#", StringComparison.Ordinal)..];
        var docLines = Regex.Match(section, "```csharp\n(.*?)```", RegexOptions.Singleline).Groups[1].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string test = File.ReadAllText(Path.Combine(NablaProcess.RepoRoot, "tests", "Nabla.Tests", "Docs", "CliDocExampleTests.cs"));
        int from = test.IndexOf(Begin + "\n", StringComparison.Ordinal) + Begin.Length + 1, to = test.LastIndexOf("        " + End, StringComparison.Ordinal);
        var testLines = test[from..to].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Length >= 8 ? l[8..] : l);
        Assert.Equal(testLines, docLines.Where(l => !l.StartsWith("using ", StringComparison.Ordinal)));
        foreach (string u in docLines.Where(l => l.StartsWith("using ", StringComparison.Ordinal))) Assert.Contains(u + "\n", test);
    }
}
