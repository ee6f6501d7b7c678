using Nabla.Data;
using Nabla.IO.TensorBoard;
using Nabla.Losses;
using Nabla.NN;
using Nabla.Optim;
using Nabla.Training;

namespace Nabla.Tests.IO;

/// <summary>TensorBoard event files: the format's published test vector, and what a reader written here finds in them.</summary>
public sealed class TensorBoardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nabla-tb").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // the first event of an event file, {wall_time = 1.0, file_version = "brain.Event:2"}, framed: length, its masked
    // CRC-32C, the Event proto, its masked CRC-32C (the vector TensorBoard's own record-writer tests use)
    private const string FirstEvent = "1800000000000000" + "a37f4b22" + "09000000000000f03f1a0d627261696e2e4576656e743a32" + "86bf577a";

    [Fact]
    public void TheFirstEventMatchesThePublishedVectorByteForByte()
    {
        Assert.Equal(FirstEvent, Convert.ToHexStringLower(TfRecord.Frame(EventProto.FileVersion(1.0))));
        string file;
        using (var w = new SummaryWriter(_dir, clock: () => 1.0)) file = w.FilePath;
        Assert.Equal(FirstEvent, Convert.ToHexStringLower(File.ReadAllBytes(file)));
        Assert.Matches(@"events\.out\.tfevents\.0000000001\.", Path.GetFileName(file));
    }

    [Fact]
    public void Crc32CMatchesTheCheckValueAndABitwiseReference()
    {
        Assert.Equal(0xE3069283u, TfRecord.Crc32C("123456789"u8)); // the CRC catalogue's check value for CRC-32C
        var g = new Random(3);
        for (int n = 0; n < 40; n++)
        {
            var data = new byte[n * 7 + n % 5];
            g.NextBytes(data);
            Assert.Equal(EventFileReader.Crc32C(data), TfRecord.Crc32C(data));
        }
    }

    [Fact]
    public void ScalarsHistogramsAndImagesReadBack()
    {
        string path;
        double t = 100;
        using (var w = new SummaryWriter(_dir, clock: () => t += 0.5))
        {
            path = w.FilePath;
            w.AddScalar("loss/train", 0.25, 3);
            w.AddScalar("lr", 1e-3, 1L << 40);
            w.AddHistogram("h", [0f, 1f, 2f, 3f, 1f], 7, bins: 3);
            w.AddHistogram("same", [2f, 2f], 8);
            var img = new float[3 * 2 * 4];
            for (int i = 0; i < img.Length; i++) img[i] = i / (float)(img.Length - 1);
            w.AddImage("rgb", Tensor.FromArray(img, 3, 2, 4), 9);
            w.AddImage("grey", Tensor.FromArray([0f, 0.5f, 1f, 2f], 1, 2, 2), 10);
        }
        var events = EventFileReader.Read(path);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(100.5, events[0].WallTime);
        Assert.Equal(7, events.Count);
        Assert.Equal(("loss/train", 3L, 0.25f), (events[1].Tag, events[1].Step, events[1].Scalar));
        Assert.Equal(101.0, events[1].WallTime);
        Assert.Equal(("lr", 1L << 40, 1e-3f), (events[2].Tag, events[2].Step, events[2].Scalar));

        // 3 equal buckets over [0, 3], each (left, limit]: {0, 1, 1}, {2}, {3}
        var h = events[3].Histo!;
        Assert.Equal(("h", 7L), (events[3].Tag, events[3].Step));
        Assert.Equal((0.0, 3.0, 5.0, 7.0, 15.0), (h.Min, h.Max, h.Num, h.Sum, h.SumSquares));
        Assert.Equal([1.0, 2.0, 3.0], h.Limits);
        Assert.Equal([3.0, 1.0, 1.0], h.Counts);
        var same = events[4].Histo!;
        Assert.Equal([2.0], same.Limits);
        Assert.Equal([2.0], same.Counts);

        // the PNGs decode (with the image reader `nabla predict` uses) to the pixels given
        var rgb = events[5].Image!;
        Assert.Equal(("rgb", 2, 4, 3), (events[5].Tag, rgb.Height, rgb.Width, rgb.Colorspace));
        var (gray, hh, ww) = Nabla.Cli.PngTestHook.DecodeGray(rgb.Png);
        Assert.Equal((2, 4), (hh, ww));
        for (int i = 0; i < 8; i++)
        {
            double r = Math.Round(255 * i / 23.0), g = Math.Round(255 * (8 + i) / 23.0), b = Math.Round(255 * (16 + i) / 23.0);
            Assert.Equal((0.299 * r + 0.587 * g + 0.114 * b) / 255, gray[i], 1e-5);
        }
        var grey = events[6].Image!;
        Assert.Equal((2, 2), (grey.Height, grey.Width));
        Assert.Equal([0f, 128 / 255f, 1f, 1f], Nabla.Cli.PngTestHook.DecodeGray(grey.Png).Gray); // 2 clamped to 1
    }

    [Fact]
    public void EveryEventIsInTheFileAsSoonAsItIsAdded()
    {
        // a crash loses nothing added before it: the file is read while the writer is still open, never flushed
        using var w = new SummaryWriter(_dir);
        w.AddScalar("a", 1, 1);
        w.AddHistogram("b", [1f, 2f], 1);
        Assert.Equal(["a", "b"], EventFileReader.Read(w.FilePath).Skip(1).Select(e => e.Tag));
        // and a torn last record (a crash mid-write) leaves the records before it readable
        var bytes = File.ReadAllBytes(w.FilePath);
        var torn = EventFileReader.Records(bytes[..^5], out bool isTorn);
        Assert.True(isTorn);
        Assert.Equal(2, torn.Count);
    }

    [Fact]
    public void BadArgumentsAreRefusedNamingTheTag()
    {
        using var w = new SummaryWriter(_dir);
        Assert.Contains("AddHistogram('w'): value 1 is NaN", Assert.Throws<ArgumentException>(() => w.AddHistogram("w", [1f, float.NaN], 0)).Message);
        Assert.Contains("AddHistogram('w'): no values", Assert.Throws<ArgumentException>(() => w.AddHistogram("w", ReadOnlySpan<float>.Empty, 0)).Message);
        Assert.Contains("got (2, 2, 2)", Assert.Throws<ArgumentException>(() => w.AddImage("img", Tensor.Zeros(2, 2, 2), 0)).Message);
        Assert.Throws<ArgumentException>(() => w.AddScalar("", 1, 0));
        Assert.Single(EventFileReader.Read(w.FilePath)); // nothing but the version was written
    }

    [Fact]
    public void TwoWritersInOneSecondWriteTwoFiles()
    {
        using var a = new SummaryWriter(_dir, clock: () => 5);
        using var b = new SummaryWriter(_dir, clock: () => 5);
        Assert.NotEqual(a.FilePath, b.FilePath);
        Assert.Equal(2, Directory.GetFiles(_dir, "*tfevents*").Length);
    }

    [Fact]
    public void TheLoggerRecordsATrainingRun()
    {
        // three classes of 8-dimensional blobs; the samples are drawn as 2x4 images
        var g = new Generator(1);
        int n = 240;
        var x = new float[n * 8];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % 3;
            for (int j = 0; j < 8; j++) x[i * 8 + j] = (float)(g.NextNormal() * 0.5 + (j % 3 == y[i] ? 1.5 : 0));
        }
        var data = new TensorDataset(x, y, 8);
        var (train, val) = data.RandomSplit(0.25, 2);
        var init = new Generator(4);
        var model = new Sequential(new Linear(8, 16, generator: init), new ReLU(), new Linear(16, 3, generator: init));
        var trainer = new Trainer(model, new SGD(model.Parameters(), 0.1, momentum: 0.9), new CrossEntropyLoss().Forward);
        var loader = new DataLoader(train, 16, shuffle: true, seed: 5);
        string path;
        using (var writer = new SummaryWriter(_dir))
        {
            path = writer.FilePath;
            var logger = new TensorBoardLogger(writer, logEverySteps: 4);
            logger.SetSamples(Tensor.FromArray(x[..(10 * 8)], 10, 8), Tensor.FromArray(y[..10].Select(v => (float)v).ToArray(), 10), 2, 4);
            trainer.Callbacks.Add(logger);
            trainer.Fit(loader, new DataLoader(val, 64), 3);
        }
        Assert.True(trainer.History[^1].ValAccuracy > 0.8, $"learned: {trainer.History[^1].ValAccuracy}");
        var events = EventFileReader.Read(path);
        float[] Scalars(string tag) => events.Where(e => e.Tag == tag).Select(e => e.Scalar!.Value).ToArray();
        long[] Steps(string tag) => events.Where(e => e.Tag == tag).Select(e => e.Step).ToArray();

        Assert.Equal(trainer.History.Select(m => (float)m.TrainLoss), Scalars("loss/train"));
        Assert.Equal(trainer.History.Select(m => (float)m.ValAccuracy), Scalars("accuracy/validation"));
        Assert.Equal(trainer.History.Select(m => (float)m.ValLoss), Scalars("loss/validation"));
        Assert.Equal(trainer.History.Select(m => (float)m.TrainAccuracy), Scalars("accuracy/train"));
        Assert.Equal(trainer.History.Select(m => (float)m.LearningRate), Scalars("lr"));
        Assert.Equal([1L, 2, 3], Steps("loss/train"));
        int batches = loader.BatchCount; // 180 samples in 16s: 12 batches an epoch, 36 steps
        Assert.Equal(Enumerable.Range(1, 3 * batches / 4).Select(i => 4L * i), Steps("batch/loss"));
        Assert.Equal(Steps("batch/loss"), Steps("batch/lr"));

        foreach (var (name, p) in model.NamedParameters())
        {
            var weights = events.Where(e => e.Tag == "weights/" + name).ToList();
            Assert.Equal([1L, 2, 3], weights.Select(e => e.Step));
            var last = weights[^1].Histo!;
            var values = p.ToArray();
            Assert.Equal((values.Min(), values.Max(), (double)values.Length), ((float)last.Min, (float)last.Max, last.Num));
            Assert.Equal(values.Length, last.Counts.Sum());
            var grad = events.Where(e => e.Tag == "gradients/" + name).ToList();
            Assert.Equal(3, grad.Count);
            Assert.Equal(p.Grad!.ToArray().Max(), (float)grad[^1].Histo!.Max); // the last batch's gradient
        }

        // 10 samples: 3 rows of 4 cells, each of cells (2·4 + 2·2) wide and (2·2 + 2·2 + 14) tall
        var images = events.Where(e => e.Tag == "predictions").ToList();
        Assert.Equal(3, images.Count);
        var im = images[^1].Image!;
        Assert.Equal((3 * 22, 4 * 12), (im.Height, im.Width));
        var (gray, _, width) = Nabla.Cli.PngTestHook.DecodeGray(im.Png);
        // each sample's cell holds its picture: its largest element white, its smallest black
        for (int s = 0; s < 10; s++)
        {
            int top = s / 4 * 22 + 2, left = s % 4 * 12 + 2;
            var cell = Enumerable.Range(0, 4).SelectMany(r => Enumerable.Range(0, 8).Select(c => gray[(top + r) * width + left + c])).ToArray();
            Assert.Equal(1f, cell.Max());
            Assert.Equal(0f, cell.Min());
        }
    }
}
