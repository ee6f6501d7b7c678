using System.Numerics;

namespace Nabla;

/// <summary>
/// An op body written once for every floating-point element type: a struct holding the op's arguments whose
/// <see cref="Invoke{T}"/> runs the typed code. <see cref="DTypeDispatch.Run{TOp}"/> picks T from a dtype.
/// </summary>
internal interface IFloatOp
{
    void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>The same as <see cref="IFloatOp"/> for a body that returns a value.</summary>
internal interface IFloatFunc<out TResult>
{
    TResult Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>An op body for every dtype, floating or not (copies, gathers, allocation): T is float, double, long or bool.</summary>
internal interface IAnyOp
{
    void Invoke<T>() where T : unmanaged;
}

/// <summary>The same as <see cref="IAnyOp"/> for a body that returns a value.</summary>
internal interface IAnyFunc<out TResult>
{
    TResult Invoke<T>() where T : unmanaged;
}

/// <summary>An op body for the numeric dtypes (float32, float64, int64): comparisons, sums, sorting.</summary>
internal interface INumberOp
{
    void Invoke<T>() where T : unmanaged, INumber<T>;
}

/// <summary>
/// The one place that maps a <see cref="DType"/> to a C# element type, as ATen's AT_DISPATCH_FLOATING_TYPES does.
/// An op names its kernel call once, as a struct, and runs it for the tensor's dtype:
/// <code>
/// private readonly struct MaxPoolForward(PoolGeometry g, Tensor x, Tensor y, int[] idx) : IFloatOp
/// {
///     public void Invoke&lt;T&gt;() where T : unmanaged, IFloatingPointIeee754&lt;T&gt; =&gt; Pool.MaxForward&lt;T&gt;(g, Mem&lt;T&gt;(x), Mem&lt;T&gt;(y), idx);
/// }
/// DTypeDispatch.Run("MaxPool2d", x.DType, new MaxPoolForward(geo, x, y, idx));
/// </code>
/// The op is a struct and Run is generic over it, so the JIT compiles one copy per op with the call inlined: no
/// delegate, no allocation, the same code as a hand-written <c>if (dtype == Float32)</c>. A new dtype (int64, bool)
/// is one more case here and, for ops that take it, one more interface whose Invoke has a wider constraint.
/// </summary>
internal static class DTypeDispatch
{
    /// <summary>Runs <paramref name="body"/> for the element type of <paramref name="dtype"/>; <paramref name="op"/> names the op in errors.</summary>
    public static void Run<TOp>(string op, DType dtype, TOp body) where TOp : struct, IFloatOp
    {
        switch (dtype)
        {
            case DType.Float32: body.Invoke<float>(); break;
            case DType.Float64: body.Invoke<double>(); break;
            default: throw Unsupported(op, dtype);
        }
    }

    /// <summary>Runs <paramref name="body"/> for the element type of <paramref name="dtype"/> and returns its result.</summary>
    public static TResult Run<TOp, TResult>(string op, DType dtype, TOp body) where TOp : struct, IFloatFunc<TResult> => dtype switch
    {
        DType.Float32 => body.Invoke<float>(),
        DType.Float64 => body.Invoke<double>(),
        _ => throw Unsupported(op, dtype),
    };

    /// <summary>Runs <paramref name="body"/> for any dtype (AT_DISPATCH_ALL_TYPES_AND(Bool)).</summary>
    public static void RunAny<TOp>(string op, DType dtype, TOp body) where TOp : struct, IAnyOp
    {
        switch (dtype)
        {
            case DType.Float32: body.Invoke<float>(); break;
            case DType.Float64: body.Invoke<double>(); break;
            case DType.Int64: body.Invoke<long>(); break;
            case DType.Bool: body.Invoke<bool>(); break;
            default: throw Unsupported(op, dtype);
        }
    }

    /// <summary>Runs <paramref name="body"/> for any dtype and returns its result.</summary>
    public static TResult RunAny<TOp, TResult>(string op, DType dtype, TOp body) where TOp : struct, IAnyFunc<TResult> => dtype switch
    {
        DType.Float32 => body.Invoke<float>(),
        DType.Float64 => body.Invoke<double>(),
        DType.Int64 => body.Invoke<long>(),
        DType.Bool => body.Invoke<bool>(),
        _ => throw Unsupported(op, dtype),
    };

    /// <summary>Runs <paramref name="body"/> for float32, float64 or int64 (AT_DISPATCH_ALL_TYPES); bool is refused.</summary>
    public static void RunNumber<TOp>(string op, DType dtype, TOp body) where TOp : struct, INumberOp
    {
        switch (dtype)
        {
            case DType.Float32: body.Invoke<float>(); break;
            case DType.Float64: body.Invoke<double>(); break;
            case DType.Int64: body.Invoke<long>(); break;
            default: throw new NotSupportedException($"{op}: dtype {dtype.Name()} is not supported; expected float32, float64 or int64.");
        }
    }

    /// <summary>The error for a dtype an op has no kernel for.</summary>
    public static NotSupportedException Unsupported(string op, DType dtype) =>
        new($"{op}: dtype {dtype.Name()} is not supported; expected float32 or float64.");
}
