using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

internal readonly struct FloorOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Floor(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Floor(x, d);
}

internal readonly struct CeilOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Ceiling(x);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Ceiling(x, d);
}

// half to even, as PyTorch's round (and IEEE 754's default rounding)
internal readonly struct RoundOperator<T> : IUnaryOperator<T> where T : IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Round(x, MidpointRounding.ToEven);
    public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Round(x, MidpointRounding.ToEven, d);
}
