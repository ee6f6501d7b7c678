using System.Numerics;
using Nabla.Kernels;
using Nabla.NN;
using static Nabla.Tests.Recurrent.RecurrentKernelTests;

namespace Nabla.Tests.Recurrent;

/// <summary>
/// The fused LSTM step (gates in the recurrent GEMM's epilogue) against its plain reference at odd sizes, its
/// independence of how rows are split, and the layer that runs it against the per-row path (the same layer with
/// lengths given, which takes the unfused code).
/// </summary>
public unsafe class LstmFusedTests
{
    // hidden sizes around the vector widths (8 doubles / 16 floats per zmm) and the backward's 4-vector blocks; rows around the tiles
    public static TheoryData<int, int> Sizes() => new() { { 1, 1 }, { 3, 3 }, { 5, 16 }, { 2, 17 }, { 7, 33 }, { 9, 64 }, { 6, 70 }, { 4, 130 } };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void StepMatchesReference(int rows, int hidden)
    {
        Step<float>(rows, hidden, 2e-5);
        Step<double>(rows, hidden, 1e-13);
    }

    // one forward and one backward step, gates and saved rows strided (every 3rd row of a bigger buffer, as batch-first)
    private static void Step<T>(int rows, int hidden, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new Random(rows * 1000 + hidden);
        int gh = 4 * hidden, ld = 3;
        var whh = Rand<T>(r, gh * hidden, 2 / Math.Sqrt(hidden));
        var packed = new T[Math.Max(1, LstmFused.PackedLength<T>(hidden))];
        LstmFused.PackWeights<T>(whh, hidden, packed);
        var hIn = Rand<T>(r, rows * hidden);
        var gates = Rand<T>(r, rows * ld * gh, 4);
        var c = Rand<T>(r, rows * hidden);
        var (g1, g2, c1, c2) = (gates.ToArray(), gates.ToArray(), c.ToArray(), c.ToArray());
        T[] h1 = new T[rows * hidden], h2 = new T[rows * hidden], y1 = new T[rows * hidden], y2 = new T[rows * hidden];
        T[] cp1 = new T[rows * ld * hidden], cp2 = new T[rows * ld * hidden], tc1 = new T[rows * ld * hidden], tc2 = new T[rows * ld * hidden];
        fixed (T* pw = whh, pp = packed, ph = hIn)
        {
            Forward(rows, hidden, ld, ph, g1, c1, h1, y1, cp1, tc1, pp, pw, reference: true);
            Forward(rows, hidden, ld, ph, g2, c2, h2, y2, cp2, tc2, pp, pw, reference: false);
        }
        Close(g1, g2, tol, "gates");
        Close(c1, c2, tol, "c'");
        Close(h1, h2, tol, "h'");
        Close(h2, y2, 0, "y");
        Close(cp1, cp2, 0, "c kept");
        Close(tc1, tc2, tol, "tanh c'");

        // backward from the reference's kept values, with and without a next step, outside and output residuals
        foreach (bool first in new[] { true, false })
        {
            var dgNext = Rand<T>(r, rows * ld * gh);
            var dhIn = Rand<T>(r, rows * hidden);
            var dOut = Rand<T>(r, rows * hidden);
            var dc = Rand<T>(r, rows * hidden);
            var (dc1, dc2) = (dc.ToArray(), dc.ToArray());
            T[] dg1 = new T[rows * ld * gh], dg2 = new T[rows * ld * gh];
            fixed (T* pw = whh, pn = dgNext, pi = dhIn, po = dOut, pg = g1, pc = cp1, pt = tc1)
            {
                foreach (bool reference in new[] { true, false })
                    fixed (T* pdc = reference ? dc1 : dc2, pdg = reference ? dg1 : dg2)
                    {
                        var s = new LstmBackwardStep<T>
                        {
                            Rows = rows, Hidden = hidden, DGNext = first ? null : pn, DhIn = first ? pi : null, DOut = po,
                            Gates = pg, GateStride = ld * gh, CPrev = pc, TanhC = pt, SaveStride = ld * hidden, Dc = pdc, DG = pdg,
                        };
                        if (reference) LstmFused.BackwardReference(s, pw);
                        else LstmFused.Backward(s, pw);
                    }
            }
            Close(dc1, dc2, tol, "dc");
            Close(dg1, dg2, tol, "dgates");
        }
    }

