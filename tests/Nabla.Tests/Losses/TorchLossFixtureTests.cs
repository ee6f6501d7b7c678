using Xunit.Abstractions;

namespace Nabla.Tests.Losses;

/// <summary>
/// Every loss against PyTorch 1.13 (tests/fixtures/torch/loss_fixtures.json): the output and the gradient of
/// Σ output·R for each differentiable tensor, in float64, within 1e-10 relative + 1e-12 absolute per element (the
/// two libraries' roundings only); inf and NaN must match exactly.
/// </summary>
public class TorchLossFixtureTests(ITestOutputHelper output)
{
    public static TheoryData<string> Names => new(TorchLossFixtures.Cases.Keys.Order());

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesPyTorch(string name)
    {
        var c = TorchLossFixtures.Cases[name];
        var args = c.Args.Select(a => c.Tensors[a].Clone()).ToArray();
        for (int i = 0; i < args.Length; i++)
            if (c.Grads.ContainsKey(c.Args[i])) args[i].RequiresGrad = true;
        var y = TorchLossFixtures.Apply(c, args);
        Compare(name, "output", c.Output, y);
        if (c.Grads.Count == 0) return;
        (y * c.SeedGrad).Sum().Backward();
        for (int i = 0; i < args.Length; i++)
        {
            if (c.Grads.TryGetValue(c.Args[i], out var expected))
            {
                Assert.True(args[i].Grad is not null, $"{name}: {c.Args[i]} got no gradient");
                Compare(name, "grad " + c.Args[i], expected, args[i].Grad!);
            }
        }
    }

    private void Compare(string name, string what, Tensor expected, Tensor actual)
    {
        Assert.Equal(DType.Float64, actual.DType);
        Assert.Equal(expected.Shape.ToArray(), actual.Shape.ToArray());
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        double worst = 0;
        for (int i = 0; i < e.Length; i++)
        {
            if (!double.IsFinite(e[i]))
            {
                Assert.True(e[i].Equals(a[i]), $"{name}: {what}[{i}] is {a[i]}, PyTorch's is {e[i]}");
                continue;
            }
            double err = Math.Abs(a[i] - e[i]);
            worst = Math.Max(worst, err / (1e-12 + Math.Abs(e[i])));
            Assert.True(err <= 1e-12 + 1e-10 * Math.Abs(e[i]), $"{name}: {what}[{i}] is {a[i]:G17}, PyTorch's is {e[i]:G17} (|diff| {err:G3})");
        }
        output.WriteLine($"{name} {what}: worst relative error {worst:G3}");
    }
}
