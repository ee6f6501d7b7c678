using System.Globalization;
using Nabla.Tests.IO;

namespace Nabla.Tests.Cli;

/// <summary>`nabla train --tensorboard DIR`, run as a user would, read back with the tests' own event-file reader.</summary>
public sealed class TensorBoardCliTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    [Fact]
    public void TrainWritesEventsThatMatchItsMetrics()
    {
        string root = Path.Combine(tiny.Root, "tb-" + Guid.NewGuid().ToString("N")), tb = Path.Combine(root, "tensorboard");
        var (code, output, err) = CliProcess.Run("train", "--hidden", "8", "--epochs", "2", "--batch-size", "16", "--data", tiny.Data, "--runs-dir", root, "--run", "r",
            "--threads", "2", "--plain", "--tensorboard", tb);
        Assert.True(code == 0, err + output);
        var file = Assert.Single(Directory.GetFiles(tb));
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(file));
        var events = EventFileReader.Read(file);
        Assert.Equal("brain.Event:2", events[0].FileVersion);

        // the scalars are metrics.csv's numbers (train_loss, test loss as "validation" without --val-split)
        var rows = File.ReadAllLines(Path.Combine(root, "r", "metrics.csv")).Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
        float[] Scalars(string tag) => events.Where(e => e.Tag == tag).Select(e => e.Scalar!.Value).ToArray();
        Assert.Equal(rows.Select(r => r[1]), Scalars("loss/train").Select(v => (double)v), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal(rows.Select(r => r[4]), Scalars("accuracy/validation").Select(v => (double)v), (a, b) => Math.Abs(a - b) < 1e-6);
        Assert.Equal([1L, 2], events.Where(e => e.Tag == "lr").Select(e => e.Step));
        // 64 images in batches of 16: 4 steps an epoch, batch scalars every step
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 8], events.Where(e => e.Tag == "batch/loss").Select(e => e.Step));
        foreach (var name in new[] { "0.weight", "0.bias", "2.weight", "2.bias" })
        {
            Assert.Equal(2, events.Count(e => e.Tag == "weights/" + name));
            Assert.Equal(2, events.Count(e => e.Tag == "gradients/" + name));
        }
        Assert.Equal(8 * 784 + 8, (int)events.Last(e => e.Tag == "weights/0.weight").Histo!.Counts.Sum() + (int)events.Last(e => e.Tag == "weights/0.bias").Histo!.Counts.Sum());
        // 16 held-out digits in a 4x4 grid of 60x74 cells (28x28 at twice the size, a 2-pixel margin, the label strip)
        var image = events.Last(e => e.Tag == "predictions").Image!;
        Assert.Equal((4 * 74, 4 * 60), (image.Height, image.Width));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }, image.Png[..8]);
        var grad = events.Last(e => e.Tag == "gradients/2.weight").Histo!;
        Assert.Equal(10 * 8, grad.Counts.Sum());
        Assert.True(grad.Max > grad.Min, "the last layer's gradient is not all one value");

        // --tensorboard is accepted with --resume (it changes no training option): the resumed run logs to a new file
        (code, output, err) = CliProcess.Run("train", "--resume", Path.Combine(root, "r"), "--tensorboard", tb, "--plain");
        Assert.True(code == 0, err + output);
        var resumed = Assert.Single(Directory.GetFiles(tb), f => f != file);
        Assert.Equal("brain.Event:2", EventFileReader.Read(resumed)[0].FileVersion);
    }
}
