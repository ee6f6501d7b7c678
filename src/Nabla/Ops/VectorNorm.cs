using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// The vector p-norm over dims: y = (Σ|x|^p)^(1/p), y = max|x| for p = ∞, min|x| for p = −∞, the count of non-zeros
// for p = 0. Backward: dx = g·sgn(x)·|x|^(p−1)/y^(p−1), 0 where x = 0 or y = 0 (PyTorch's subgradient); for p = ±∞
// the residual is shared evenly by the extrema; for p = 0 it is 0 (a step function).
public partial class Tensor
{
    /// <summary>
    /// The vector p-norm over <paramref name="dim"/> (all dims when null), as torch.norm / torch.linalg.vector_norm:
    /// p = 1, 2, <see cref="double.PositiveInfinity"/> (max |x|), <see cref="double.NegativeInfinity"/> (min |x|),
    /// 0 (the number of non-zero elements; zero gradient) or any other p (Σ|x|^p)^(1/p). The gradient at a zero norm is 0.
    /// Shape: reduced dims removed, or kept as 1.
    /// </summary>
    public Tensor Norm(double p = 2, int[]? dim = null, bool keepDim = false)
    {
        if (double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), "Norm: p must be a number or ±infinity, got NaN.");
        var mask = ReducedMask("Norm", dim);
        int[] dims = [.. Enumerable.Range(0, Rank).Where(i => mask[i])];
        var keptShape = ReducedShape(mask, keepDim: true);
        var op = new NormOp(p);
        var x = Detach().Contiguous();
        Tensor yk;
        using (NoGrad())
        {
            var terms = PointwiseForwardOf("Norm", op, x);
            if (double.IsInfinity(p))
            {
                if (Numel == 0) throw new ArgumentException($"Norm: the {(p > 0 ? "" : "-")}infinity norm of an empty tensor (shape {ShapeUtil.Format(_shape)}) is undefined.");
                yk = terms;
                foreach (int d in dims) yk = p > 0 ? yk.Max(d, keepDim: true).Values : yk.Min(d, keepDim: true).Values;
            }
            else
            {
                var sum = terms.Sum(dims, keepDim: true);
                yk = p is 0 or 1 ? sum : p == 2 ? sum.Sqrt() : sum.Pow(1 / p);
            }
        }
        var y = keepDim ? yk : yk.Reshape(ReducedShape(mask, keepDim: false));
        var inShape = _shape.ToArray();
        var input = this;
        // p = ±∞ runs its backward in kernels only; finite p composes graph ops under createGraph
        return Engine.Record(y, "NormBackward", [this], g =>
        {
            if (GradMode.IsEnabled && p != 0 && !double.IsInfinity(p)) return [NormBackwardGraph(input, y.Reshape(keptShape), g.Reshape(keptShape), p)];
            var gk = g.Reshape(keptShape);
            var ye = yk.Expand(inShape).Contiguous();
            if (p == 0) return [ZerosLike(input)];
            // the maxima (minima for −∞) of a slice share its residual: divide it by their count first
            if (double.IsInfinity(p)) gk = gk / PointwiseBackwardOf("Norm", new NormTiesOp(), x, ye, ye).Sum(dims, keepDim: true);
            return [PointwiseBackwardOf("Norm", op, x, ye, gk.Expand(inShape).Contiguous())];
        }, firstOrderOnly: double.IsInfinity(p));
    }

    // dx = g·sgn(x)·|x|^(p−1)/y^(p−1) as graph ops, 0 where x = 0 or y = 0; the masked elements are computed from 1s
    // so no inf or NaN reaches a later derivative through them
    private static Tensor NormBackwardGraph(Tensor x, Tensor yk, Tensor gk, double p)
    {
        if (p == 1) return gk * x.Sign();
        var zeroX = x.Detach().Eq(0);
        var zeroY = yk.Detach().Eq(0);
        var xs = Where(zeroX, 1.0, x);
        var ys = Where(zeroY, 1.0, yk);
        var term = p == 2 ? xs / ys : xs.Sign() * xs.Abs().Pow(p - 1) / ys.Pow(p - 1);
        return Where(zeroY, 0.0, Where(zeroX, 0.0, gk * term));
    }

    /// <summary>The vector p-norm over one dim. Shape: that dim removed, or kept as 1.</summary>
    public Tensor Norm(double p, int dim, bool keepDim = false) => Norm(p, [dim], keepDim);

    /// <summary>The norm named by <paramref name="p"/>: "fro" (Frobenius: the 2-norm over the dims). Shape: as the numeric overload.</summary>
    public Tensor Norm(string p, int[]? dim = null, bool keepDim = false) => p == "fro"
        ? Norm(2, dim, keepDim)
        : throw new ArgumentException($"Norm: p must be a number or \"fro\", got \"{p}\" (the nuclear norm is not supported).");
}
