using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>A binary element-wise operator: a scalar form (the reference) and span forms (SIMD, via TensorPrimitives).</summary>
internal interface IBinaryOperator<T>
{
    static abstract T Invoke(T x, T y);

    static abstract void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d);

    static abstract void Invoke(ReadOnlySpan<T> x, T y, Span<T> d);

    static abstract void Invoke(T x, ReadOnlySpan<T> y, Span<T> d);
}

internal readonly struct AddOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x + y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Add(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Add(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Add(y, x, d);
}

internal readonly struct SubtractOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x - y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
}

internal readonly struct MultiplyOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x * y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Multiply(y, x, d);
}

internal readonly struct DivideOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => x / y;
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Divide(x, y, d);
}

internal readonly struct MaximumOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => T.Max(x, y);
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Max(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Max(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Max(y, x, d);
}

internal readonly struct MinimumOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => T.Min(x, y);
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Min(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Min(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Min(y, x, d);
}

internal readonly struct PowOperator<T> : IBinaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x, T y) => T.Pow(x, y);
    public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
    public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
    public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Pow(x, y, d);
}

/// <summary>Comparison operators yield 1 where the relation holds and 0 elsewhere, in the inputs' dtype.</summary>
internal enum Comparison { Equal, NotEqual, Greater, GreaterOrEqual, Less, LessOrEqual }

internal static class Elementwise
{
    /// <summary>d = op(x, y) over a shape, with x and y given by offsets and (possibly 0 = broadcast) strides; d is dense.</summary>
    public static void Binary<T, TOp>(T[] x, int xOffset, ReadOnlySpan<int> xStrides, T[] y, int yOffset, ReadOnlySpan<int> yStrides,
        T[] d, ReadOnlySpan<int> shape) where TOp : IBinaryOperator<T>
    {
        var dStrides = Nabla.ShapeUtil.ContiguousStrides(shape);
        Strided.ForEachRow(shape, xStrides, xOffset, yStrides, yOffset, dStrides, 0, (n, ox, sx, oy, sy, od, _) =>
        {
            var dst = d.AsSpan(od, n);
            if (sx == 1 && sy == 1) TOp.Invoke(x.AsSpan(ox, n), y.AsSpan(oy, n), dst);
            else if (sx == 1 && sy == 0) TOp.Invoke(x.AsSpan(ox, n), y[oy], dst);
            else if (sx == 0 && sy == 1) TOp.Invoke(x[ox], y.AsSpan(oy, n), dst);
            else for (int i = 0; i < n; i++) dst[i] = TOp.Invoke(x[ox + i * sx], y[oy + i * sy]);
        });
    }

    public static bool Compare<T>(Comparison c, T x, T y) where T : IFloatingPointIeee754<T> => c switch
    {
        Comparison.Equal => x == y,
        Comparison.NotEqual => x != y,
        Comparison.Greater => x > y,
        Comparison.GreaterOrEqual => x >= y,
        Comparison.Less => x < y,
        _ => x <= y,
    };

    public static void Compare<T>(Comparison c, T[] x, int xOffset, ReadOnlySpan<int> xStrides, T[] y, int yOffset, ReadOnlySpan<int> yStrides,
        T[] d, ReadOnlySpan<int> shape) where T : IFloatingPointIeee754<T>
    {
        var dStrides = Nabla.ShapeUtil.ContiguousStrides(shape);
        Strided.ForEachRow(shape, xStrides, xOffset, yStrides, yOffset, dStrides, 0, (n, ox, sx, oy, sy, od, _) =>
        {
            for (int i = 0; i < n; i++) d[od + i] = Compare(c, x[ox + i * sx], y[oy + i * sy]) ? T.One : T.Zero;
        });
    }
}
