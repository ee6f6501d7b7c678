using System.Numerics;
using System.Runtime.Intrinsics;
using Nabla.Kernels;

namespace Nabla.Tests.Recurrent;

/// <summary>The fused recurrent kernels (SIMD + TensorPrimitives) against their plain scalar references, at odd sizes.</summary>
public class RecurrentKernelTests
{
    internal static T[] Rand<T>(Random r, int n, double scale = 2) where T : IFloatingPointIeee754<T>
    {
        var a = new T[n];
        for (int i = 0; i < n; i++) a[i] = T.CreateTruncating((r.NextDouble() - 0.5) * scale);
        return a;
    }

    internal static void Close<T>(T[] expected, T[] actual, double tol, string what) where T : IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = double.CreateTruncating(expected[i]), a = double.CreateTruncating(actual[i]);
            Assert.True(Math.Abs(e - a) <= tol * (1 + Math.Abs(e)), $"{what}[{i}]: reference {e:G17}, fast {a:G17}");
        }
    }

    public static TheoryData<int> Sizes() => [1, 3, 15, 16, 17, 33, 64, 130];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void LstmMatchesReference(int n)
    {
        Lstm<float>(n, 2e-6);
        Lstm<double>(n, 1e-14);
    }

    private static void Lstm<T>(int n, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new Random(n);
        var gates = Rand<T>(r, 4 * n, 8);
        var c = Rand<T>(r, n);
        var (g1, g2, c1, c2) = (gates.ToArray(), gates.ToArray(), c.ToArray(), c.ToArray());
        T[] h1 = new T[n], h2 = new T[n], o1 = new T[n], o2 = new T[n], cp1 = new T[n], cp2 = new T[n], tc1 = new T[n], tc2 = new T[n];
        RecurrentCells.LstmForwardReference<T>(g1, c1, h1, o1, cp1, tc1);
        RecurrentCells.LstmForward<T>(g2, c2, h2, o2, cp2, tc2);
        Close(g1, g2, tol, "gates");
        Close(c1, c2, tol, "c");
        Close(h1, h2, tol, "h");
        Close(o1, o2, tol, "output");
        Close(cp1, cp2, 0, "c_prev");
        Close(tc1, tc2, tol, "tanh c");
        var dh = Rand<T>(r, n);
        var dOut = Rand<T>(r, n);
        var dc = Rand<T>(r, n);
        var (dc1, dc2) = (dc.ToArray(), dc.ToArray());
        T[] dg1 = new T[4 * n], dg2 = new T[4 * n];
        RecurrentCells.LstmBackwardReference<T>(g1, cp1, tc1, dh, dOut, dc1, dg1);
        RecurrentCells.LstmBackward<T>(g1, cp1, tc1, dh, dOut, dc2, dg2);
        Close(dc1, dc2, tol, "dc");
        Close(dg1, dg2, tol, "dgates");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void GruMatchesReference(int n)
    {
        Gru<float>(n, 2e-6);
        Gru<double>(n, 1e-14);
    }

    private static void Gru<T>(int n, double tol) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new Random(n + 100);
        var gates = Rand<T>(r, 3 * n, 6);
        var hg = Rand<T>(r, 3 * n, 6);
        var h = Rand<T>(r, n);
        var (g1, g2, h1, h2) = (gates.ToArray(), gates.ToArray(), h.ToArray(), h.ToArray());
        T[] o1 = new T[n], o2 = new T[n], hn1 = new T[n], hn2 = new T[n];
        RecurrentCells.GruForwardReference<T>(g1, hg, h1, o1, hn1);
        RecurrentCells.GruForward<T>(g2, hg, h2, o2, hn2);
        Close(g1, g2, tol, "gates");
        Close(h1, h2, tol, "h");
        Close(o1, o2, tol, "output");
        Close(hn1, hn2, 0, "h_n");
        var dh = Rand<T>(r, n);
        var dOut = Rand<T>(r, n);
        T[] dx1 = new T[3 * n], dx2 = new T[3 * n], dhg1 = new T[3 * n], dhg2 = new T[3 * n], dp1 = new T[n], dp2 = new T[n];
        RecurrentCells.GruBackwardReference<T>(g1, hn1, h, dh, dOut, dx1, dhg1, dp1);
        RecurrentCells.GruBackward<T>(g1, hn1, h, dh, dOut, dx2, dhg2, dp2);
        Close(dx1, dx2, tol, "dx");
        Close(dhg1, dhg2, tol, "dhg");
        Close(dp1, dp2, tol, "dh_prev");
    }

    /// <summary>The LSTM and GRU backward are element-wise: at every vector width they give the scalar loop's values exactly.</summary>
    [Theory]
    [MemberData(nameof(Sizes))]
    public void BackwardIsTheScalarLoopBitForBitAtEveryWidth(int n)
    {
        BackwardAtEveryWidth<float>(n);
        BackwardAtEveryWidth<double>(n);
    }

    private static void BackwardAtEveryWidth<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var r = new Random(n + 300);
        T[] gates = Rand<T>(r, 4 * n), cPrev = Rand<T>(r, n), tanhC = Rand<T>(r, n), dh = Rand<T>(r, n), dOut = Rand<T>(r, n), dc = Rand<T>(r, n);
        var lstm = new List<(T[] Dc, T[] DGates)>();
        var gru = new List<(T[] Dx, T[] DHg, T[] DhPrev)>();
        for (int width = 0; width < 4; width++)
        {
            var (dcw, dg) = (dc.ToArray(), new T[4 * n]);
            var (dx, dhg, dp) = (new T[3 * n], new T[3 * n], new T[n]);
            var g3 = gates.AsSpan(0, 3 * n);
            switch (width)
            {
                case 0:
                    RecurrentCells.LstmBackwardReference<T>(gates, cPrev, tanhC, dh, dOut, dcw, dg);
                    RecurrentCells.GruBackwardReference<T>(g3, cPrev, tanhC, dh, dOut, dx, dhg, dp);
                    break;
                case 1:
                    if (!Vector512.IsHardwareAccelerated) continue;
                    RecurrentCells.LstmBackward<T, Vector512<T>, Ops512<T>>(gates, cPrev, tanhC, dh, dOut, dcw, dg);
                    RecurrentCells.GruBackward<T, Vector512<T>, Ops512<T>>(g3, cPrev, tanhC, dh, dOut, dx, dhg, dp);
                    break;
                case 2:
                    if (!Vector256.IsHardwareAccelerated) continue;
                    RecurrentCells.LstmBackward<T, Vector256<T>, Ops256<T>>(gates, cPrev, tanhC, dh, dOut, dcw, dg);
                    RecurrentCells.GruBackward<T, Vector256<T>, Ops256<T>>(g3, cPrev, tanhC, dh, dOut, dx, dhg, dp);
                    break;
                default:
                    RecurrentCells.LstmBackward<T, Vector128<T>, Ops128<T>>(gates, cPrev, tanhC, dh, dOut, dcw, dg);
                    RecurrentCells.GruBackward<T, Vector128<T>, Ops128<T>>(g3, cPrev, tanhC, dh, dOut, dx, dhg, dp);
                    break;
            }
            lstm.Add((dcw, dg));
            gru.Add((dx, dhg, dp));
        }
        for (int i = 1; i < lstm.Count; i++)
        {
            Assert.Equal(lstm[0].Dc, lstm[i].Dc);
            Assert.Equal(lstm[0].DGates, lstm[i].DGates);
            Assert.Equal(gru[0].Dx, gru[i].Dx);
            Assert.Equal(gru[0].DHg, gru[i].DHg);
            Assert.Equal(gru[0].DhPrev, gru[i].DhPrev);
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void RnnMatchesReference(int n)
    {
        foreach (bool relu in new[] { false, true })
        {
            var r = new Random(n + 200);
            var pre = Rand<double>(r, n, 4);
            var (p1, p2) = (pre.ToArray(), pre.ToArray());
            double[] h1 = new double[n], h2 = new double[n], o1 = new double[n], o2 = new double[n];
            RecurrentCells.RnnForwardReference<double>(p1, relu, h1, o1);
            RecurrentCells.RnnForward<double>(p2, relu, h2, o2);
            Close(p1, p2, 1e-14, "y");
            Close(h1, h2, 1e-14, "h");
            var dh = Rand<double>(r, n);
            var dOut = Rand<double>(r, n);
            double[] d1 = new double[n], d2 = new double[n];
            RecurrentCells.RnnBackwardReference<double>(p1, relu, dh, dOut, d1);
            RecurrentCells.RnnBackward<double>(p1, relu, dh, dOut, d2);
            Close(d1, d2, 1e-14, "dpre");
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 17, 5)]
    [InlineData(4, 64, 128)]
    [InlineData(7, 100, 300)]
    [InlineData(64, 512, 128)]
    [InlineData(65, 129, 513)]
    public void RecurrentGemmMatchesTripleLoop(int m, int n, int k)
    {
        foreach (int extra in new[] { 0, 5 })
        {
            var r = new Random(m * 1000 + n + k);
            int lda = k + extra, ldb = n + extra, ldc = n + 2 * extra;
            var a = Rand<float>(r, (m - 1) * lda + k);
            var b = Rand<float>(r, (k - 1) * ldb + n);
            var c = Rand<float>(r, (m - 1) * ldc + n);
            var (c1, c2) = (c.ToArray(), c.ToArray());
            RecurrentGemm.AccumulateReference<float>(m, n, k, a, lda, b, ldb, c1, ldc);
            RecurrentGemm.Accumulate<float>(m, n, k, a, lda, b, ldb, c2, ldc);
            Close(c1, c2, 1e-5 * Math.Sqrt(k), "C");
            var ad = a.Select(v => (double)v).ToArray();
            var bd = b.Select(v => (double)v).ToArray();
            var (d1, d2) = (c.Select(v => (double)v).ToArray(), c.Select(v => (double)v).ToArray());
            RecurrentGemm.AccumulateReference<double>(m, n, k, ad, lda, bd, ldb, d1, ldc);
            RecurrentGemm.Accumulate<double>(m, n, k, ad, lda, bd, ldb, d2, ldc);
            Close(d1, d2, 1e-13 * Math.Sqrt(k), "C (double)");
        }
    }

    [Fact]
    public void RecurrentGemmIsBitIdenticalForAnyThreadCount()
    {
        var r = new Random(3);
        var a = Rand<float>(r, 64 * 128);
        var b = Rand<float>(r, 128 * 512);
        var c = Rand<float>(r, 64 * 512);
        int saved = Threading.MaxThreads;
        try
        {
            var results = new List<float[]>();
            foreach (int threads in new[] { 1, 2, 4 })
            {
                Threading.MaxThreads = threads;
                var cc = c.ToArray();
                RecurrentGemm.Accumulate<float>(64, 512, 128, a, 128, b, 512, cc, 512);
                results.Add(cc);
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
