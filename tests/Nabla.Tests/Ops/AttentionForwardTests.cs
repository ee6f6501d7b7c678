using Nabla.IO;
using Nabla.Tests.Interop;

namespace Nabla.Tests.Ops;

/// <summary>
/// ScaledDotProductAttention against PyTorch 1.13 running the formula (tests/fixtures/torch/make_attention_fixtures.py,
/// float64): the output and, through torch's autograd, the gradients of sum(out·gout) for q, k, v and a float mask.
/// </summary>
public class AttentionForwardTests
{
    private static readonly Lazy<Dictionary<string, Tensor>> s_fixture = new(() =>
        SafeTensors.Load(Path.Combine(TorchTwins.FixtureDir, "attention_sdpa.safetensors")).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value));

    public static TheoryData<string> Cases => new("plain", "bool_mask", "float_mask", "causal", "causal_long_query", "scale_3d", "broadcast_kv");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorchFormulaAndAutograd(string name)
    {
        var io = s_fixture.Value;
        Tensor Leaf(string key)
        {
            var t = io[name + "." + key].Clone();
            t.RequiresGrad = true;
            return t;
        }
        var (q, k, v) = (Leaf("q"), Leaf("k"), Leaf("v"));
        Tensor? floatMask = io.ContainsKey(name + ".mask") ? Leaf("mask") : null;
        Tensor? mask = floatMask ?? (io.TryGetValue(name + ".mask_bool", out var mb) ? mb.Ne(0) : null);
        var y = Tensor.ScaledDotProductAttention(q, k, v, mask, isCausal: name.StartsWith("causal", StringComparison.Ordinal),
            scale: name == "scale_3d" ? 0.3 : null);
        (y * io[name + ".gout"]).Sum().Backward();

        AssertClose(name, "out", y, io[name + ".out"]);
        AssertClose(name, "dq", q.Grad!, io[name + ".dq"]);
        AssertClose(name, "dk", k.Grad!, io[name + ".dk"]);
        AssertClose(name, "dv", v.Grad!, io[name + ".dv"]);
        if (floatMask is not null) AssertClose(name, "dmask", floatMask.Grad!, io[name + ".dmask"]);
    }

    internal static void AssertClose(string name, string what, Tensor actual, Tensor expected, double tol = 1e-12)
    {
        double err = TorchTwins.ScaledError(actual, expected);
        Assert.True(err <= tol, $"{name}: {what} differs from PyTorch's by {err:G3} of its scale");
    }

    [Fact]
    public void HandComputedSingleQuery()
    {
        // q = [1, 0], keys [1, 0] and [0, 1], scale 1: weights softmax([1, 0]) = [e/(e+1), 1/(e+1)]
        var q = Tensor.FromArray(new double[] { 1, 0 }, 1, 2);
        var k = Tensor.FromArray(new double[] { 1, 0, 0, 1 }, 2, 2);
        var v = Tensor.FromArray(new double[] { 10, 20 }, 2, 1);
        double w0 = Math.E / (Math.E + 1);
        var y = Tensor.ScaledDotProductAttention(q, k, v, scale: 1.0);
        Assert.Equal(10 * w0 + 20 * (1 - w0), y.ToDoubleArray()[0], 12);
        // the second key masked out (bool false) leaves value 10; a float mask of −∞ does the same
        Assert.Equal(10.0, Tensor.ScaledDotProductAttention(q, k, v, Tensor.FromArray(new[] { true, false }, 1, 2)).ToDoubleArray()[0], 12);
        Assert.Equal(10.0, Tensor.ScaledDotProductAttention(q, k, v, Tensor.FromArray(new[] { 0.0, double.NegativeInfinity }, 1, 2)).ToDoubleArray()[0], 12);
        // causal: query 0 sees only key 0
        Assert.Equal(10.0, Tensor.ScaledDotProductAttention(q, k, v, isCausal: true).ToDoubleArray()[0], 12);
    }

    [Fact]
    public void FullyMaskedRowIsNaNAsPyTorch()
    {
        var q = Tensor.Ones([2, 3], DType.Float64);
        var y = Tensor.ScaledDotProductAttention(q, q, q, Tensor.FromArray(new[] { true, true, false, false }, 2, 2));
        var a = y.ToDoubleArray();
        Assert.All(a[..3], x => Assert.Equal(1.0, x, 12));
        Assert.All(a[3..], x => Assert.True(double.IsNaN(x)));
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        var q = Tensor.Zeros(2, 3, 4);
        var e = Assert.Throws<ArgumentException>(() => Tensor.ScaledDotProductAttention(q, Tensor.Zeros(2, 5, 3), Tensor.Zeros(2, 5, 4)));
        Assert.Contains("ScaledDotProductAttention", e.Message);
        Assert.Contains("[2, 5, 3]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.ScaledDotProductAttention(q, Tensor.Zeros(2, 5, 4), Tensor.Zeros(2, 6, 4)));
        Assert.Contains("[2, 6, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.ScaledDotProductAttention(q, q, q, Tensor.Zeros(3, 4), isCausal: true));
        Assert.Contains("isCausal", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.ScaledDotProductAttention(q, q, q, Tensor.Zeros(3, 2)));
        Assert.Contains("[3, 2]", e.Message);
        e = Assert.Throws<ArgumentException>(() => Tensor.ScaledDotProductAttention(q, q, q, Tensor.Zeros([3, 3], DType.Float64)));
        Assert.Contains("float64", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.ScaledDotProductAttention(q, q, q, dropoutP: 1.0));
    }
}
