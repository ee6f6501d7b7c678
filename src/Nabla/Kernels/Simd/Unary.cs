using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>A unary element-wise operator: a scalar form (the reference) and a span form (SIMD where TensorPrimitives has it).</summary>
internal interface IUnaryOperator<T>
{
    static abstract T Invoke(T x);

    static abstract void Invoke(ReadOnlySpan<T> x, Span<T> d);
}

/// <summary>The scalar loop every unary operator without a SIMD form uses, and the reference loop of those with one.</summary>
internal static class UnaryLoop
{
    public static void Run<T, TOp>(ReadOnlySpan<T> x, Span<T> d) where TOp : IUnaryOperator<T>
    {
        for (int i = 0; i < x.Length; i++) d[i] = TOp.Invoke(x[i]);
    }
}

internal readonly struct ExpOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Exp(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Exp(x, d);
}

internal readonly struct LogOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Log(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Log(x, d);
}

internal readonly struct SqrtOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Sqrt(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Sqrt(x, d);
}

internal readonly struct TanhOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Tanh(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Tanh(x, d);
}

internal readonly struct SigmoidOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.One / (T.One + T.Exp(-x));
    // TensorPrimitives.Sigmoid throws on empty spans (unlike its other ops); an empty tensor has nothing to do
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d)
    {
        if (!x.IsEmpty) TensorPrimitives.Sigmoid(x, d);
    }
}

internal readonly struct AbsOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Abs(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Abs(x, d);
}

internal readonly struct SignOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero;
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => UnaryLoop.Run<T, SignOperator<T>>(x, d);
}

internal readonly struct ReluOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    // max(0, x) but NaN stays NaN, as PyTorch's relu
    public static T Invoke(T x) => x > T.Zero || T.IsNaN(x) ? x : T.Zero;
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Max(x, T.Zero, d);
}

internal readonly struct SinOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Sin(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Sin(x, d);
}

internal readonly struct CosOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Cos(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Cos(x, d);
}

internal readonly struct ErfOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.CreateTruncating(SpecialFunctions.Erf(double.CreateTruncating(x)));
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => UnaryLoop.Run<T, ErfOperator<T>>(x, d);
}

internal static class SpecialFunctions
{
    /// <summary>The error function to ~1e-15: a positive-term series below |x| = 5, the erfc continued fraction above.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        double r;
        if (ax < 5)
        {
            // erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)): no cancellation
            double term = ax, sum = ax, x2 = ax * ax;
            for (int n = 1; n < 200 && term > sum * 1e-17; n++)
            {
                term *= 2 * x2 / (2 * n + 1);
                sum += term;
            }
            r = 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
        }
        else
        {
            // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up
            double f = ax;
            for (int k = 60; k >= 1; k--) f = ax + k / 2.0 / f;
            r = 1 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}
