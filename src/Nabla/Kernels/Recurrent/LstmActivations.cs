using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// σ and tanh on one vector, for the fused LSTM step's epilogue (<see cref="LstmFused"/>): σ(x) = 1/(1 + e^−x);
/// tanh(x) = 1 − 2/(e^2x + 1), and its odd Taylor polynomial to x⁷ where |x| is small (there the first form loses
/// relative accuracy to cancellation). Both saturate correctly (e^x overflows to ∞) and pass NaN through.
/// </summary>
internal interface ILstmActivations<TV>
{
    static abstract TV Sigmoid(TV x);

    static abstract TV Tanh(TV x);
}

/// <summary>The constants of <see cref="ILstmActivations{TV}"/>'s tanh.</summary>
internal static class TanhSeries<T> where T : IFloatingPointIeee754<T>
{
    public static readonly T C3 = T.CreateTruncating(-1.0 / 3), C5 = T.CreateTruncating(2.0 / 15), C7 = T.CreateTruncating(-17.0 / 315);

    // below it the series' first dropped term (62/2835·x⁹) is under the type's rounding
    public static readonly T Small = T.CreateTruncating(typeof(T) == typeof(float) ? 0.125 : 1.0 / 64);
}

internal readonly struct LstmAct512<T> : ILstmActivations<Vector512<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Exp(Vector512<T> x) => typeof(T) == typeof(float)
        ? Vector512.Exp(x.AsSingle()).As<float, T>()
        : Vector512.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sigmoid(Vector512<T> x) => Vector512<T>.One / (Vector512<T>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Tanh(Vector512<T> x)
    {
        var one = Vector512<T>.One;
        var big = one - (one + one) / (Exp(x + x) + one);
        var x2 = x * x;
        var poly = x + x * x2 * (Vector512.Create(TanhSeries<T>.C3) + x2 * (Vector512.Create(TanhSeries<T>.C5) + x2 * Vector512.Create(TanhSeries<T>.C7)));
        return Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Abs(x), Vector512.Create(TanhSeries<T>.Small)), poly, big);
    }
}

internal readonly struct LstmAct256<T> : ILstmActivations<Vector256<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Exp(Vector256<T> x) => typeof(T) == typeof(float)
        ? Vector256.Exp(x.AsSingle()).As<float, T>()
        : Vector256.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sigmoid(Vector256<T> x) => Vector256<T>.One / (Vector256<T>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Tanh(Vector256<T> x)
    {
        var one = Vector256<T>.One;
        var big = one - (one + one) / (Exp(x + x) + one);
        var x2 = x * x;
        var poly = x + x * x2 * (Vector256.Create(TanhSeries<T>.C3) + x2 * (Vector256.Create(TanhSeries<T>.C5) + x2 * Vector256.Create(TanhSeries<T>.C7)));
        return Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs(x), Vector256.Create(TanhSeries<T>.Small)), poly, big);
    }
}

internal readonly struct LstmAct128<T> : ILstmActivations<Vector128<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<T> Exp(Vector128<T> x) => typeof(T) == typeof(float)
        ? Vector128.Exp(x.AsSingle()).As<float, T>()
        : Vector128.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Sigmoid(Vector128<T> x) => Vector128<T>.One / (Vector128<T>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Tanh(Vector128<T> x)
    {
        var one = Vector128<T>.One;
        var big = one - (one + one) / (Exp(x + x) + one);
        var x2 = x * x;
        var poly = x + x * x2 * (Vector128.Create(TanhSeries<T>.C3) + x2 * (Vector128.Create(TanhSeries<T>.C5) + x2 * Vector128.Create(TanhSeries<T>.C7)));
        return Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Abs(x), Vector128.Create(TanhSeries<T>.Small)), poly, big);
    }
}
