using System.Globalization;

namespace Nabla.NN;

/// <summary>Gradient clipping, as PyTorch's <c>torch.nn.utils.clip_grad_norm_</c> and <c>clip_grad_value_</c>.</summary>
public static class Utils
{
    /// <summary>
    /// Scales all gradients together so that their joint norm is at most <paramref name="maxNorm"/>: the total norm is
    /// the p-norm of every gradient element (p = <paramref name="normType"/>, any p &gt; 0 or ∞), and when it exceeds
    /// maxNorm every gradient is multiplied by maxNorm / (total + 1e-6), as PyTorch. Parameters without a gradient
    /// are skipped. Returns the total norm before clipping.
    /// </summary>
    /// <exception cref="InvalidOperationException">The total norm is NaN or infinite and <paramref name="errorIfNonfinite"/> is set.</exception>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2.0, bool errorIfNonfinite = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"ClipGradNorm: max_norm must be ≥ 0, got {maxNorm.ToString(CultureInfo.InvariantCulture)}.");
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), $"ClipGradNorm: norm_type must be positive (or infinity), got {normType.ToString(CultureInfo.InvariantCulture)}.");
        var grads = parameters.Where(p => p.GradInternal is not null).Select(p => p.GradInternal!).ToList();
        if (grads.Count == 0) return 0;
        double total;
        if (double.IsPositiveInfinity(normType))
        {
            total = 0;
            foreach (var g in grads) foreach (double v in g.ToDoubleArray()) total = double.IsNaN(v) || double.IsNaN(total) ? double.NaN : Math.Max(total, Math.Abs(v));
        }
        else
        {
            // Σ|g|^p over every element, summed in float64 in parameter order (deterministic), then the p-th root
            double sum = 0;
            foreach (var g in grads)
                foreach (double v in g.ToDoubleArray()) sum += normType == 2 ? v * v : normType == 1 ? Math.Abs(v) : Math.Pow(Math.Abs(v), normType);
            total = normType == 2 ? Math.Sqrt(sum) : normType == 1 ? sum : Math.Pow(sum, 1 / normType);
        }
        if (errorIfNonfinite && !double.IsFinite(total))
            throw new InvalidOperationException($"ClipGradNorm: the total norm of order {normType.ToString(CultureInfo.InvariantCulture)} of the gradients is {total.ToString(CultureInfo.InvariantCulture)}, so they cannot be clipped.");
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1)
        {
            using var _ = Tensor.NoGrad();
            foreach (var g in grads) g.CopyFrom(g * coef);
        }
        return total;
    }

    /// <summary>Clamps every gradient element into [−clipValue, clipValue] in place (PyTorch's clip_grad_value_).</summary>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clipValue >= 0)) throw new ArgumentOutOfRangeException(nameof(clipValue), $"ClipGradValue: clip_value must be ≥ 0, got {clipValue.ToString(CultureInfo.InvariantCulture)}.");
        using var _ = Tensor.NoGrad();
        foreach (var p in parameters)
            if (p.GradInternal is { } g) g.CopyFrom(g.Clamp(-clipValue, clipValue));
    }
}
