using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>Row and column reductions over dense data; every result is summed in a fixed order.</summary>
internal static class Reduce
{
    /// <summary>d[r] = Σ x[r·n .. r·n+n) for each of rows rows.</summary>
    public static void SumRows<T>(ReadOnlySpan<T> x, int rows, int n, Span<T> d) where T : IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++) d[r] = TensorPrimitives.Sum(x.Slice(r * n, n));
    }

    /// <summary>The plain reference of <see cref="SumRows{T}"/>.</summary>
    public static void SumRowsReference<T>(ReadOnlySpan<T> x, int rows, int n, Span<T> d) where T : IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            T s = T.Zero;
            for (int i = 0; i < n; i++) s += x[r * n + i];
            d[r] = s;
        }
    }

    /// <summary>d[j] = Σ_r x[r, j] for an [outer, inner] block (a sum over leading dims, e.g. a bias gradient).</summary>
    public static void SumColumns<T>(ReadOnlySpan<T> x, int outer, int inner, Span<T> d) where T : IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            // a full reduction (the sum or mean of a loss): one SIMD sum, not a call per element
            d[0] = TensorPrimitives.Sum(x.Slice(0, outer));
            return;
        }
        if (inner < 16)
        {
            // rows too short for a SIMD add each: a plain loop, each column summed in row order
            d.Slice(0, inner).Clear();
            for (int r = 0; r < outer; r++)
                for (int j = 0; j < inner; j++) d[j] += x[r * inner + j];
            return;
        }
        d.Slice(0, inner).Clear();
        for (int r = 0; r < outer; r++) TensorPrimitives.Add(d.Slice(0, inner), x.Slice(r * inner, inner), d.Slice(0, inner));
    }

    /// <summary>Max (or min) of each row with the index of its first occurrence; NaN wins, as in PyTorch.</summary>
    public static void ArgExtremeRows<T>(ReadOnlySpan<T> x, int rows, int n, bool max, Span<T> values, Span<int> indices) where T : IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * n, n);
            int best = 0;
            T v = row[0];
            for (int i = 1; i < n && !T.IsNaN(v); i++)
            {
                T c = row[i];
                if (T.IsNaN(c) || (max ? c > v : c < v))
                {
                    v = c;
                    best = i;
                }
            }
            values[r] = v;
            indices[r] = best;
        }
    }
}
