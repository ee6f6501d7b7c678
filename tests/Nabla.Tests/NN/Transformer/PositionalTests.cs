using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>Sinusoidal and learned positional encodings and the rotary embedding against hand-derived values.</summary>
public class PositionalTests
{
    [Fact]
    public void SinusoidalTableHasTheClosedFormValues()
    {
        var pe = new SinusoidalPositionalEncoding(6, dropout: 0, maxLen: 4);
        var t = pe.Table(DType.Float64).ToDoubleArray();
        // PE(pos, 2i) = sin(pos·10000^(−2i/6)), PE(pos, 2i+1) = cos(same)
        double[] expected = new double[24];
        for (int pos = 0; pos < 4; pos++)
            for (int i = 0; i < 3; i++)
            {
                double w = Math.Pow(10000, -2.0 * i / 6);
                expected[pos * 6 + 2 * i] = Math.Sin(pos * w);
                expected[pos * 6 + 2 * i + 1] = Math.Cos(pos * w);
            }
        for (int k = 0; k < 24; k++) Assert.Equal(expected[k], t[k], 1e-14);
        Assert.Equal([0, 1, 0, 1, 0, 1], t[..6]);
        Assert.Equal(Math.Sin(1), t[6], 15);
        Assert.Empty(pe.StateDict());   // computed, not learned
    }

    [Fact]
    public void SinusoidalAddsPositionsAlongTheSequenceDimInEveryLayout()
    {
        var pe = new SinusoidalPositionalEncoding(4, dropout: 0, maxLen: 10);
        var table = pe.Table(DType.Float64);
        var zerosSeqFirst = Tensor.Zeros([3, 2, 4], DType.Float64);
        var y = pe.Forward(zerosSeqFirst, offset: 5);
        for (int n = 0; n < 2; n++)
            Assert.Equal(table.Narrow(0, 5, 3).ToDoubleArray(), y.Select(1, n).ToDoubleArray());
        var bf = new SinusoidalPositionalEncoding(4, dropout: 0, maxLen: 10, batchFirst: true);
        var yb = bf.Forward(Tensor.Zeros([2, 3, 4], DType.Float64));
        Assert.Equal(table.Narrow(0, 0, 3).ToDoubleArray(), yb.Select(0, 1).ToDoubleArray());
        Assert.Equal(table.Narrow(0, 0, 3).ToDoubleArray(), pe.Forward(Tensor.Zeros([3, 4], DType.Float64)).ToDoubleArray());
        var f32 = pe.Forward(Tensor.Zeros([3, 1, 4]));
        Assert.Equal(DType.Float32, f32.DType);
    }

    [Fact]
    public void PositionalModulesRefuseBadShapesAndRanges()
    {
        var pe = new SinusoidalPositionalEncoding(4, maxLen: 5);
        var e1 = Assert.Throws<ArgumentException>(() => pe.Forward(Tensor.Zeros(3, 2, 5)));
        Assert.Contains("SinusoidalPositionalEncoding", e1.Message);
        Assert.Contains("[3, 2, 5]", e1.Message);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => pe.Forward(Tensor.Zeros(3, 1, 4), offset: 3));
        Assert.Contains("[3, 6)", e2.Message);
        var learned = new LearnedPositionalEmbedding(4, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => learned.Forward(Tensor.Zeros(5, 1, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RotaryEmbedding(3));
        var e3 = Assert.Throws<ArgumentException>(() => new RotaryEmbedding(8).Forward(Tensor.Zeros(2, 3, 6)));
        Assert.Contains("head_dim ≥ 8", e3.Message);
    }

    [Fact]
    public void LearnedPositionsAddTheirRowsAndOnlyThoseReceiveGradient()
    {
        var pe = new LearnedPositionalEmbedding(5, 2, dtype: DType.Float64, generator: new Generator(1));
        Assert.Equal(["weight"], pe.StateDict().Keys);
        var w = pe.Weight.ToDoubleArray();
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6, 7, 8 }, 2, 2, 2);   // (L=2, N=2, E=2)
        var y = pe.Forward(x, offset: 2);
        // y[l, n] = x[l, n] + W[2 + l]
        Assert.Equal([1 + w[4], 2 + w[5], 3 + w[4], 4 + w[5], 5 + w[6], 6 + w[7], 7 + w[6], 8 + w[7]], y.ToDoubleArray());
        y.Sum().Backward();
        Assert.Equal([0, 0, 0, 0, 2, 2, 2, 2, 0, 0], pe.Weight.Grad!.ToDoubleArray());
    }

    [Fact]
    public void RotaryRotatesFeaturePairsIAndIPlusHalfByPositionTimesFrequency()
    {
        // dim 4: θ = (1, 10000^(−1/2) = 0.01); pairs (0, 2) and (1, 3) rotate by p·θ₀ and p·θ₁
        var rope = new RotaryEmbedding(4);
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4 }, 3, 4);
        var y = rope.Forward(x).ToDoubleArray();
        for (int p = 0; p < 3; p++)
        {
            double a0 = p * 1.0, a1 = p * 0.01;
            double[] expected =
            [
                1 * Math.Cos(a0) - 3 * Math.Sin(a0),
                2 * Math.Cos(a1) - 4 * Math.Sin(a1),
                3 * Math.Cos(a0) + 1 * Math.Sin(a0),
                4 * Math.Cos(a1) + 2 * Math.Sin(a1),
            ];
            for (int j = 0; j < 4; j++) Assert.Equal(expected[j], y[p * 4 + j], 1e-14);
        }
    }

    [Fact]
    public void RotaryScoresDependOnlyOnTheDistanceBetweenPositions()
    {
        var g = new Generator(3);
        var rope = new RotaryEmbedding(8);
        var q = Tensor.Randn([1, 8], DType.Float64, g);
        var k = Tensor.Randn([1, 8], DType.Float64, g);
        double Score(int pq, int pk) => (rope.Forward(q, pq) * rope.Forward(k, pk)).Sum().Item();
        Assert.Equal(Score(2, 0), Score(7, 5), 1e-12);
        Assert.Equal(Score(0, 3), Score(10, 13), 1e-12);
        Assert.NotEqual(Score(2, 0), Score(3, 0), 6);
        // the norm of every rotated pair is kept
        Assert.Equal(q.Pow(2).Sum().Item(), rope.Forward(q, 9).Pow(2).Sum().Item(), 1e-12);
    }

    [Fact]
    public void RotaryPartialLeavesTheRestAndApplyRotatesQueriesAndKeysAlike()
    {
        var rope = new RotaryEmbedding(2);
        var x = Tensor.Randn([2, 3, 5], DType.Float64, new Generator(4));
        var y = rope.Forward(x, offset: 1);
        Assert.Equal(x.Narrow(-1, 2, 3).ToDoubleArray(), y.Narrow(-1, 2, 3).ToDoubleArray());
        var (q, k) = rope.Apply(x, x, offset: 1);
        Assert.Equal(y.ToDoubleArray(), q.ToDoubleArray());
        Assert.Equal(y.ToDoubleArray(), k.ToDoubleArray());
        // float32 follows the float64 values; tables grow past their first size
        var far = rope.Forward(x.To(DType.Float32), offset: 500);
        Assert.Equal(rope.Forward(x, offset: 500).ToDoubleArray(), far.ToDoubleArray().Select(v => v), new Tol(1e-5));
    }

    private sealed class Tol(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(double v) => 0;
    }
}
