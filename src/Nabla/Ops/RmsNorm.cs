namespace Nabla;

// RMSNorm, fused: per row of the last k dims (D values),
//   forward  y = x·r·w,  r = 1/√(mean(x²) + ε)
//   backward dw = Σ_rows g·x·r,  dx = r·(g·w − x̂·Σ(g·w·x̂)/D),  x̂ = x·r
// The kernels are LayerNorm's (Ops/LayerNorm.cs) with μ = 0.
public partial class Tensor
{
    /// <summary>
    /// Root-mean-square normalisation (as torch.nn.functional.rms_norm) over the trailing dims given by
    /// <paramref name="normalizedShape"/>; <paramref name="eps"/> null means the dtype's machine epsilon, as in PyTorch.
    /// Shape: input (*, normalized_shape), weight (normalized_shape) → same as input.
    /// </summary>
    public static Tensor RmsNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, double? eps = null)
    {
        const string op = "RMSNorm";
        int d = CheckNormalizedShape(op, input, normalizedShape);
        CheckNormParam(op, "weight", weight, normalizedShape, input);
        double e = eps ?? input.DType.Eps();   // torch.finfo(dtype).eps, as PyTorch
        if (e < 0 || double.IsNaN(e)) throw new ArgumentOutOfRangeException(nameof(eps), $"{op}: eps must be ≥ 0, got {e}.");
        return RowNorm(op, input, d, normalizedShape, weight, null, e, rms: true);
    }
}
