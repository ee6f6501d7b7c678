namespace Nabla.Tests;

/// <summary>
/// Reference helpers for the forward-value tests: row-major index arithmetic on plain arrays (never the library's
/// kernels), as llm.c checks each kernel against a CPU reference.
/// </summary>
internal static class ForwardReference
{
    internal static int Numel(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    internal static int[] Unravel(int flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            idx[d] = flat % shape[d];
            flat /= shape[d];
        }
        return idx;
    }

    internal static int Ravel(int[] idx, int[] shape)
    {
        int flat = 0;
        for (int d = 0; d < shape.Length; d++) flat = flat * shape[d] + idx[d];
        return flat;
    }

    // the element of a (shape sa) that broadcasting maps to output index outIdx
    internal static double At(double[] a, int[] sa, int[] outIdx)
    {
        int lead = outIdx.Length - sa.Length;
        var idx = new int[sa.Length];
        for (int d = 0; d < sa.Length; d++) idx[d] = sa[d] == 1 ? 0 : outIdx[d + lead];
        return a[Ravel(idx, sa)];
    }

    internal static double[] Values(Tensor t) => t.ToDoubleArray();

    internal static Tensor Randn(ulong seed, params int[] shape) => Tensor.Randn(shape, DType.Float64, new Generator(seed));

    internal static void Close(double[] expected, double[] actual, double rel = 1e-12, double abs = 1e-14)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]);
            Assert.True(err <= abs + rel * Math.Abs(expected[i]) || (double.IsNaN(expected[i]) && double.IsNaN(actual[i])),
                $"element {i}: expected {expected[i]:G17}, got {actual[i]:G17} (|diff| {err:G3})");
        }
    }
}
