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
    public static string Name(this DType t) => t == DType.Float32 ? "float32" : "float64";

    public static int ElementSize(this DType t) => t == DType.Float32 ? 4 : 8;
}
