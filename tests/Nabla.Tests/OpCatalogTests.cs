using Nabla.Autograd;

namespace Nabla.Tests;

/// <summary>Runs every <see cref="OpCatalog"/> entry through gradcheck and through a float32-vs-float64 forward comparison.</summary>
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

    [Theory]
    [MemberData(nameof(Names))]
    public void GradCheckPasses(string name)
    {
        var op = OpCatalog.Get(name);
        var result = GradCheck.Check(op.Op, op.Inputs());
        Assert.True(result.Passed, $"{name}: {result}");
        Assert.True(result.Checked > 0, $"{name}: nothing was checked");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Float32ForwardMatchesFloat64(string name)
    {
        var op = OpCatalog.Get(name);
        var inputs64 = op.Inputs();
        var expected = op.Op(inputs64);
        var actual = op.Op(inputs64.Select(t => t.To(DType.Float32)).ToArray());
        Assert.Equal(DType.Float64, expected.DType);
        Assert.Equal(DType.Float32, actual.DType);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        for (int i = 0; i < e.Length; i++)
        {
            double err = Math.Abs(a[i] - e[i]);
            Assert.True(err <= Float32AbsTol + Float32RelTol * Math.Abs(e[i]),
                $"{name}: element {i}: float32 {a[i]:G9} vs float64 {e[i]:G17} (|diff| {err:G3})");
        }
    }
}
