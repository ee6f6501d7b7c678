using System.Numerics;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>The ReLU backward: dx = g where y &gt; 0, else 0 (y = relu(x) is positive exactly where x is; the gradient at 0 is 0, as PyTorch).</summary>
internal static class ReluKernels
{
    /// <summary>dx = g·(y &gt; 0) in one pass: a compare and an and-mask per vector, at the widest accelerated width.</summary>
    public static void Mask<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> y, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (VectorOps.Bits == 512) Mask<T, Vector512<T>, Ops512<T>>(g, y, dx);
        else if (VectorOps.Bits == 256) Mask<T, Vector256<T>, Ops256<T>>(g, y, dx);
        else Mask<T, Vector128<T>, Ops128<T>>(g, y, dx);
    }

    internal static void Mask<T, TV, TOps>(ReadOnlySpan<T> g, ReadOnlySpan<T> y, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        if (g.Length < dx.Length || y.Length < dx.Length)
            throw new ArgumentException($"ReluKernels.Mask: g ({g.Length}) and y ({y.Length}) must be at least as long as dx ({dx.Length}).");
        int i = 0, w = TOps.Count;
        for (; i <= dx.Length - w; i += w)
            TOps.Store(TOps.And(TOps.GreaterThan(TOps.Load(y, i), default), TOps.Load(g, i)), dx, i);
        MaskReference(g[i..], y[i..], dx[i..]);
    }

    /// <summary>The plain loop: the reference for the vector path, and its tail.</summary>
    public static void MaskReference<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> y, Span<T> dx) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < dx.Length; i++) dx[i] = y[i] > T.Zero ? g[i] : T.Zero;
    }
}
