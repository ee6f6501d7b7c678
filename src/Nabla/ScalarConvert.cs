using System.Runtime.CompilerServices;

namespace Nabla;

/// <summary>
/// Element conversions between the four storage types (float, double, long, bool), as PyTorch's casts: a float becomes
/// an integer by truncation toward zero (NaN → 0, out of range saturates), anything non-zero (NaN included) is true,
/// and true is 1. Generic over the element types: the JIT keeps only the branch that applies.
/// </summary>
internal static class ScalarConvert
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TDst Convert<TSrc, TDst>(TSrc v) where TSrc : unmanaged where TDst : unmanaged
    {
        if (typeof(TSrc) == typeof(TDst)) return Unsafe.As<TSrc, TDst>(ref v);
        if (typeof(TSrc) == typeof(long))
        {
            long l = Unsafe.As<TSrc, long>(ref v);
            if (typeof(TDst) == typeof(float)) { float f = l; return Unsafe.As<float, TDst>(ref f); }
            if (typeof(TDst) == typeof(bool)) { bool b = l != 0; return Unsafe.As<bool, TDst>(ref b); }
        }
        if (typeof(TDst) == typeof(long))
        {
            long l = typeof(TSrc) == typeof(bool) ? (Unsafe.As<TSrc, bool>(ref v) ? 1 : 0) : (long)ToDouble(v);
            return Unsafe.As<long, TDst>(ref l);
        }
        return FromDouble<TDst>(ToDouble(v));
    }

    /// <summary>The value as a double (a long beyond 2^53 rounds).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble<T>(T v) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return Unsafe.As<T, float>(ref v);
        if (typeof(T) == typeof(double)) return Unsafe.As<T, double>(ref v);
        if (typeof(T) == typeof(long)) return Unsafe.As<T, long>(ref v);
        if (typeof(T) == typeof(bool)) return Unsafe.As<T, bool>(ref v) ? 1 : 0;
        throw new NotSupportedException($"ScalarConvert: element type {typeof(T).Name} is not a tensor element type.");
    }

    /// <summary>A double as the element type T (truncated toward zero for long; non-zero is true for bool).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T FromDouble<T>(double v) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) { float f = (float)v; return Unsafe.As<float, T>(ref f); }
        if (typeof(T) == typeof(double)) return Unsafe.As<double, T>(ref v);
        if (typeof(T) == typeof(long)) { long l = double.IsNaN(v) ? 0 : (long)v; return Unsafe.As<long, T>(ref l); }
        if (typeof(T) == typeof(bool)) { bool b = v != 0; return Unsafe.As<bool, T>(ref b); }
        throw new NotSupportedException($"ScalarConvert: element type {typeof(T).Name} is not a tensor element type.");
    }
}