    private static void Forward<T>(int rows, int hidden, int ld, T* hIn, T[] gates, T[] c, T[] h, T[] y, T[] cPrev, T[] tanhC, T* packed, T* whh,
        bool reference) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* pg = gates, pc = c, ph = h, py = y, pcp = cPrev, ptc = tanhC)
        {
            var s = new LstmForwardStep<T>
            {
                Rows = rows, Hidden = hidden, HIn = hIn, Gates = pg, GateStride = ld * 4 * hidden, C = pc, HOut = ph, Y = py,
                CPrev = pcp, TanhC = ptc, SaveStride = ld * hidden,
            };
            if (reference) LstmFused.ForwardReference(s, whh);
            else LstmFused.Forward(s, packed, whh);
        }
    }

    [Fact]
    public void RowsGiveTheSameBitsWhateverTheSplit()
    {
        // 11 rows at once, or split 3 + 8 (a different tile for every row): bit for bit the same
        const int rows = 11, hidden = 70, gh = 4 * hidden;
        var r = new Random(5);
        var whh = Rand<float>(r, gh * hidden, 0.25);
        var packed = new float[LstmFused.PackedLength<float>(hidden)];
        LstmFused.PackWeights<float>(whh, hidden, packed);
        var hIn = Rand<float>(r, rows * hidden);
        var gates = Rand<float>(r, rows * gh, 4);
        var c = Rand<float>(r, rows * hidden);
        var results = new List<float[]>();
        foreach (int split in new[] { rows, 3 })
        {
            var (g, cc) = (gates.ToArray(), c.ToArray());
            float[] h = new float[rows * hidden], y = new float[rows * hidden], cp = new float[rows * hidden], tc = new float[rows * hidden];
            float[] dc = Enumerable.Repeat(0.5f, rows * hidden).ToArray(), dg = new float[rows * gh];
            fixed (float* pw = whh, pp = packed, ph = hIn, pg = g, pc = cc, pho = h, py = y, pcp = cp, ptc = tc, pdc = dc, pdg = dg)
            {
                foreach (var (r0, r1) in new[] { (0, split), (split, rows) })
                {
                    if (r1 == r0) continue;
                    var s = new LstmForwardStep<float>
                    {
                        Rows = r1 - r0, Hidden = hidden, HIn = ph + r0 * hidden, Gates = pg + r0 * gh, GateStride = gh, C = pc + r0 * hidden,
                        HOut = pho + r0 * hidden, Y = py + r0 * hidden, CPrev = pcp + r0 * hidden, TanhC = ptc + r0 * hidden, SaveStride = hidden,
                    };
                    LstmFused.Forward(s, pp, pw);
                }
                foreach (var (r0, r1) in new[] { (0, split), (split, rows) })
                {
                    if (r1 == r0) continue;
                    var s = new LstmBackwardStep<float>
                    {
                        Rows = r1 - r0, Hidden = hidden, DGNext = pg + r0 * gh, DOut = py + r0 * hidden, Gates = pg + r0 * gh, GateStride = gh,
                        CPrev = pcp + r0 * hidden, TanhC = ptc + r0 * hidden, SaveStride = hidden, Dc = pdc + r0 * hidden, DG = pdg + r0 * gh,
                    };
                    LstmFused.Backward(s, pw);
                }
            }
            results.Add([.. g, .. cc, .. h, .. tc, .. dc, .. dg]);
        }
        Assert.Equal(results[0], results[1]);
    }

    // the same LSTM run fused (no lengths) and per row (lengths = T for every sample: the unfused path, same values)
    [Theory]
    [InlineData(false, false, true, 1)]
    [InlineData(true, false, true, 2)]
    [InlineData(false, true, false, 1)]
    [InlineData(true, true, true, 2)]
    public void LayerMatchesUnfusedPath(bool batchFirst, bool bidirectional, bool bias, int layers)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            const int steps = 5, batch = 9, inF = 7, hidden = 19;
            double tol = dtype == DType.Float64 ? 1e-12 : 2e-5;
            var results = new List<double[]>();
            foreach (bool fused in new[] { true, false })
            {
                var lstm = new LSTM(inF, hidden, layers, bias, batchFirst, bidirectional: bidirectional, dtype: dtype, generator: new Generator(1));
                var x = Tensor.Randn(batchFirst ? [batch, steps, inF] : [steps, batch, inF], dtype, new Generator(2)).RequireGrad();
                int dirs = bidirectional ? 2 : 1;
                var h0 = Tensor.Randn([layers * dirs, batch, hidden], dtype, new Generator(3)).RequireGrad();
                var c0 = Tensor.Randn([layers * dirs, batch, hidden], dtype, new Generator(4)).RequireGrad();
                var lengths = fused ? null : Enumerable.Repeat(steps, batch).ToArray();
                var o = lstm.Forward(x, (h0, c0), lengths);
                var w = Tensor.Randn(o.Output.Shape.ToArray(), dtype, new Generator(5));
                var loss = (o.Output * w).Sum() + (o.HN * o.HN).Sum() + o.CN.Sum();
                loss.Backward();
                var all = new List<Tensor> { o.Output, o.HN, o.CN, x.Grad!, h0.Grad!, c0.Grad! };
                all.AddRange(lstm.Parameters().Select(p => p.Grad!));
                results.Add(all.SelectMany(t => t.ToDoubleArray()).ToArray());
            }
            Close(results[1], results[0], tol, $"{dtype} outputs and gradients");
        }
    }

    [Fact]
    public void LayerIsBitIdenticalForAnyThreadCount()
    {
        int saved = Threading.MaxThreads;
        try
        {
            var results = new List<float[]>();
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Threading.MaxThreads = threads;
                var lstm = new LSTM(6, 40, batchFirst: true, generator: new Generator(7));
                var x = Tensor.Randn([30, 8, 6], DType.Float32, new Generator(8));
                var y = lstm.Forward(x);
                y.Sum().Backward();
                var all = new List<Tensor> { y };
                all.AddRange(lstm.Parameters().Select(p => p.Grad!));
                results.Add(all.SelectMany(t => t.ToArray()).ToArray());
            }
            Assert.Equal(results[0], results[1]);
            Assert.Equal(results[0], results[2]);
        }
        finally
        {
            Threading.MaxThreads = saved;
        }
    }
}
