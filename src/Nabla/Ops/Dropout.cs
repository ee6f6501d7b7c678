using Nabla.Autograd;

namespace Nabla;

// Inverted dropout: y = x·m/(1 − p) with m ~ Bernoulli(1 − p), so Eval needs no rescaling; dx = g·m/(1 − p).
public partial class Tensor
{
    /// <summary>
    /// Zeroes each element with probability <paramref name="p"/> and scales the rest by 1/(1 − p) when
    /// <paramref name="training"/>; the identity otherwise. Shape: unchanged.
    /// </summary>
    public Tensor Dropout(double p = 0.5, bool training = true, Generator? generator = null) => DropoutCore("Dropout", p, training, generator, channelWise: false);

    /// <summary>
    /// Zeroes whole channels (dim 1 of (N, C, H, W), dim 0 of an unbatched (C, H, W)) with probability
    /// <paramref name="p"/>, scaling the rest by 1/(1 − p), when <paramref name="training"/>. Shape: unchanged.
    /// </summary>
    public Tensor Dropout2d(double p = 0.5, bool training = true, Generator? generator = null) => DropoutCore("Dropout2d", p, training, generator, channelWise: true);

    private Tensor DropoutCore(string op, double p, bool training, Generator? generator, bool channelWise)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"{op}: p must be in [0, 1], got {p}.");
        if (channelWise && Rank is not (3 or 4)) throw new ArgumentException($"{op}: expected input of shape (N, C, H, W) or (C, H, W), got {ShapeUtil.Format(_shape)}.");
        if (!training || p == 0) return this;
        var gen = generator ?? Generator.Default;
        // the mask's shape: per element, or per channel broadcast over H, W
        int[] maskShape = !channelWise ? _shape.ToArray() : Rank == 4 ? [_shape[0], _shape[1], 1, 1] : [_shape[0], 1, 1];
        var mask = Empty(DType, maskShape);
        double scale = p == 1 ? 0 : 1 / (1 - p);
        for (int i = 0; i < mask.Numel; i++) mask.SetFlat(i, gen.NextDouble() >= p ? scale : 0);
        // the product records dx = g·mask through Mul's backward; the mask is data, not differentiated, and only that
        // backward reads it: it goes back to the pool once a backward has freed the node
        var y = this * mask;
        if (y.GradFn is { } node) node.ReleaseAfterBackward(mask._storage);
        return y;
    }
}
