using Nabla.Autograd;

namespace Nabla.Tests.Ops;

/// <summary>Runs every <see cref="OpCatalog"/> entry through gradcheck and through float32-vs-float64 comparisons of the forward and of the gradients.</summary>
public class OpCatalogTests
{
    // float32 has a 2^-24 ≈ 6e-8 unit roundoff; these small ops chain a handful of roundings, so 1e-4 relative
    // (plus 1e-5 absolute for results near 0) leaves a wide margin yet fails on any real float32 path bug.
    private const double Float32RelTol = 1e-4, Float32AbsTol = 1e-5;

    public static TheoryData<string> Names => OpCatalog.Names();

    [Fact]
    public void CatalogNamesAreUniqueAndInputsAreFloat64Leaves()
    {
        Assert.Equal(OpCatalog.All.Count, OpCatalog.All.Select(c => c.Name).Distinct().Count());
        foreach (var c in OpCatalog.All)
        {
            foreach (var t in c.Inputs())
            {
                Assert.Equal(DType.Float64, t.DType);
                Assert.True(t.IsLeaf, c.Name);
            }
        }
    }

    /// <summary>
    /// Every output's Jacobian, each backward seeded on that output alone (a loss that uses only y, or only h_n); for
    /// a multi-output op also all outputs together (flattened and concatenated: a loss that uses them all).
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void GradCheckPasses(string name)
    {
        var op = OpCatalog.Get(name);
        var inputs = op.Inputs();
        var result = GradCheck.Check(() =>
        {
            var outputs = op.Outputs(inputs);
            return outputs.Length == 1 ? outputs : [.. outputs, Tensor.Cat(outputs.Select(t => t.Flatten()).ToList(), 0)];
        }, inputs);
        Assert.True(result.Passed, $"{name}: {result}");
        Assert.True(result.Checked > 0, $"{name}: nothing was checked");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Float32ForwardMatchesFloat64(string name)
    {
        var op = OpCatalog.Get(name);
        var inputs64 = op.Inputs();
        var expected = op.Outputs(inputs64);
        var actual = op.Outputs(inputs64.Select(t => t.To(DType.Float32)).ToArray());
        Assert.Equal(expected.Length, actual.Length);
        for (int o = 0; o < expected.Length; o++)
        {
            Assert.Equal(DType.Float64, expected[o].DType);
            Assert.Equal(DType.Float32, actual[o].DType);
            Assert.Equal(expected[o].Shape.ToArray(), actual[o].Shape.ToArray());
            var e = expected[o].ToDoubleArray();
            var a = actual[o].ToDoubleArray();
            for (int i = 0; i < e.Length; i++)
            {
                double err = Math.Abs(a[i] - e[i]);
                Assert.True(err <= Float32AbsTol + Float32RelTol * Math.Abs(e[i]),
                    $"{name}: output {o} element {i}: float32 {a[i]:G9} vs float64 {e[i]:G17} (|diff| {err:G3})");
            }
        }
    }

    /// <summary>
    /// The float32 backward kernels (which may differ from float64's: Winograd, row-dot, fast pooling) against float64:
    /// the gradients of Σ op(x)·w for a fixed random w (summed over the outputs of a multi-output op). Gradients are sums, so the tolerance also allows 1e-5 of each
    /// gradient's largest element.
    /// </summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Float32GradientsMatchFloat64(string name)
    {
        var op = OpCatalog.Get(name);
        double[][] Gradients(DType dtype)
        {
            var inputs = op.Inputs().Select(t => t.To(dtype).Detach()).ToArray();
            foreach (var t in inputs) t.RequiresGrad = true;
            var generator = new Generator(99);
            var loss = op.Outputs(inputs).Select(y => (y * Tensor.Randn(y.Shape.ToArray(), DType.Float64, generator).To(dtype)).Sum()).Aggregate((a, b) => a + b);
            loss.Backward();
            return inputs.Select(t => t.Grad?.ToDoubleArray() ?? []).ToArray();
        }
        var expected = Gradients(DType.Float64);
        var actual = Gradients(DType.Float32);
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.Equal(expected[k].Length, actual[k].Length);
            double scale = expected[k].Length == 0 ? 0 : expected[k].Max(Math.Abs);
            // a gradient that is zero in exact arithmetic (LayerNorm over one feature) is float32 rounding noise,
            // amplified by 1/sqrt(eps) ≈ 316 there
            double absTol = scale < 1e-9 ? 1e-4 : Float32AbsTol;
            for (int i = 0; i < expected[k].Length; i++)
            {
                double e = expected[k][i], err = Math.Abs(actual[k][i] - e);
                Assert.True(err <= absTol + Float32RelTol * Math.Abs(e) + 1e-5 * scale,
                    $"{name}: input {k} gradient element {i}: float32 {actual[k][i]:G9} vs float64 {e:G17} (|diff| {err:G3})");
            }
        }
    }
}
