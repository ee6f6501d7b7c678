using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

/// <summary>Threading.For with delegate and struct bodies: every part once, nested calls inline, a part's own exception.</summary>
public class ThreadingTests
{
    [Fact]
    public void ThreadingFor_RunsEachPartOnce_NestsAndPropagatesErrors()
    {
        int saved = Threading.MaxThreads;
        try
        {
            Threading.MaxThreads = 2;
            var hits = new int[64];
            Threading.For(8, i => Threading.For(8, j => Interlocked.Increment(ref hits[i * 8 + j])));
            Assert.All(hits, h => Assert.Equal(1, h));
            Assert.Throws<InvalidOperationException>(() => Threading.For(4, i => { if (i == 2) throw new InvalidOperationException(); }));
            Threading.For(3, i => Interlocked.Increment(ref hits[i]));
            Assert.Equal([2, 2, 2, 1], hits[..4]);
        }
        finally
        {
            Threading.MaxThreads = saved;
        }
    }

    private readonly struct CountBody(int[] counts, int[] weights, int failAt) : IParallelBody
    {
        public void Invoke(int part)
        {
            if (part == failAt) throw new ArgumentOutOfRangeException(nameof(part), part, "the part that fails");
            Interlocked.Add(ref counts[part], weights[part]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void StructBody_RunsEachPartOnceOnAnyThreadCount(int threads)
    {
        int saved = Threading.MaxThreads;
        var weights = Enumerable.Range(1, 1000).ToArray();
        var counts = new int[1000];
        try
        {
            Threading.MaxThreads = threads;
            for (int round = 0; round < 3; round++) Threading.For(1000, new CountBody(counts, weights, failAt: -1));
            Assert.Equal(weights.Select(w => 3 * w), counts);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Threading.For(1000, new CountBody(counts, weights, failAt: 7)));
            Assert.Equal(7, e.ActualValue);
        }
        finally
        {
            Threading.MaxThreads = saved;
        }
    }
}
