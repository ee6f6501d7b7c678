using Nabla.NN;

namespace Nabla.Tests.NN;

/// <summary>Embedding against hand-computed lookups; gradient clipping against a plain reference of PyTorch's rule.</summary>
public class EmbeddingClipTests
{
    [Fact]
    public void EmbeddingLooksUpRowsAndSkipsThePaddingRowInBackward()
    {
        var emb = new Embedding(4, 3, paddingIdx: 1, dtype: DType.Float64, generator: new Generator(1));
        Assert.Equal(new double[3], emb.Weight.Narrow(0, 1, 1).ToDoubleArray());
        var w = emb.Weight.ToDoubleArray();
        var idx = Tensor.FromArray(new double[] { 3, 1, 3, 0 }, 2, 2);
        var y = emb.Forward(idx);
        Assert.Equal(new[] { 2, 2, 3 }, y.Shape.ToArray());
        int[] rows = [3, 1, 3, 0];
        var ya = y.ToDoubleArray();
        for (int n = 0; n < 4; n++)
            for (int d = 0; d < 3; d++) Assert.Equal(w[rows[n] * 3 + d], ya[n * 3 + d]);
        // dW[k] = Σ over the positions that read row k of the residual; the padding row gets none
        var g = Tensor.Arange(1, 13, 1, DType.Float64).Reshape(2, 2, 3);
        y.Backward(g);
        double[] expected = [10, 11, 12, 0, 0, 0, 0, 0, 0, 1 + 7, 2 + 8, 3 + 9];
        Assert.Equal(expected, emb.Weight.Grad!.ToDoubleArray());
        Assert.Equal("Embedding(4, 3, padding_idx=1)", emb.ToString());
        Assert.Equal(new[] { "weight" }, emb.StateDict().Keys.ToArray());
    }

    [Fact]
    public void EmbeddingMaxNormRenormalisesTheLookedUpRowsInPlaceAsPyTorch()
    {
        // expected values: W[k]·maxNorm/(‖W[k]‖ + 1e-7) for the rows looked up with a larger norm (PyTorch 1.13 prints the same)
        double[] w0 = [3, 4, 0.3, 0.4, 6, 8, 1, -1];
        var w = Tensor.FromArray(w0, 4, 2);
        var y = Tensor.Embedding(w, Tensor.FromArray(new double[] { 0, 1, 0, 3 }), maxNorm: 1.0);
        double s0 = 1 / (5 + 1e-7), s3 = 1 / (Math.Sqrt(2) + 1e-7);
        double[] renormed = [3 * s0, 4 * s0, 0.3, 0.4, 6, 8, s3, -s3];   // row 2 is not looked up: unchanged
        Assert.Equal(renormed, w.ToDoubleArray(), new ToleranceComparer(1e-15));
        Assert.Equal([3 * s0, 4 * s0, 0.3, 0.4, 3 * s0, 4 * s0, s3, -s3], y.ToDoubleArray(), new ToleranceComparer(1e-15));
        Assert.Equal(0.599999988, w[0, 0], 12);
        // norm_type 1 through the module; the renormalisation is outside the graph: the gradient is the lookup's
        var emb = Embedding.FromPretrained(Tensor.FromArray(w0, 4, 2), freeze: false, maxNorm: 1.5, normType: 1);
        var ym = emb.Forward(Tensor.FromArray(new double[] { 0, 1, 3 }));
        Assert.Equal([3 * 1.5 / (7 + 1e-7), 4 * 1.5 / (7 + 1e-7), 0.3, 0.4, 6, 8, 1.5 / (2 + 1e-7), -1.5 / (2 + 1e-7)], emb.Weight.ToDoubleArray(), new ToleranceComparer(1e-15));
        ym.Sum().Backward();
        Assert.Equal([1.0, 1, 1, 1, 0, 0, 1, 1], emb.Weight.Grad!.ToDoubleArray());
        Assert.Equal("Embedding(4, 2, max_norm=1.5, norm_type=1.0)", emb.ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(3, 2, maxNorm: -1));
    }

    [Fact]
    public void EmbeddingScaleGradByFreqDividesByTheIndexCount()
    {
        // indices [[0, 2, 0], [3, 0, 2]]: 0 occurs 3 times, 2 twice; padding_idx 3 gets nothing (PyTorch 1.13 gives the same)
        var w = Tensor.FromArray(new double[] { 3, 4, 0.3, 0.4, 6, 8, 1, -1 }, 4, 2).RequireGrad();
        var y = Tensor.Embedding(w, Tensor.FromArray(new double[] { 0, 2, 0, 3, 0, 2 }, 2, 3), paddingIdx: 3, scaleGradByFreq: true);
        (y * Tensor.Arange(1, 3, 1, DType.Float64)).Sum().Backward();
        Assert.Equal([1.0, 2, 0, 0, 1, 2, 0, 0], w.Grad!.ToDoubleArray());
        var frozen = Embedding.FromPretrained(Tensor.Ones([3, 2]), scaleGradByFreq: true);
        Assert.False(frozen.Weight.RequiresGrad);
        Assert.Equal("Embedding(3, 2, scale_grad_by_freq=True)", frozen.ToString());
    }

