namespace Nabla;

/// <summary>The element type of a <see cref="Tensor"/>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: the type models train in.</summary>
    Float32,

    /// <summary>64-bit IEEE float: the type <see cref="Autograd.GradCheck"/> runs in.</summary>
    Float64,
}

internal static class DTypeExtensions
{
    /// <summary>The dtype of a storage array.</summary>
    public static DType Of(Array storage) => storage switch
    {
        float[] => DType.Float32,
        double[] => DType.Float64,
        _ => throw new ArgumentException($"Tensor: storage of type {storage.GetType().Name} is not supported; expected float[] or double[]."),
    };

    /// <summary>The machine epsilon (torch.finfo(dtype).eps): the gap between 1 and the next value. .NET's float.Epsilon is the smallest subnormal instead.</summary>
    public static double Eps(this DType t) => t switch
    {
        DType.Float32 => Math.Pow(2, -23),
        DType.Float64 => Math.Pow(2, -52),
        _ => throw DTypeDispatch.Unsupported("Eps", t),
    };

    public static string Name(this DType t) => t switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        _ => t.ToString(),
    };

    public static int ElementSize(this DType t) => t switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        _ => throw DTypeDispatch.Unsupported("ElementSize", t),
    };
}
