using Nabla.NN;
using Nabla.Optim;

namespace Nabla.Tests.NN;

/// <summary>
/// Weight tying (an output Linear sharing the Embedding's weight) and shared parameters in general: counted and
/// stepped once, listed under every key in the state dict, as PyTorch; ModuleList's keys.
/// </summary>
public class WeightTyingTests
{
    private sealed class TiedLm : Module
    {
        public TiedLm()
        {
            Embed = RegisterModule("embed", new Embedding(5, 3, dtype: DType.Float64, generator: new Generator(1)));
            Head = RegisterModule("head", new Linear(3, 5, bias: false, dtype: DType.Float64, generator: new Generator(2)));
            Head.Weight = Embed.Weight;
        }

        public Embedding Embed { get; }

        public Linear Head { get; }

        public override Tensor Forward(Tensor input) => Head.Forward(Embed.Forward(input));
    }

    [Fact]
    public void TiedParameterIsListedOnceAndSavedUnderBothKeys()
    {
        var m = new TiedLm();
        Assert.Same(m.Embed.Weight, m.Head.Weight);
        Assert.Equal(["embed.weight"], m.NamedParameters().Select(kv => kv.Key));
        Assert.Equal(15, m.ParameterCount());
        var state = m.StateDict();
        Assert.Equal(["embed.weight", "head.weight"], state.Keys);
        Assert.Same(state["embed.weight"], state["head.weight"]);
        // loading PyTorch's state dict (both keys, equal values) keeps the tie
        var copy = state.ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var other = new TiedLm();
        other.LoadStateDict(copy);
        Assert.Same(other.Embed.Weight, other.Head.Weight);
        Assert.Equal(state["embed.weight"].ToDoubleArray(), other.Head.Weight.ToDoubleArray());
    }

    [Fact]
    public void TiedGradientSumsBothUsesAndTheOptimizerStepsItOnce()
    {
        var m = new TiedLm();
        var w0 = m.Embed.Weight.ToDoubleArray();
        var idx = Tensor.FromArray(new double[] { 1, 3 });
        m.Forward(idx).Sum().Backward();
        // d/dW of Σ_n Σ_v (W[idx_n]·W[v]) = Σ_n (row idx_n: Σ_v W[v]) + (every row v: Σ_n W[idx_n])
        double[] colSum = new double[3], picked = new double[3];
        for (int v = 0; v < 5; v++) for (int j = 0; j < 3; j++) colSum[j] += w0[v * 3 + j];
        foreach (int r in new[] { 1, 3 }) for (int j = 0; j < 3; j++) picked[j] += w0[r * 3 + j];
        var grad = m.Embed.Weight.Grad!.ToDoubleArray();
        for (int v = 0; v < 5; v++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(picked[j] + (v is 1 or 3 ? colSum[j] : 0), grad[v * 3 + j], 1e-12);

        var opt = new SGD(m.Parameters(), lr: 0.5);
        opt.Step();
        var w1 = m.Embed.Weight.ToDoubleArray();
        for (int k = 0; k < 15; k++) Assert.Equal(w0[k] - 0.5 * grad[k], w1[k], 1e-12);   // once, not twice
    }

    [Fact]
    public void LinearWeightRefusesAParameterOfAnotherShapeOrDType()
    {
        var lin = new Linear(3, 5);
        var e = Assert.Throws<ArgumentException>(() => lin.Weight = new Embedding(3, 5).Weight);
        Assert.Contains("Linear.Weight: expected shape [5, 3], got [3, 5]", e.Message);
        Assert.Throws<ArgumentException>(() => lin.Weight = new Embedding(5, 3, dtype: DType.Float64).Weight);
    }

    [Fact]
    public void ModuleListKeysAreItsPositions()
    {
        var list = new ModuleList(new Linear(2, 3), new Linear(3, 1, bias: false));
        Assert.Equal(["0.weight", "0.bias", "1.weight"], list.StateDict().Keys);
        Assert.Equal(2, list.Count);
        Assert.IsType<Linear>(list[1]);
        Assert.Throws<NotSupportedException>(() => list.Forward(Tensor.Zeros(1, 2)));
    }
}
