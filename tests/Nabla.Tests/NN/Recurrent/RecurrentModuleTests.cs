using Nabla.Autograd;
using Nabla.NN;
using Nabla.Tests.Recurrent;

namespace Nabla.Tests.NN.Recurrent;

/// <summary>RNN, LSTM, GRU and the cells against the plain-loop reference; names, shapes, options and errors.</summary>
public class RecurrentModuleTests
{
    private static double[][][] To3(Tensor t)
    {
        var a = t.ToDoubleArray();
        int d0 = t.Size(0), d1 = t.Size(1), d2 = t.Size(2);
        var r = new double[d0][][];
        for (int i = 0; i < d0; i++)
        {
            r[i] = new double[d1][];
            for (int j = 0; j < d1; j++) r[i][j] = a.AsSpan((i * d1 + j) * d2, d2).ToArray();
        }
        return r;
    }

    private static void AssertClose(double[][][] expected, Tensor actual, double tol, string what)
    {
        var a = To3(actual);
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < a[i].Length; j++)
                for (int k = 0; k < a[i][j].Length; k++)
                    Assert.True(Math.Abs(expected[i][j][k] - a[i][j][k]) <= tol, $"{what}[{i},{j},{k}]: expected {expected[i][j][k]:G17}, got {a[i][j][k]:G17}");
    }

    public static TheoryData<RecurrentMode, int, bool, bool, bool, bool> Combos()
    {
        var data = new TheoryData<RecurrentMode, int, bool, bool, bool, bool>();
        foreach (var mode in Enum.GetValues<RecurrentMode>())
            foreach (int layers in new[] { 1, 2 })
                foreach (bool bidir in new[] { false, true })
                {
                    data.Add(mode, layers, bidir, false, false, false);
                    data.Add(mode, layers, bidir, true, true, true);
                }
        return data;
    }

    private static RNNBase Make(RecurrentMode mode, int inF, int hidden, int layers, bool bidir, bool batchFirst, DType dtype, ulong seed) => mode switch
    {
        RecurrentMode.Lstm => new LSTM(inF, hidden, layers, batchFirst: batchFirst, bidirectional: bidir, dtype: dtype, generator: new Generator(seed)),
        RecurrentMode.Gru => new GRU(inF, hidden, layers, batchFirst: batchFirst, bidirectional: bidir, dtype: dtype, generator: new Generator(seed)),
        RecurrentMode.RnnRelu => new RNN(inF, hidden, layers, "relu", batchFirst: batchFirst, bidirectional: bidir, dtype: dtype, generator: new Generator(seed)),
        _ => new RNN(inF, hidden, layers, batchFirst: batchFirst, bidirectional: bidir, dtype: dtype, generator: new Generator(seed)),
    };

    private static (Tensor Y, Tensor H, Tensor? C) Call(RNNBase m, Tensor x, Tensor? h0, Tensor? c0, int[]? lengths) => m switch
    {
        LSTM l => l.Forward(x, h0 is null ? null : (h0, c0!), lengths) is var o ? (o.Output, o.HN, o.CN) : default,
        GRU g => g.Forward(x, h0, lengths) is var o ? (o.Output, o.HN, null) : default,
        RNN r => r.Forward(x, h0, lengths) is var o ? (o.Output, o.HN, null) : default,
        _ => throw new ArgumentException("unknown module"),
    };

    [Theory]
    [MemberData(nameof(Combos))]
    public void ForwardMatchesPlainLoopReference(RecurrentMode mode, int layers, bool bidir, bool state, bool uneven, bool batchFirst)
    {
        const int T = 6, B = 4, I = 5, H = 7;
        int dirs = bidir ? 2 : 1;
        var g = new Generator(11);
        var m = Make(mode, I, H, layers, bidir, batchFirst, DType.Float64, 3);
        var xTm = Tensor.Randn([T, B, I], DType.Float64, g);
        var x = batchFirst ? xTm.Transpose(0, 1).Contiguous() : xTm;
        Tensor? h0 = state ? Tensor.Randn([layers * dirs, B, H], DType.Float64, g) : null;
        Tensor? c0 = state && mode == RecurrentMode.Lstm ? Tensor.Randn([layers * dirs, B, H], DType.Float64, g) : null;
        int[]? lengths = uneven ? [6, 1, 4, 3] : null;
        var (y, hn, cn) = Call(m, x, h0, mode == RecurrentMode.Lstm && state ? c0 : null, lengths);

        var sd = m.StateDict();
        var (ry, rh, rc) = RecurrentReference.Run(mode, To3(xTm), layers, bidir, H, n => sd.TryGetValue(n, out var t) ? t.ToDoubleArray() : null,
            h0 is null ? null : To3(h0), c0 is null ? null : To3(c0), lengths);
        Assert.Equal(batchFirst ? new[] { B, T, dirs * H } : [T, B, dirs * H], y.Shape.ToArray());
        AssertClose(ry, batchFirst ? y.Transpose(0, 1) : y, 1e-12, "output");
        AssertClose(rh, hn, 1e-12, "h_n");
        if (mode == RecurrentMode.Lstm) AssertClose(rc, cn!, 1e-12, "c_n");
        else Assert.Null(cn);
    }

    [Fact]
    public void Float32MatchesFloat64()
    {
        var m64 = new LSTM(28, 33, 2, batchFirst: true, bidirectional: true, dtype: DType.Float64, generator: new Generator(5));
        var m32 = new LSTM(28, 33, 2, batchFirst: true, bidirectional: true, dtype: DType.Float32, generator: new Generator(5));
        var x = Tensor.Randn([9, 17, 28], DType.Float64, new Generator(6));
        var a = m64.Forward(x, null, [17, 3, 9, 1, 17, 5, 16, 2, 8]);
        var b = m32.Forward(x.To(DType.Float32), null, [17, 3, 9, 1, 17, 5, 16, 2, 8]);
        foreach (var (e, f) in new[] { (a.Output, b.Output), (a.HN, b.HN), (a.CN, b.CN) })
        {
            var ee = e.ToDoubleArray();
            var ff = f.ToDoubleArray();
            for (int i = 0; i < ee.Length; i++) Assert.True(Math.Abs(ee[i] - ff[i]) < 1e-5, $"element {i}: {ee[i]} vs {ff[i]}");
        }
    }

    [Fact]
    public void ParameterNamesAndShapesAreTorchs()
    {
        var m = new LSTM(3, 4, numLayers: 2, bidirectional: true);
        string[] expected =
        [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
        ];
        var sd = m.StateDict();
        Assert.Equal(expected, sd.Keys.ToArray());
        Assert.Equal(new[] { 16, 3 }, sd["weight_ih_l0"].Shape.ToArray());
        Assert.Equal(new[] { 16, 4 }, sd["weight_hh_l0_reverse"].Shape.ToArray());
        Assert.Equal(new[] { 16, 8 }, sd["weight_ih_l1"].Shape.ToArray());
        Assert.Equal(new[] { 16 }, sd["bias_hh_l1_reverse"].Shape.ToArray());
        Assert.Equal(new[] { "weight_ih_l0", "weight_hh_l0" }, new GRU(3, 4, bias: false).StateDict().Keys.ToArray());
        Assert.Equal(new[] { 12, 3 }, new GRU(3, 4).StateDict()["weight_ih_l0"].Shape.ToArray());
        Assert.Equal(new[] { "weight_ih", "weight_hh", "bias_ih", "bias_hh" }, new LSTMCell(3, 4).StateDict().Keys.ToArray());
        Assert.Equal("LSTM(3, 4, num_layers=2, bidirectional=True)", m.ToString());
        Assert.Equal("RNN(3, 4, batch_first=True, nonlinearity='relu')", new RNN(3, 4, nonlinearity: "relu", batchFirst: true).ToString());
        // PyTorch's init: every weight uniform in ±1/√H
        Assert.All(m.Parameters(), p => Assert.All(p.ToDoubleArray(), v => Assert.InRange(v, -0.5, 0.5)));
    }

    [Theory]
    [InlineData(RecurrentMode.Lstm)]
    [InlineData(RecurrentMode.Gru)]
    [InlineData(RecurrentMode.RnnTanh)]
    [InlineData(RecurrentMode.RnnRelu)]
    public void CellsMatchOneReferenceStep(RecurrentMode mode)
    {
        const int I = 5, H = 3, B = 2;
        var gen = new Generator(2);
        RNNCellBase cell = mode switch
        {
            RecurrentMode.Lstm => new LSTMCell(I, H, dtype: DType.Float64, generator: gen),
            RecurrentMode.Gru => new GRUCell(I, H, dtype: DType.Float64, generator: gen),
            RecurrentMode.RnnRelu => new RNNCell(I, H, nonlinearity: "relu", dtype: DType.Float64, generator: gen),
            _ => new RNNCell(I, H, dtype: DType.Float64, generator: gen),
        };
        var x = Tensor.Randn([B, I], DType.Float64, gen);
        var h = Tensor.Randn([B, H], DType.Float64, gen);
        var c = Tensor.Randn([B, H], DType.Float64, gen);
        Tensor hNew, cNew = c;
        if (cell is LSTMCell lc) (hNew, cNew) = lc.Forward(x, (h, c));
        else hNew = cell is GRUCell gc ? gc.Forward(x, h) : ((RNNCell)cell).Forward(x, h);
        var sd = cell.StateDict();
        for (int b = 0; b < B; b++)
        {
            var (rh, rc) = RecurrentReference.Step(mode, x.Select(0, b).ToDoubleArray(), h.Select(0, b).ToDoubleArray(), c.Select(0, b).ToDoubleArray(),
                sd["weight_ih"].ToDoubleArray(), sd["weight_hh"].ToDoubleArray(), sd["bias_ih"].ToDoubleArray(), sd["bias_hh"].ToDoubleArray(), H);
            for (int j = 0; j < H; j++)
            {
                Assert.Equal(rh[j], hNew[b, j], 12);
                if (mode == RecurrentMode.Lstm) Assert.Equal(rc[j], cNew[b, j], 12);
            }
        }
        // unbatched: a 1-D input and state give the same numbers without the batch dim
        var one = cell is LSTMCell l1 ? l1.Forward(x.Select(0, 1), (h.Select(0, 1), c.Select(0, 1))).H
            : cell is GRUCell g1 ? g1.Forward(x.Select(0, 1), h.Select(0, 1)) : ((RNNCell)cell).Forward(x.Select(0, 1), h.Select(0, 1));
        Assert.Equal(new[] { H }, one.Shape.ToArray());
        Assert.Equal(hNew.Select(0, 1).ToDoubleArray(), one.ToDoubleArray());
    }

    [Fact]
    public void PaddingNeverReachesFinalStateOrGradients()
    {
        var m = new LSTM(3, 4, numLayers: 2, bidirectional: true, dtype: DType.Float64, generator: new Generator(1));
        var x = Tensor.Randn([5, 2, 3], DType.Float64, new Generator(2)).RequireGrad();
        int[] lengths = [5, 2];
        var a = m.Forward(x, null, lengths);
        (a.Output.Square().Sum() + a.HN.Sum() + a.CN.Sum()).Backward();
        var dx = x.Grad!;
        for (int t = 2; t < 5; t++)
            Assert.All(dx.Select(0, t).Select(0, 1).ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Contains(dx.Select(0, 4).Select(0, 0).ToDoubleArray(), v => v != 0);
        // the padded steps' values change nothing for sample 1
        var x2 = x.Detach().Clone();
        x2.Narrow(0, 2, 3).Narrow(1, 1, 1).CopyFrom(Tensor.Full([3, 1, 3], 100.0, DType.Float64));
        var b = m.Forward(x2, null, lengths);
        Assert.Equal(a.HN.Select(1, 1).ToDoubleArray(), b.HN.Select(1, 1).ToDoubleArray());
        Assert.Equal(a.CN.Select(1, 1).ToDoubleArray(), b.CN.Select(1, 1).ToDoubleArray());
        Assert.All(b.Output.Narrow(0, 2, 3).Select(1, 1).ToDoubleArray(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void ModuleGradCheckThroughParametersAndState()
    {
        var m = new GRU(2, 3, numLayers: 2, bidirectional: true, batchFirst: true, dtype: DType.Float64, generator: new Generator(4));
        var x = Tensor.Randn([2, 4, 2], DType.Float64, new Generator(5));
        var h0 = Tensor.Randn([4, 2, 3], DType.Float64, new Generator(6));
        var inputs = new List<Tensor> { x, h0 };
        inputs.AddRange(m.Parameters());
        var r = GradCheck.Check(() =>
        {
            var o = m.Forward(x, h0, [4, 2]);
            return Tensor.Cat([o.Output.Flatten(), o.HN.Flatten()], 0);
        }, inputs);
        Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void ComposesInSequentialAndDropoutOnlyInTraining()
    {
        var lstm = new LSTM(4, 6, numLayers: 3, dropout: 0.5, batchFirst: true, generator: new Generator(1));
        var model = new Sequential(lstm, new Linear(6, 2, generator: new Generator(2)));
        var x = Tensor.Randn([3, 5, 4], DType.Float32, new Generator(3));
        Assert.Equal(new[] { 3, 5, 2 }, model.Forward(x).Shape.ToArray());
        model.Eval();
        var e1 = lstm.Forward(x).ToArray();
        var e2 = lstm.Forward(x).ToArray();
        Assert.Equal(e1, e2);
        model.Train();
        Assert.NotEqual(e1, lstm.Forward(x).ToArray());
    }

    [Fact]
    public void BadInputsGiveClearErrors()
    {
        var lstm = new LSTM(28, 16, numLayers: 2);
        var e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(28)));
        Assert.Contains("LSTM", e.Message);
        Assert.Contains("[28]", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(5, 2, 27)));
        Assert.Contains("LSTM: input.size(-1) must equal input_size = 28, got 27", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(5, 2, 28), (Tensor.Zeros(1, 2, 16), Tensor.Zeros(2, 2, 16))));
        Assert.Contains("LSTM: expected h0 of shape [2, 2, 16]", e.Message);
        Assert.Contains("got [1, 2, 16]", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(5, 2, 28), (Tensor.Zeros(2, 2, 16), Tensor.Zeros(2, 3, 16))));
        Assert.Contains("c0", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(5, 2, 28), null, [5, 6]));
        Assert.Contains("LSTM: lengths[1] = 6 is longer than the sequence (5 steps; input shape [5, 2, 28])", e.Message);
        e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(5, 2, 28), null, [5]));
        Assert.Contains("1 lengths for a batch of 2", e.Message);
        e = Assert.Throws<ArgumentException>(() => new GRU(3, 4).Forward(Tensor.Zeros(2, 3), Tensor.Zeros(1, 2, 4)));
        Assert.Contains("GRU: expected h0 of shape [1, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new GRUCell(3, 4).Forward(Tensor.Zeros(2, 3), Tensor.Zeros(3, 4)));
        Assert.Contains("GRUCell: expected h of shape [2, 4]", e.Message);
        e = Assert.Throws<ArgumentException>(() => new RNNCell(3, 4).Forward(Tensor.Zeros(2, 2, 3)));
        Assert.Contains("RNNCell", e.Message);
        e = Assert.Throws<ArgumentException>(() => new LSTM(3, 4, dtype: DType.Float64).Forward(Tensor.Zeros(2, 1, 3)));
        Assert.Contains("LSTM: dtypes differ", e.Message);
        Assert.Throws<ArgumentException>(() => new RNN(3, 4, nonlinearity: "sigmoid"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LSTM(3, 4, dropout: 1.5));
    }

    [Fact]
    public void StateCarriesAcrossCalls()
    {
        // running a sequence in two halves, passing (h, c) on, equals running it whole
        var m = new LSTM(3, 5, numLayers: 2, bidirectional: false, dtype: DType.Float64, generator: new Generator(9));
        var x = Tensor.Randn([8, 2, 3], DType.Float64, new Generator(10));
        var whole = m.Forward(x, null);
        var first = m.Forward(x.Narrow(0, 0, 3), null);
        var second = m.Forward(x.Narrow(0, 3, 5), (first.HN, first.CN));
        var expected = whole.Output.Narrow(0, 3, 5).ToDoubleArray();
        var actual = second.Output.ToDoubleArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 12);
    }

    [Fact]
    public void LstmProjSizeHasPyTorchsShapesKeysAndChecks()
    {
        var m = new LSTM(3, 4, numLayers: 2, bidirectional: true, projSize: 2);
        Assert.Equal([16, 3], m.StateDict()["weight_ih_l0"].Shape.ToArray());
        Assert.Equal([16, 2], m.StateDict()["weight_hh_l0_reverse"].Shape.ToArray());
        Assert.Equal([16, 4], m.StateDict()["weight_ih_l1"].Shape.ToArray());   // D·P inputs above the first layer
        Assert.Equal([2, 4], m.StateDict()["weight_hr_l1_reverse"].Shape.ToArray());
        Assert.Equal("LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)", m.ToString());
        var r = m.Forward(Tensor.Randn([5, 2, 3]), null);
        Assert.Equal([5, 2, 4], r.Output.Shape.ToArray());
        Assert.Equal([4, 2, 2], r.HN.Shape.ToArray());
        Assert.Equal([4, 2, 4], r.CN.Shape.ToArray());
        Assert.Equal([5, 4], m.Forward(Tensor.Randn([5, 3])).Shape.ToArray());
        Assert.Contains("proj_size", Assert.Throws<ArgumentException>(() => m.Forward(Tensor.Randn([5, 2, 3]), (Tensor.Zeros(4, 2, 4), Tensor.Zeros(4, 2, 4)))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LSTM(3, 4, projSize: 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LSTM(3, 4, projSize: -1));
    }
}
