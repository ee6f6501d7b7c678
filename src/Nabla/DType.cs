namespace Nabla;

/// <summary>The element type of a <see cref="Tensor"/>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: the type models train in (torch.float32).</summary>
    Float32,

    /// <summary>64-bit IEEE float: the type <see cref="Autograd.GradCheck"/> runs in (torch.float64).</summary>
    Float64,

    /// <summary>64-bit signed integer (torch.int64, torch.long): class targets, indices, ArgMax, counters.</summary>
    Int64,

    /// <summary>true/false (torch.bool): what comparisons return, masks for Where and MaskedFill.</summary>
    Bool,
}

/// <summary>Facts about a <see cref="DType"/>.</summary>
public static class DTypeExtensions
{
    /// <summary>The dtype of a storage array.</summary>
    internal static DType Of(Array storage) => storage switch
    {
        float[] => DType.Float32,
        double[] => DType.Float64,
        long[] => DType.Int64,
        bool[] => DType.Bool,
        _ => throw new ArgumentException($"Tensor: storage of type {storage.GetType().Name} is not supported; expected float[], double[], long[] or bool[]."),
    };

    /// <summary>True for float32 and float64 (torch.is_floating_point): the dtypes that can require gradients.</summary>
    public static bool IsFloatingPoint(this DType t) => t is DType.Float32 or DType.Float64;

    /// <summary>The machine epsilon (torch.finfo(dtype).eps): the gap between 1 and the next value. .NET's float.Epsilon is the smallest subnormal instead.</summary>
    internal static double Eps(this DType t) => t switch
    {
        DType.Float32 => Math.Pow(2, -23),
        DType.Float64 => Math.Pow(2, -52),
        _ => throw DTypeDispatch.Unsupported("Eps", t),
    };

    /// <summary>PyTorch's name without the "torch." prefix: float32, float64, int64, bool.</summary>
    public static string Name(this DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int64 => "int64",
        DType.Bool => "bool",
        _ => t.ToString(),
    };

    /// <summary>Bytes per element (torch.dtype.itemsize).</summary>
    public static int ElementSize(this DType t) => t switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        DType.Int64 => 8,
        DType.Bool => 1,
        _ => throw DTypeDispatch.Unsupported("ElementSize", t),
    };

    /// <summary>
    /// The dtype of an op on tensors of dtypes <paramref name="a"/> and <paramref name="b"/>, as torch.result_type:
    /// bool &lt; int64 &lt; float, so a mask times a float tensor is that float tensor's dtype. Mixing float32 with
    /// float64 is refused (convert one with To), so a float32 model never silently computes in float64.
    /// </summary>
    internal static DType Promote(string op, DType a, DType b)
    {
        if (a == b) return a;
        if (a.IsFloatingPoint() && b.IsFloatingPoint())
            throw new ArgumentException($"{op}: dtypes differ ({a.Name()} vs {b.Name()}); convert one with To(DType).");
        if (a.IsFloatingPoint()) return a;
        if (b.IsFloatingPoint()) return b;
        return DType.Int64;   // int64 with bool
    }
}
