using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// Softmax and log-softmax over the rows of dense data (the last dim), forward and backward, one fused pass per row
/// instead of five tensor ops: the same operations as the composed form (max, subtract, exp, sum, divide), so the
/// same results. Rows are split into parts by size only.
/// </summary>
internal static class Softmax
{
    private static void RunRows(int rows, int n, Action<int, int> body)
    {
        int parts = (int)Math.Clamp((long)rows * n >> 15, 1, Math.Min(rows, 16));
        if (parts == 1) body(0, rows);
        else Threading.For(parts, p => body((int)((long)p * rows / parts), (int)((long)(p + 1) * rows / parts)));
    }

    /// <summary>y = softmax(x) (or log-softmax) of each of <paramref name="rows"/> rows of <paramref name="n"/> values.</summary>
    public static void Forward<T>(ReadOnlyMemory<T> x, int rows, int n, Memory<T> y, bool log) where T : unmanaged, IFloatingPointIeee754<T>, IExponentialFunctions<T>, ILogarithmicFunctions<T>
    {
        RunRows(rows, n, (r0, r1) =>
        {
            var xs = x.Span;
            var ys = y.Span;
            // (TensorPrimitives.Exp runs several times slower in place, hence the scratch row)
            var tmp = Scratch<T>.Get(n);
            for (int r = r0; r < r1; r++)
            {
                var xr = xs.Slice(r * n, n);
                var yr = ys.Slice(r * n, n);
                T m = TensorPrimitives.Max(xr);
                if (log)
                {
                    // y = (x − max) − log Σ exp(x − max)
                    TensorPrimitives.Subtract(xr, m, yr);
                    TensorPrimitives.Exp(yr, tmp);
                    TensorPrimitives.Subtract(yr, T.Log(TensorPrimitives.Sum(tmp)), yr);
                }
                else
                {
                    TensorPrimitives.Subtract(xr, m, tmp);
                    TensorPrimitives.Exp(tmp, yr);
                    TensorPrimitives.Divide(yr, TensorPrimitives.Sum(yr), yr);
                }
            }
        });
    }

    /// <summary>
    /// dx from the output y and the residual g: softmax dx = y·(g − Σ g·y); log-softmax dx = g − exp(y)·Σ g.
    /// </summary>
    public static void Backward<T>(ReadOnlyMemory<T> y, ReadOnlyMemory<T> g, int rows, int n, Memory<T> dx, bool log) where T : unmanaged, IFloatingPointIeee754<T>, IExponentialFunctions<T>
    {
        RunRows(rows, n, (r0, r1) =>
        {
            var ys = y.Span;
            var gs = g.Span;
            var ds = dx.Span;
            for (int r = r0; r < r1; r++)
            {
                var yr = ys.Slice(r * n, n);
                var gr = gs.Slice(r * n, n);
                var dr = ds.Slice(r * n, n);
                if (log)
                {
                    T s = TensorPrimitives.Sum(gr);
                    TensorPrimitives.Exp(yr, dr);
                    TensorPrimitives.Multiply(dr, s, dr);
                    TensorPrimitives.Subtract(gr, dr, dr);
                }
                else
                {
                    T dot = TensorPrimitives.Dot(gr, yr);
                    TensorPrimitives.Subtract(gr, dot, dr);
                    TensorPrimitives.Multiply(dr, yr, dr);
                }
            }
        });
    }

    /// <summary>The plain loops, the reference the tests compare against.</summary>
    public static void ForwardReference(ReadOnlySpan<double> x, int rows, int n, Span<double> y, bool log)
    {
        for (int r = 0; r < rows; r++)
        {
            double m = double.NegativeInfinity, s = 0;
            for (int i = 0; i < n; i++) m = Math.Max(m, x[r * n + i]);
            for (int i = 0; i < n; i++) s += Math.Exp(x[r * n + i] - m);
            for (int i = 0; i < n; i++) y[r * n + i] = log ? x[r * n + i] - m - Math.Log(s) : Math.Exp(x[r * n + i] - m) / s;
        }
    }
}
