using Nabla.Data;

namespace Nabla.Tests.Data;

/// <summary>DistributedSampler: PyTorch's contract (ceil(n/world) per rank, padding by the first indices, r::world, seed + epoch).</summary>
public class DistributedSamplerTests
{
    [Fact]
    public void WithoutShuffleRankRTakesEveryWorldthIndexPaddedByTheFirstOnes()
    {
        // 10 samples over 4 ranks: 3 each, the padded list is 0..9, 0, 1
        Assert.Equal([0, 4, 8], new DistributedSampler(10, 4, 0, shuffle: false).Indices());
        Assert.Equal([1, 5, 9], new DistributedSampler(10, 4, 1, shuffle: false).Indices());
        Assert.Equal([2, 6, 0], new DistributedSampler(10, 4, 2, shuffle: false).Indices());
        Assert.Equal([3, 7, 1], new DistributedSampler(10, 4, 3, shuffle: false).Indices());
        // dropLast cuts to 8
        Assert.Equal([3, 7], new DistributedSampler(10, 4, 3, shuffle: false, dropLast: true).Indices());
    }

    [Fact]
    public void ShuffledRanksCoverEverySampleOnceWithAnOrderSetBySeedAndEpoch()
    {
        const int n = 23, world = 3;
        int[] Rank(int r, int epoch, ulong seed = 5)
        {
            var s = new DistributedSampler(n, world, r, shuffle: true, seed: seed);
            s.SetEpoch(epoch);
            return s.Indices();
        }
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var all = Enumerable.Range(0, world).SelectMany(r => Rank(r, epoch)).ToArray();
            Assert.Equal(24, all.Length); // ceil(23/3) = 8 per rank, one index repeated
            Assert.Equal(Enumerable.Range(0, n), all.Distinct().Order());
            // the padded list is the epoch's permutation followed by its first element: rank 2's last index
            var perm = Enumerable.Range(0, n).ToArray();
            new Generator(5 + (ulong)epoch).Shuffle<int>(perm);
            Assert.Equal(perm[0], Rank(2, epoch)[^1]);
        }
        Assert.NotEqual(Rank(0, 0), Rank(0, 1));
        Assert.Equal(Rank(1, 2), Rank(1, 2));
        Assert.NotEqual(Rank(0, 0), Rank(0, 0, seed: 6));
    }

    [Fact]
    public void DataLoaderVisitsOnlyTheRanksShareInTheSamplersOrder()
    {
        var ds = new TensorDataset(Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), Enumerable.Range(0, 10).ToArray(), 1);
        var sampler = new DistributedSampler(10, 3, 1, shuffle: true, seed: 9);
        sampler.SetEpoch(4);
        var loader = new DataLoader(ds, batchSize: 3, sampler: sampler);
        Assert.Equal(2, loader.BatchCount); // 4 samples
        var labels = loader.Epoch().SelectMany(b => b.Targets.ToArray()).Select(v => (int)v).ToArray();
        Assert.Equal(sampler.Indices(), labels);
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        Assert.Contains("rank must be in [0, 3], got 4", Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 4, 4)).Message);
        var ds = new TensorDataset(new float[5], new int[5], 1);
        Assert.Contains("shuffle and a sampler exclude each other", Assert.Throws<ArgumentException>(() => new DataLoader(ds, 2, shuffle: true, sampler: new DistributedSampler(5, 2, 0))).Message);
        Assert.Contains("the sampler is for 6 samples, the dataset has 5", Assert.Throws<ArgumentException>(() => new DataLoader(ds, 2, sampler: new DistributedSampler(6, 2, 0))).Message);
    }
}
