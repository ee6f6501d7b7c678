using System.Globalization;

namespace Nabla.Autograd;

/// <summary>What <see cref="GradCheck.Check(Func{Tensor}, IReadOnlyList{Tensor}, double, double, double)"/> found: pass or fail and the worst element.</summary>
/// <param name="Passed">True when every element satisfied |analytical − numerical| ≤ atol + rtol·|numerical|.</param>
/// <param name="Input">Which input the worst element belongs to.</param>
/// <param name="Element">The worst element's row-major index in that input.</param>
/// <param name="OutputElement">The element (row-major) of output <paramref name="Output"/> whose derivative it is.</param>
/// <param name="Analytical">The derivative backward computed.</param>
/// <param name="Numerical">The central-difference estimate.</param>
/// <param name="Checked">How many Jacobian entries were compared.</param>
/// <param name="Output">Which output <paramref name="OutputElement"/> belongs to (0 for a single-output function).</param>
public sealed record GradCheckResult(bool Passed, int Input, int Element, int OutputElement, double Analytical, double Numerical, int Checked, int Output = 0)
{
    /// <summary>|analytical − numerical| of the worst element.</summary>
    public double AbsError => Math.Abs(Analytical - Numerical);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Passed ? "passed" : "FAILED")}: {Checked} entries; worst at input {Input} element {Element} (output {Output} element {OutputElement}): analytical {Analytical:G10}, numerical {Numerical:G10}, |diff| {AbsError:G3}");
}

