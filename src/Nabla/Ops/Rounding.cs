using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Step functions. Their derivative is zero wherever it exists, so each backward returns zeros (as PyTorch: the
// result still requires grad, and the input's gradient is 0, not absent).
public partial class Tensor
{
    private Tensor ZeroGradient(Tensor y, string name)
    {
        var shape = _shape.ToArray();
        return Engine.Record(y, name, [this], g => [Zeros(shape, g.DType)]);
    }

    /// <summary>−1, 0 or 1 element-wise; its gradient is zero. Shape: unchanged.</summary>
    public Tensor Sign() => ZeroGradient(UnaryOp<SignOperator<float>, SignOperator<double>>(), "SignBackward");

    /// <summary>The largest integer ≤ x element-wise; its gradient is zero. Shape: unchanged.</summary>
    public Tensor Floor() => ZeroGradient(UnaryOp<FloorOperator<float>, FloorOperator<double>>(), "FloorBackward");

    /// <summary>The smallest integer ≥ x element-wise; its gradient is zero. Shape: unchanged.</summary>
    public Tensor Ceil() => ZeroGradient(UnaryOp<CeilOperator<float>, CeilOperator<double>>(), "CeilBackward");

    /// <summary>
    /// Rounds to the nearest integer, halves to even (0.5 → 0, 1.5 → 2, −2.5 → −2), as torch.round; with
    /// <paramref name="decimals"/> ≠ 0 rounds x·10^decimals (x / 10^−decimals when negative) and scales back.
    /// Its gradient is zero. Shape: unchanged.
    /// </summary>
    public Tensor Round(int decimals = 0)
    {
        if (decimals == 0) return ZeroGradient(UnaryOp<RoundOperator<float>, RoundOperator<double>>(), "RoundBackward");
        Tensor y;
        using (NoGrad())
        {
            // PyTorch's form: multiply (or divide) by an exact power of ten, round, undo
            double tenPow = Math.Pow(10, Math.Abs(decimals));
            var x = Detach();
            y = decimals > 0
                ? (x * tenPow).UnaryOp<RoundOperator<float>, RoundOperator<double>>() / tenPow
                : (x / tenPow).UnaryOp<RoundOperator<float>, RoundOperator<double>>() * tenPow;
        }
        return ZeroGradient(y, "RoundBackward");
    }
}
