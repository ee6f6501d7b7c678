using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// The vector p-norm over dims: y = (Σ|x|^p)^(1/p), y = max|x| for p = ∞. Backward: dx = g·sgn(x)·|x|^(p−1)/y^(p−1),
// 0 where x = 0 or y = 0 (PyTorch's subgradient); for p = ∞ the residual is shared evenly by the maxima.
public partial class Tensor
{
    /// <summary>
    /// The vector p-norm over <paramref name="dim"/> (all dims when null), as torch.norm / torch.linalg.vector_norm:
    /// p = 1, 2, <see cref="double.PositiveInfinity"/> (max |x|) or any p &gt; 0. The gradient at a zero norm is 0.
    /// Shape: reduced dims removed, or kept as 1.
    /// </summary>
    public Tensor Norm(double p = 2, int[]? dim = null, bool keepDim = false)
    {
        if (!(p > 0)) throw new ArgumentOutOfRangeException(nameof(p), $"Norm: p must be > 0 (1, 2, any p > 0, or infinity), got {p}.");
        var mask = ReducedMask("Norm", dim);
        int[] dims = [.. Enumerable.Range(0, Rank).Where(i => mask[i])];
        var keptShape = ReducedShape(mask, keepDim: true);
        var op = new NormOp(p);
        var x = Detach().Contiguous();
        Tensor yk;
        using (NoGrad())
        {
            var terms = PointwiseForwardOf("Norm", op, x);
            if (double.IsPositiveInfinity(p))
            {
                if (Numel == 0) throw new ArgumentException($"Norm: the infinity norm of an empty tensor (shape {ShapeUtil.Format(_shape)}) is undefined.");
                yk = terms;
                foreach (int d in dims) yk = yk.Max(d, keepDim: true).Values;
            }
            else
            {
                var sum = terms.Sum(dims, keepDim: true);
                yk = p == 1 ? sum : p == 2 ? sum.Sqrt() : sum.Pow(1 / p);
            }
        }
        var y = keepDim ? yk : yk.Reshape(ReducedShape(mask, keepDim: false));
        var inShape = _shape.ToArray();
        return Engine.Record(y, "NormBackward", [this], g =>
        {
            var gk = g.Reshape(keptShape);
            var ye = yk.Expand(inShape).Contiguous();
            // the maxima of a slice share its residual: divide it by their count first
            if (double.IsPositiveInfinity(p)) gk = gk / PointwiseBackwardOf("Norm", new NormTiesOp(), x, ye, ye).Sum(dims, keepDim: true);
            return [PointwiseBackwardOf("Norm", op, x, ye, gk.Expand(inShape).Contiguous())];
        });
    }

    /// <summary>The vector p-norm over one dim. Shape: that dim removed, or kept as 1.</summary>
    public Tensor Norm(double p, int dim, bool keepDim = false) => Norm(p, [dim], keepDim);

    /// <summary>The norm named by <paramref name="p"/>: "fro" (Frobenius: the 2-norm over the dims). Shape: as the numeric overload.</summary>
    public Tensor Norm(string p, int[]? dim = null, bool keepDim = false) => p == "fro"
        ? Norm(2, dim, keepDim)
        : throw new ArgumentException($"Norm: p must be a number or \"fro\", got \"{p}\" (the nuclear norm is not supported).");
}
