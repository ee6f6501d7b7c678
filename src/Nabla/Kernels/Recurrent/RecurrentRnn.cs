using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

internal static partial class RecurrentCells
{
    // ---------------- Elman RNN ----------------
    // h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh), act = tanh or relu; backward da = dh·(1 − h'²) or dh·(h' > 0)

    /// <summary>
    /// One RNN row forward: <paramref name="pre"/> (H) holds the pre-activation and is overwritten with h' (which
    /// backward needs); h' is also written to <paramref name="h"/> and <paramref name="output"/>.
    /// </summary>
    public static void RnnForward<T>(Span<T> pre, bool relu, Span<T> h, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (relu) TensorPrimitives.Max<T>(pre, T.Zero, pre);
        else TensorPrimitives.Tanh<T>(pre, pre);
        pre.CopyTo(h);
        pre.CopyTo(output);
    }

    /// <summary>The plain reference of <see cref="RnnForward{T}"/>.</summary>
    public static void RnnForwardReference<T>(Span<T> pre, bool relu, Span<T> h, Span<T> output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < pre.Length; j++)
        {
            pre[j] = relu ? (pre[j] > T.Zero ? pre[j] : T.Zero) : T.Tanh(pre[j]);
            h[j] = pre[j];
            output[j] = pre[j];
        }
    }

    /// <summary>
    /// One RNN row backward: <paramref name="dPre"/> receives the residual of the pre-activation from the residual
    /// <paramref name="dh"/> + <paramref name="dOut"/> of h' (<paramref name="y"/> = h').
    /// </summary>
    public static void RnnBackward<T>(ReadOnlySpan<T> y, bool relu, ReadOnlySpan<T> dh, ReadOnlySpan<T> dOut, Span<T> dPre)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Add<T>(dh, dOut, dPre);
        if (relu)
        {
            for (int j = 0; j < dPre.Length; j++) if (!(y[j] > T.Zero)) dPre[j] = T.Zero;
        }
        else
        {
            // dPre·(1 − y²) = dPre − dPre·y·y
            for (int j = 0; j < dPre.Length; j++) dPre[j] -= dPre[j] * y[j] * y[j];
        }
    }

    /// <summary>The plain reference of <see cref="RnnBackward{T}"/>.</summary>
    public static void RnnBackwardReference<T>(ReadOnlySpan<T> y, bool relu, ReadOnlySpan<T> dh, ReadOnlySpan<T> dOut, Span<T> dPre)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < dPre.Length; j++)
        {
            T d = dh[j] + dOut[j];
            dPre[j] = relu ? (y[j] > T.Zero ? d : T.Zero) : d * (T.One - y[j] * y[j]);
        }
    }
}
