using Nabla.Data;

namespace Nabla.Tests.Data;

/// <summary>The sample embedded in Nabla.dll is the repository's data/mnist-sample, byte for byte after decoding.</summary>
public class MnistSampleTests
{
    [Theory]
    [InlineData(true, 8000)]
    [InlineData(false, 2000)]
    public void LoadSample_EqualsTheRepositoryFiles(bool train, int count)
    {
        MnistSplit embedded = Mnist.LoadSample(train);
        MnistSplit files = Mnist.LoadFolder(Mnist.FindBundledData(), train);
        Assert.Equal(count, embedded.Count);
        Assert.Equal((28, 28), (embedded.Rows, embedded.Cols));
        Assert.Equal(files.Labels, embedded.Labels);
        Assert.True(files.Images.AsSpan().SequenceEqual(embedded.Images), "the embedded images differ from data/mnist-sample");
        string prefix = train ? "train" : "t10k";
        Assert.Equal($"{Mnist.SampleName}/{prefix}-images-idx3-ubyte.gz", embedded.ImagesPath);
        Assert.Equal($"{Mnist.SampleName}/{prefix}-labels-idx1-ubyte.gz", embedded.LabelsPath);
    }
}
