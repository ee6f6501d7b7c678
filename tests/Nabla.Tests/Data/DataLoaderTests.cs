using Nabla.Data;

namespace Nabla.Tests.Data;

public class DataLoaderTests
{
    private static TensorDataset Numbers(int n) =>
        new(Enumerable.Range(0, n * 2).Select(i => (float)(i / 2)).ToArray(), Enumerable.Range(0, n).ToArray(), 2);

    [Fact]
    public void EveryEpochVisitsEachSampleOnceInASeededOrder()
    {
        var a = new DataLoader(Numbers(10), 4, shuffle: true, seed: 3);
        var b = new DataLoader(Numbers(10), 4, shuffle: true, seed: 3);
        var e1 = a.Epoch().SelectMany(t => t.Targets.ToArray()).ToArray();
        var e2 = a.Epoch().SelectMany(t => t.Targets.ToArray()).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), e1.Order());
        Assert.NotEqual(e1, e2);
        Assert.Equal(e1, b.Epoch().SelectMany(t => t.Targets.ToArray()).ToArray());
        Assert.Equal([4, 4, 2], a.Epoch().Select(t => t.Inputs.Size(0)));
        // features travel with their labels
        foreach (var (x, y) in a.Epoch())
            Assert.Equal(y.ToArray().SelectMany(v => new[] { v, v }), x.ToArray());
    }

    [Fact]
    public void DropLastAndErrors()
    {
        Assert.Equal(2, new DataLoader(Numbers(10), 4, dropLast: true).Epoch().Count());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(Numbers(10), 0));
        var e = Assert.Throws<ArgumentException>(() => new DataLoader(new TensorDataset([], [], 2), 4));
        Assert.Contains("empty", e.Message);
        Assert.Throws<ArgumentException>(() => new TensorDataset(new float[5], new int[2], 2));
    }

    [Fact]
    public void RandomShiftPastTheImageLeavesZeros()
    {
        // a 4x1 image shifted by up to 3 pixels (it threw "out of range"): any sideways shift leaves zeros, a vertical
        // one moves the column
        float[] src = [1, 2, 3, 4];
        var shift = Transforms.RandomShift(3, 4, 1);
        var g = new Generator(2);
        int cleared = 0;
        for (int trial = 0; trial < 40; trial++)
        {
            var img = (float[])src.Clone();
            shift(img, g);
            if (img.All(v => v == 0))
            {
                cleared++;
                continue;
            }
            Assert.Contains(Enumerable.Range(-3, 7), dy => Enumerable.Range(0, 4).All(r => img[r] == ((uint)(r - dy) < 4 ? src[r - dy] : 0)));
        }
        Assert.InRange(cleared, 20, 39); // dx = 0 with probability 1/7
    }

    [Fact]
    public void RandomShiftMovesPixelsWithinBounds()
    {
        var shift = Transforms.RandomShift(2, 5, 5);
        var g = new Generator(1);
        for (int trial = 0; trial < 50; trial++)
        {
            var img = new float[25];
            img[12] = 1; // centre pixel (2, 2)
            shift(img, g);
            int at = Array.IndexOf(img, 1f);
            Assert.Equal(1f, img.Sum());
            Assert.InRange(at / 5, 0, 4);
            Assert.InRange(Math.Abs(at / 5 - 2), 0, 2);
            Assert.InRange(Math.Abs(at % 5 - 2), 0, 2);
        }
        // a pixel shifted off the edge is dropped, never wrapped
        var corner = new float[25];
        corner[0] = 1;
        var g2 = new Generator(4);
        bool dropped = false;
        for (int trial = 0; trial < 50; trial++)
        {
            var c = (float[])corner.Clone();
            shift(c, g2);
            dropped |= c.Sum() == 0;
            Assert.True(c.Sum() is 0 or 1);
        }
        Assert.True(dropped);
    }
}
