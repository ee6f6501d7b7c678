using System.Globalization;

namespace Nabla.Autograd;

/// <summary>What <see cref="GradCheck.Check(Func{Tensor}, IReadOnlyList{Tensor}, double, double, double)"/> found: pass or fail and the worst element.</summary>
/// <param name="Passed">True when every element satisfied |analytical − numerical| ≤ atol + rtol·|numerical|.</param>
/// <param name="Input">Which input the worst element belongs to.</param>
/// <param name="Element">The worst element's row-major index in that input.</param>
/// <param name="OutputElement">The output element whose derivative it is.</param>
/// <param name="Analytical">The derivative backward computed.</param>
/// <param name="Numerical">The central-difference estimate.</param>
/// <param name="Checked">How many Jacobian entries were compared.</param>
public sealed record GradCheckResult(bool Passed, int Input, int Element, int OutputElement, double Analytical, double Numerical, int Checked)
{
    /// <summary>|analytical − numerical| of the worst element.</summary>
    public double AbsError => Math.Abs(Analytical - Numerical);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Passed ? "passed" : "FAILED")}: {Checked} entries; worst at input {Input} element {Element} (output {OutputElement}): analytical {Analytical:G10}, numerical {Numerical:G10}, |diff| {AbsError:G3}");
}

/// <summary>
/// Checks backward against central differences in float64, as torch.autograd.gradcheck: every entry of the
/// Jacobian of the output with respect to each input, analytical (one backward per output element) versus
/// numerical ((f(x+eps) − f(x−eps)) / 2eps).
/// </summary>
public static class GradCheck
{
    /// <summary>Checks <paramref name="f"/> with respect to float64 leaf tensors <paramref name="inputs"/> (module parameters included).</summary>
    /// <param name="f">Computes the output from the current values of <paramref name="inputs"/> (it may close over them).</param>
    /// <param name="inputs">Leaf float64 tensors; RequiresGrad is switched on for the check.</param>
    /// <param name="eps">Perturbation for the central differences.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance (of the numerical value).</param>
    public static GradCheckResult Check(Func<Tensor> f, IReadOnlyList<Tensor> inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(f);
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].DType != DType.Float64) throw new ArgumentException($"GradCheck: input {i} is {inputs[i].DType.Name()}; gradcheck needs float64 inputs (use To(DType.Float64)).");
            if (!inputs[i].IsLeaf) throw new ArgumentException($"GradCheck: input {i} is not a leaf tensor (it was made by {inputs[i].GradFn!.Name}).");
            inputs[i].RequiresGrad = true;
        }
        var output = f();
        if (output.DType != DType.Float64) throw new ArgumentException($"GradCheck: the output is {output.DType.Name()}; it must be float64.");
        int outCount = output.Numel;
        var analytical = new double[inputs.Count][][];
        for (int i = 0; i < inputs.Count; i++) analytical[i] = new double[outCount][];
        for (int j = 0; j < outCount; j++)
        {
            foreach (var t in inputs) t.Grad = null;
            if (output.RequiresGrad)
            {
                var seed = Tensor.Zeros(output.Shape.ToArray(), DType.Float64);
                seed.SetFlat(j, 1);
                output.Backward(seed, retainGraph: true);
            }
            for (int i = 0; i < inputs.Count; i++) analytical[i][j] = inputs[i].Grad?.ToDoubleArray() ?? new double[inputs[i].Numel];
        }
        foreach (var t in inputs) t.Grad = null;

        int worstInput = 0, worstElement = 0, worstOut = 0, count = 0;
        double worstExcess = double.NegativeInfinity, worstA = 0, worstN = 0;
        bool passed = true;
        for (int i = 0; i < inputs.Count; i++)
        {
            var x = inputs[i];
            var data = x.Buffer<double>();
            var positions = x.StoragePositions();
            for (int e = 0; e < positions.Length; e++)
            {
                double orig = data[positions[e]];
                double[] plus, minus;
                using (Tensor.NoGrad())
                {
                    data[positions[e]] = orig + eps;
                    plus = f().ToDoubleArray();
                    data[positions[e]] = orig - eps;
                    minus = f().ToDoubleArray();
                }
                data[positions[e]] = orig;
                for (int j = 0; j < outCount; j++)
                {
                    double num = (plus[j] - minus[j]) / (2 * eps);
                    double ana = analytical[i][j][e];
                    double excess = Math.Abs(ana - num) - (atol + rtol * Math.Abs(num));
                    if (double.IsNaN(excess)) excess = double.PositiveInfinity;
                    if (excess > 0) passed = false;
                    if (excess > worstExcess)
                    {
                        (worstExcess, worstInput, worstElement, worstOut, worstA, worstN) = (excess, i, e, j, ana, num);
                    }
                    count++;
                }
            }
        }
        return new GradCheckResult(passed, worstInput, worstElement, worstOut, worstA, worstN, count);
    }

    /// <summary>Checks <paramref name="f"/> applied to <paramref name="inputs"/>.</summary>
    public static GradCheckResult Check(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(() => f(inputs), inputs);
}
