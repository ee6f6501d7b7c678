using System.Numerics;
using System.Runtime.Intrinsics;
using Nabla.Kernels;

namespace Nabla.Tests.Kernels;

/// <summary>The ReLU mask at each vector width against its plain loop, every tail length, with zeros, NaNs and infinities in y.</summary>
public class ReluKernelsTests
{
    private static (T[] G, T[] Y) Inputs<T>(int n) where T : IFloatingPointIeee754<T>
    {
        var rng = new Random(n);
        var g = new T[n];
        var y = new T[n];
        T[] special = [T.Zero, T.NegativeZero, T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.Epsilon, -T.Epsilon];
        for (int i = 0; i < n; i++)
        {
            g[i] = T.CreateChecked(rng.NextDouble() * 2 - 1);
            y[i] = i % 5 == 0 ? special[i / 5 % special.Length] : T.CreateChecked(rng.NextDouble() * 2 - 1);
        }
        return (g, y);
    }

    private static void Check<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int n = 0; n <= 70; n++)
        {
            var (g, y) = Inputs<T>(n);
            var want = new T[n];
            ReluKernels.MaskReference<T>(g, y, want);
            for (int i = 0; i < n; i++) Assert.Equal(y[i] > T.Zero ? g[i] : T.Zero, want[i]);
            var got = new T[n];
            ReluKernels.Mask<T>(g, y, got);
            Assert.Equal(want, got);
            if (Vector512.IsHardwareAccelerated)
            {
                Array.Fill(got, T.NaN);
                ReluKernels.Mask<T, Vector512<T>, Ops512<T>>(g, y, got);
                Assert.Equal(want, got);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                Array.Fill(got, T.NaN);
                ReluKernels.Mask<T, Vector256<T>, Ops256<T>>(g, y, got);
                Assert.Equal(want, got);
            }
            Array.Fill(got, T.NaN);
            ReluKernels.Mask<T, Vector128<T>, Ops128<T>>(g, y, got);
            Assert.Equal(want, got);
        }
    }

    [Fact]
    public void MaskMatchesThePlainLoopAtEveryWidth_Float() => Check<float>();

    [Fact]
    public void MaskMatchesThePlainLoopAtEveryWidth_Double() => Check<double>();
}