/// <summary>
/// Checks backward against central differences in float64, as torch.autograd.gradcheck: every entry of the
/// Jacobian of each output with respect to each input, analytical (one backward per output element, from that output
/// alone) versus numerical ((f(x+eps) − f(x−eps)) / 2eps).
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
        return Check(() => [f()], inputs, eps, atol, rtol);
    }

    /// <summary>
    /// Checks a function with several outputs (PyTorch's tuple outputs): the Jacobian of every output, each
    /// backward seeded on that output alone, so the others send back no residual.
    /// </summary>
    /// <param name="f">Computes the outputs from the current values of <paramref name="inputs"/>; an output that does not require grad has a zero Jacobian.</param>
    /// <param name="inputs">Leaf float64 tensors; RequiresGrad is switched on for the check.</param>
    /// <param name="eps">Perturbation for the central differences.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance (of the numerical value).</param>
    public static GradCheckResult Check(Func<Tensor[]> f, IReadOnlyList<Tensor> inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(inputs);
        for (int i = 0; i < inputs.Count; i++)
        {
            if (inputs[i].DType != DType.Float64) throw new ArgumentException($"GradCheck: input {i} is {inputs[i].DType.Name()}; gradcheck needs float64 inputs (use To(DType.Float64)).");
            if (!inputs[i].IsLeaf) throw new ArgumentException($"GradCheck: input {i} is not a leaf tensor (it was made by {inputs[i].GradFn!.Name}).");
            inputs[i].RequiresGrad = true;
        }
        var outputs = f();
        if (outputs.Length == 0) throw new ArgumentException("GradCheck: the function returned no outputs.");
        for (int o = 0; o < outputs.Length; o++)
            if (outputs[o].DType != DType.Float64) throw new ArgumentException($"GradCheck: output {o} is {outputs[o].DType.Name()}; it must be float64.");
        // analytical[o][i][j]: the gradient of output o's element j with respect to input i
        var analytical = outputs.Select(output => Analytical(output, inputs)).ToArray();

        int worstInput = 0, worstElement = 0, worstOutput = 0, worstOut = 0, count = 0;
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
                double[][] plus, minus;
                using (Tensor.NoGrad())
                {
                    data[positions[e]] = orig + eps;
                    plus = Values(f(), outputs);
                    data[positions[e]] = orig - eps;
                    minus = Values(f(), outputs);
                }
                data[positions[e]] = orig;
                for (int o = 0; o < outputs.Length; o++)
                {
                    for (int j = 0; j < plus[o].Length; j++)
                    {
                        double num = (plus[o][j] - minus[o][j]) / (2 * eps);
                        double ana = analytical[o][i][j][e];
                        double excess = Math.Abs(ana - num) - (atol + rtol * Math.Abs(num));
                        if (double.IsNaN(excess)) excess = double.PositiveInfinity;
                        if (excess > 0) passed = false;
                        if (excess > worstExcess)
                        {
                            (worstExcess, worstInput, worstElement, worstOutput, worstOut, worstA, worstN) = (excess, i, e, o, j, ana, num);
                        }
                        count++;
                    }
                }
            }
        }
        return new GradCheckResult(passed, worstInput, worstElement, worstOut, worstA, worstN, count, worstOutput);
    }

    /// <summary>
    /// Checks second-order gradients, as torch.autograd.gradgradcheck: the gradients of <paramref name="f"/>'s outputs,
    /// taken with <see cref="Autograd.Grad"/> (createGraph) against fixed random gradient outputs v, are themselves
    /// checked by <see cref="Check(Func{Tensor[]}, IReadOnlyList{Tensor}, double, double, double)"/> with respect to
    /// the inputs and v. An op whose backward cannot be differentiated throws its <see cref="NotSupportedException"/>.
    /// </summary>
    /// <param name="f">Computes the outputs from the current values of <paramref name="inputs"/>; it runs with grad mode on.</param>
    /// <param name="inputs">Leaf float64 tensors; RequiresGrad is switched on for the check.</param>
    /// <param name="eps">Perturbation for the central differences.</param>
    /// <param name="atol">Absolute tolerance.</param>
    /// <param name="rtol">Relative tolerance (of the numerical value).</param>
    /// <param name="seed">Seeds the random gradient outputs v.</param>
    public static GradCheckResult GradGradCheck(Func<Tensor[]> f, IReadOnlyList<Tensor> inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(inputs);
        // Check validates the inputs (float64 leaves); f needs them to require grad before that
        foreach (var x in inputs)
            if (x.IsLeaf && x.DType == DType.Float64) x.RequiresGrad = true;
        Tensor[] first;
        using (Tensor.EnableGrad()) first = f();
        var generator = new Generator(seed);
        // one random v per differentiable output; the others take no part
        var vs = first.Select(o => o.RequiresGrad ? Tensor.Randn(o.Shape.ToArray(), DType.Float64, generator) : null).ToArray();
        var all = inputs.Concat(vs.OfType<Tensor>()).ToList();
        return Check(() =>
        {
            using var _ = Tensor.EnableGrad();
            var outputs = f();
            var used = Enumerable.Range(0, outputs.Length).Where(o => vs[o] is not null).ToArray();
            var grads = Autograd.Grad(used.Select(o => outputs[o]).ToArray(), inputs, used.Select(o => vs[o]).ToArray(), createGraph: true, allowUnused: true);
            return grads.Select((g, i) => g ?? Tensor.Zeros(inputs[i].Shape.ToArray(), DType.Float64)).ToArray();
        }, all, eps, atol, rtol);
    }

    /// <summary>Checks <paramref name="f"/> applied to <paramref name="inputs"/>.</summary>
    public static GradCheckResult Check(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(() => f(inputs), inputs);

    /// <summary>Checks <paramref name="f"/>, a function with several outputs, applied to <paramref name="inputs"/>.</summary>
    public static GradCheckResult Check(Func<Tensor[], Tensor[]> f, params Tensor[] inputs) => Check(() => f(inputs), inputs);

    // One backward per element of output, seeded on it alone: [input][element of output][element of input].
    private static double[][][] Analytical(Tensor output, IReadOnlyList<Tensor> inputs)
    {
        var result = new double[inputs.Count][][];
        for (int i = 0; i < inputs.Count; i++) result[i] = new double[output.Numel][];
        for (int j = 0; j < output.Numel; j++)
        {
            foreach (var t in inputs) t.Grad = null;
            if (output.RequiresGrad)
            {
                var seed = Tensor.Zeros(output.Shape.ToArray(), DType.Float64);
                seed.SetFlat(j, 1);
                output.Backward(seed, retainGraph: true);
            }
            for (int i = 0; i < inputs.Count; i++) result[i][j] = inputs[i].Grad?.ToDoubleArray() ?? new double[inputs[i].Numel];
        }
        foreach (var t in inputs) t.Grad = null;
        return result;
    }

    private static double[][] Values(Tensor[] perturbed, Tensor[] outputs)
    {
        if (perturbed.Length != outputs.Length)
            throw new ArgumentException($"GradCheck: the function returned {outputs.Length} outputs, then {perturbed.Length}; it must return the same every call.");
        for (int o = 0; o < outputs.Length; o++)
            if (perturbed[o].Numel != outputs[o].Numel)
                throw new ArgumentException($"GradCheck: output {o} had {outputs[o].Numel} elements, then {perturbed[o].Numel}; it must have the same shape every call.");
        return perturbed.Select(t => t.ToDoubleArray()).ToArray();
    }
}
