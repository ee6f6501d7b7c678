using Nabla.Data;

namespace Nabla.Tests.Data;

public class TransformsTests
{
    // a 4x5 image with distinct values 1..20
    private static float[] Ramp() => Enumerable.Range(1, 20).Select(i => (float)i).ToArray();

    [Fact]
    public void NormalizeSubtractsMeanAndDividesByStdPerChannel()
    {
        var x = new float[] { 1, 2, 3, 4, 10, 20 };
        Transforms.Normalize([1f, 10f], [2f, 5f])(x, new Generator(0));
        Assert.Equal(new float[] { 0, 0.5f, 1, -1.2f, 0, 2 }, x);
        Assert.Throws<ArgumentOutOfRangeException>(() => Transforms.Normalize(0, 0));
    }

    [Fact]
    public void IntegerTranslationMatchesAPlainShiftWithZeroFill()
    {
        foreach (var interp in new[] { Interpolation.Nearest, Interpolation.Bilinear })
        {
            var x = Ramp();
            Transforms.Affine(x, 4, 5, 0, 1, 0, translateX: 2, translateY: -1, interp);
            var expected = new float[20];
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 5; c++)
                {
                    int sr = r + 1, sc = c - 2; // output (r, c) reads input (r − ty, c − tx)
                    expected[r * 5 + c] = sr < 4 && sc >= 0 ? Ramp()[sr * 5 + sc] : 0;
                }
            Assert.Equal(expected, x);
        }
    }

    [Fact]
    public void RotationBy90DegreesTurnsCounterClockwise()
    {
        // 3x3: a positive angle turns the picture counter-clockwise on screen (torchvision's convention)
        var x = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        Transforms.Affine(x, 3, 3, 90, 1, 0, 0, 0, Interpolation.Nearest);
        Assert.Equal(new float[] { 3, 6, 9, 2, 5, 8, 1, 4, 7 }, x);
    }

    [Fact]
    public void BilinearHalfPixelShiftAveragesNeighbours()
    {
        var x = new float[] { 0, 2, 4, 6 }; // 1x4
        Transforms.Affine(x, 1, 4, 0, 1, 0, translateX: 0.5, translateY: 0, Interpolation.Bilinear);
        Assert.Equal(new float[] { 0, 1, 3, 5 }, x); // the first pixel reads between the outside (0) and 0
    }

    [Fact]
    public void RandomAffineIsSeededAndComposes()
    {
        var t = Transforms.Compose(Transforms.RandomAffine(15, 2, 0.9, 1.1, 5, 4, 5), null, Transforms.Normalize(0.5f, 2f));
        var a = Ramp();
        var b = Ramp();
        var c = Ramp();
        t(a, new Generator(42));
        t(b, new Generator(42));
        t(c, new Generator(43));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Throws<ArgumentException>(() => Transforms.RandomRotation(10, 4, 4)(new float[7], new Generator(1)));
    }

    [Fact]
    public void RandomSplitIsFixedDisjointAndComplete()
    {
        var ds = new TensorDataset(Enumerable.Range(0, 50).Select(i => (float)i).ToArray(), Enumerable.Range(0, 50).Select(i => i % 10).ToArray(), 1);
        var (train, val) = ds.RandomSplit(0.2, 7);
        var (train2, val2) = ds.RandomSplit(0.2, 7);
        Assert.Equal(40, train.Count);
        Assert.Equal(10, val.Count);
        Assert.Equal(val.Features, val2.Features);
        Assert.Equal(train.Features, train2.Features);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (float)i), train.Features.Concat(val.Features).Order());
        Assert.All(Enumerable.Range(0, 10), i => Assert.Equal((int)val.Features[i] % 10, val.Labels[i]));
        Assert.NotEqual(val.Features, ds.RandomSplit(0.2, 8).Validation.Features);
        Assert.Throws<ArgumentOutOfRangeException>(() => ds.RandomSplit(1.0, 1));
    }
}
