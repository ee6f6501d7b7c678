using Nabla.Kernels;

namespace Nabla.Tests.Conv;

/// <summary>The 2x2 stride-2 max-pool fast path against the general loop: odd sizes, ties and NaNs, values and arg-max indices; its backward against clearing and scattering.</summary>
public class PoolFastTests
{
    /// <summary>(planes, H, W): odd sizes (a last row or column no window reads), one to three vectors of outputs a row.</summary>
    public static IEnumerable<object[]> Planes() =>
        new[] { (1, 2, 2), (3, 5, 7), (2, 32, 32), (2, 9, 67), (1, 4, 34), (4, 28, 28) }.Select(p => new object[] { p.Item1, p.Item2, p.Item3 });

    [Theory]
    [MemberData(nameof(Planes))]
    public void MatchesTheGeneralLoop(int planes, int h, int w)
    {
        var g = new PoolGeometry(planes, h, w, 2, 2, 2, 2, 0, 0, 1, 1, h / 2, w / 2);
        var rng = new Random(h * 100 + w);
        var x = new float[planes * h * w];
        for (int i = 0; i < x.Length; i++)
        {
            int kind = rng.Next(10);
            x[i] = kind == 0 ? float.NaN : kind < 4 ? 1f : kind == 4 ? float.NegativeInfinity : (float)rng.NextDouble();
        }
        var y = new float[planes * g.P];
        var yRef = new float[y.Length];
        var idx = new int[y.Length];
        var idxRef = new int[y.Length];
        Pool.MaxForward<float>(g, x, y, idx);
        Pool.MaxForwardGeneral<float>(g, x, yRef, idxRef);
        Assert.Equal(idxRef, idx);
        for (int i = 0; i < y.Length; i++)
            Assert.True(yRef[i].Equals(y[i]), $"output {i}: {y[i]} vs {yRef[i]}");
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported) return;
        // the AVX2 variant (two registers per 16 lanes), whatever this machine would pick
        Array.Fill(y, float.NaN);
        Array.Fill(idx, -7);
        for (int pl = 0; pl < planes; pl++)
            PoolFast.Max2x2Plane<Vector256x2, Lanes256x2>(g, x.AsSpan(pl * h * w, h * w), y.AsSpan(pl * g.P, g.P), idx.AsSpan(pl * g.P, g.P));
        Assert.Equal(idxRef, idx);
        for (int i = 0; i < y.Length; i++)
            Assert.True(yRef[i].Equals(y[i]), $"AVX2 output {i}: {y[i]} vs {yRef[i]}");
    }

    [Theory]
    [MemberData(nameof(Planes))]
    public void BackwardGivesTheBitsOfClearingAndScattering(int planes, int h, int w)
    {
        var g = new PoolGeometry(planes, h, w, 2, 2, 2, 2, 0, 0, 1, 1, h / 2, w / 2);
        var rng = new Random(h * 100 + w + 1);
        var x = new float[planes * h * w];
        for (int i = 0; i < x.Length; i++) x[i] = rng.Next(8) == 0 ? float.NaN : rng.Next(3) == 0 ? 1f : (float)rng.NextDouble();
        var idx = new int[planes * g.P];
        Pool.MaxForward<float>(g, x, new float[idx.Length], idx);
        var dy = new float[idx.Length];
        for (int i = 0; i < dy.Length; i++)
            dy[i] = (i % 7) switch { 0 => -0f, 1 => float.NaN, 2 => float.NegativeInfinity, _ => (float)(rng.NextDouble() - 0.5) };
        var dxRef = new float[x.Length];
        Pool.MaxBackward<float>(planes, h * w, g.P, dy, idx, dxRef);
        var dx = new float[x.Length];
        Array.Fill(dx, float.NaN);   // every entry must be written
        Pool.MaxBackward<float>(g, dy, idx, dx);
        for (int i = 0; i < dx.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(dxRef[i]) == BitConverter.SingleToInt32Bits(dx[i]), $"dx {i}: {dx[i]} vs {dxRef[i]}");
        if (!System.Runtime.Intrinsics.X86.Avx2.IsSupported) return;
        Array.Fill(dx, float.NaN);
        for (int pl = 0; pl < planes; pl++)
            PoolFast.Max2x2PlaneBackward<Vector256x2, Lanes256x2>(g, dy.AsSpan(pl * g.P, g.P), idx.AsSpan(pl * g.P, g.P), dx.AsSpan(pl * h * w, h * w));
        for (int i = 0; i < dx.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(dxRef[i]) == BitConverter.SingleToInt32Bits(dx[i]), $"AVX2 dx {i}: {dx[i]} vs {dxRef[i]}");
    }
}