    [Fact]
    public void EmbeddingErrorsNameTheIndexAndSize()
    {
        var emb = new Embedding(5, 2);
        var e = Assert.Throws<IndexOutOfRangeException>(() => emb.Forward(Tensor.FromArray(new float[] { 1, 5 }, 2)));
        Assert.Contains("Embedding: index 5", e.Message);
        Assert.Contains("5 embeddings", e.Message);
        Assert.Throws<IndexOutOfRangeException>(() => emb.Forward(Tensor.FromArray(new float[] { 1.5f }, 1)));
        Assert.Throws<IndexOutOfRangeException>(() => emb.Forward(Tensor.FromArray(new float[] { -1 }, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(5, 2, paddingIdx: 5));
        Assert.Equal(4, new Embedding(5, 2, paddingIdx: -1).PaddingIdx);
    }

    private sealed class ToleranceComparer(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;

        public int GetHashCode(double obj) => 0;
    }

    private static Parameter P(double[] grad)
    {
        var p = new Parameter(Tensor.Zeros([grad.Length], DType.Float64));
        p.Grad = Tensor.FromArray(grad, grad.Length);
        return p;
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    [InlineData(0.5)]
    [InlineData(double.PositiveInfinity)]
    public void ClipGradNormScalesAllGradientsTogether(double normType)
    {
        double[] a = [3, -4, 0.5], b = [-1, 2];
        var ps = new[] { P(a), P(b), new Parameter(Tensor.Zeros([2], DType.Float64)) };   // the last has no gradient
        var all = a.Concat(b).ToArray();
        double total = double.IsPositiveInfinity(normType) ? all.Max(Math.Abs) : Math.Pow(all.Sum(v => Math.Pow(Math.Abs(v), normType)), 1 / normType);
        double maxNorm = total / 4;
        double returned = Utils.ClipGradNorm(ps, maxNorm, normType);
        Assert.Equal(total, returned, 12);
        double coef = maxNorm / (total + 1e-6);
        var got = ps[0].Grad!.ToDoubleArray().Concat(ps[1].Grad!.ToDoubleArray()).ToArray();
        for (int i = 0; i < all.Length; i++) Assert.Equal(all[i] * coef, got[i], 12);
        Assert.Null(ps[2].Grad);
        // below the limit nothing changes
        var q = new[] { P(a) };
        Utils.ClipGradNorm(q, 100, normType);
        Assert.Equal(a, q[0].Grad!.ToDoubleArray());
    }

    [Fact]
    public void ClipGradNormReportsNonFiniteWhenAsked()
    {
        var ps = new[] { P([1, double.NaN]) };
        Assert.True(double.IsNaN(Utils.ClipGradNorm(ps, 1)));
        var e = Assert.Throws<InvalidOperationException>(() => Utils.ClipGradNorm([P([1, double.PositiveInfinity])], 1, errorIfNonfinite: true));
        Assert.Contains("ClipGradNorm", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Utils.ClipGradNorm(ps, 1, normType: 0));
    }

    [Fact]
    public void ClipGradValueClampsEachElement()
    {
        var ps = new[] { P([3, -4, 0.5]), P([-0.25, 2]) };
        Utils.ClipGradValue(ps, 1);
        Assert.Equal(new[] { 1, -1, 0.5 }, ps[0].Grad!.ToDoubleArray());
        Assert.Equal(new[] { -0.25, 1 }, ps[1].Grad!.ToDoubleArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Utils.ClipGradValue(ps, -1));
    }

    [Fact]
    public void ClipGradNormOnRecurrentGradients()
    {
        var lstm = new LSTM(2, 4, numLayers: 2, dtype: DType.Float64, generator: new Generator(3));
        lstm.Forward(Tensor.Randn([30, 3, 2], DType.Float64, new Generator(4)), null).HN.Square().Sum().Backward();
        double Norm() => Math.Sqrt(lstm.Parameters().Sum(p => p.Grad!.ToDoubleArray().Sum(v => v * v)));
        double before = Norm();
        Assert.Equal(before, Utils.ClipGradNorm(lstm.Parameters(), before / 2), 10);
        Assert.Equal(before / 2, Norm(), 5);
    }
}
