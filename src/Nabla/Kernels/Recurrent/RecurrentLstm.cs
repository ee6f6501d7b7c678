using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// The fused pointwise part of one recurrent step, one row (one sample) at a time: gate activations, the state
/// update and the output, and the hand-written backward of the same. The GEMMs around them (input projection of all
/// steps, h·W_hhᵀ per step, dG·W_hh per step) are the caller's. Gate order as PyTorch (LSTM i, f, g, o; GRU r, z, n).
/// Each fast kernel has a plain scalar reference beside it that the tests compare against.
/// </summary>
internal static partial class RecurrentCells
{
    // ---------------- LSTM ----------------
    // i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o); c' = f·c + i·g; h' = o·tanh(c')

    /// <summary>
    /// One LSTM row forward. <paramref name="gates"/> (4H) holds the pre-activations a = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh
    /// and is overwritten with the activated gates (i, f, g, o), which backward needs. <paramref name="c"/> goes from
    /// c to c', <paramref name="h"/> is overwritten with h', which is also written to <paramref name="output"/>.
    /// <paramref name="cPrev"/> (may be empty) receives c; <paramref name="tanhC"/> receives tanh(c').
    /// </summary>
    public static void LstmForward<T>(Span<T> gates, Span<T> c, Span<T> h, Span<T> output, Span<T> cPrev, Span<T> tanhC)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // TensorPrimitives' vectorised σ and tanh (faster here than Vector512.Exp), then the state update
        int n = c.Length;
        var sif = gates[..(2 * n)];
        TensorPrimitives.Sigmoid<T>(sif, sif);
        var g = gates.Slice(2 * n, n);
        TensorPrimitives.Tanh<T>(g, g);
        var o = gates.Slice(3 * n, n);
        TensorPrimitives.Sigmoid<T>(o, o);
        if (!cPrev.IsEmpty) c.CopyTo(cPrev);
        // c' = f·c + i·g, via i·g into h (free until h' is written)
        TensorPrimitives.Multiply<T>(gates[..n], g, h);
        TensorPrimitives.FusedMultiplyAdd<T>(gates.Slice(n, n), c, h, c);
        TensorPrimitives.Tanh<T>(c, tanhC);
        TensorPrimitives.Multiply<T>(o, tanhC, h);
        h.CopyTo(output);
    }

    /// <summary>The plain reference of <see cref="LstmForward{T}"/> (same arguments, scalar loops).</summary>
    public static void LstmForwardReference<T>(Span<T> gates, Span<T> c, Span<T> h, Span<T> output, Span<T> cPrev, Span<T> tanhC)
        where T : unmanaged, IFloatingPointIeee754<T>
        => LstmForwardScalar(gates, c, h, output, cPrev, tanhC, 0);

    private static void LstmForwardScalar<T>(Span<T> gates, Span<T> c, Span<T> h, Span<T> output, Span<T> cPrev, Span<T> tanhC, int from)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = c.Length;
        for (int j = from; j < n; j++)
        {
            T i = Sigmoid(gates[j]), f = Sigmoid(gates[n + j]), g = T.Tanh(gates[2 * n + j]), o = Sigmoid(gates[3 * n + j]);
            (gates[j], gates[n + j], gates[2 * n + j], gates[3 * n + j]) = (i, f, g, o);
            if (!cPrev.IsEmpty) cPrev[j] = c[j];
            c[j] = f * c[j] + i * g;
            tanhC[j] = T.Tanh(c[j]);
            h[j] = o * tanhC[j];
            output[j] = h[j];
        }
    }

    // The LSTM backward, with dh = (residual from the next step) + (residual of this step's output):
    //   dc_total = dc + dh·o·(1 − tanh²c'),  dc_prev = dc_total·f
    //   da_i = dc_total·g·i(1−i), da_f = dc_total·c·f(1−f), da_g = dc_total·i·(1−g²), da_o = dh·tanh c'·o(1−o)

    /// <summary>
    /// One LSTM row backward. <paramref name="dh"/> + <paramref name="dOut"/> is the residual of h'; <paramref name="dc"/>
    /// goes from the residual of c' to that of c. <paramref name="dGates"/> (4H) receives the residual of the
    /// pre-activations (from which the caller computes dW, db, dx and the recurrent part of dh).
    /// </summary>
    public static void LstmBackward<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> tanhC, ReadOnlySpan<T> dh,
        ReadOnlySpan<T> dOut, Span<T> dc, Span<T> dGates) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dc.Length;
        if (gates.Length < 4 * n || cPrev.Length < n || tanhC.Length < n || dh.Length < n || dOut.Length < n || dGates.Length < 4 * n)
            throw new ArgumentException($"RecurrentCells.LstmBackward: spans too short for hidden size {n} (gates and dGates need 4H).");
        if (VectorOps.Bits == 512) LstmBackward<T, Vector512<T>, Ops512<T>>(gates, cPrev, tanhC, dh, dOut, dc, dGates);
        else if (VectorOps.Bits == 256) LstmBackward<T, Vector256<T>, Ops256<T>>(gates, cPrev, tanhC, dh, dOut, dc, dGates);
        else LstmBackward<T, Vector128<T>, Ops128<T>>(gates, cPrev, tanhC, dh, dOut, dc, dGates);
    }

    /// <summary>
    /// <see cref="LstmBackward{T}"/> at one vector width: whole vectors element-wise with the scalar loop's operations in its
    /// order (so the same values at every width), then the scalar tail.
    /// </summary>
    internal static void LstmBackward<T, TV, TOps>(ReadOnlySpan<T> gates, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> tanhC, ReadOnlySpan<T> dh,
        ReadOnlySpan<T> dOut, Span<T> dc, Span<T> dGates)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int n = dc.Length, w = TOps.Count, j = 0;
        var one = TOps.Broadcast(T.One);
        for (; j <= n - w; j += w)
        {
            TV i = TOps.Load(gates, j), f = TOps.Load(gates, n + j), g = TOps.Load(gates, 2 * n + j), o = TOps.Load(gates, 3 * n + j);
            TV tc = TOps.Load(tanhC, j);
            TV dhT = TOps.Add(TOps.Load(dh, j), TOps.Load(dOut, j));
            TV dcT = TOps.Add(TOps.Load(dc, j), TOps.Mul(TOps.Mul(dhT, o), TOps.Sub(one, TOps.Mul(tc, tc))));
            TOps.Store(TOps.Mul(dcT, f), dc, j);
            TOps.Store(TOps.Mul(TOps.Mul(TOps.Mul(dcT, g), i), TOps.Sub(one, i)), dGates, j);
            TOps.Store(TOps.Mul(TOps.Mul(TOps.Mul(dcT, TOps.Load(cPrev, j)), f), TOps.Sub(one, f)), dGates, n + j);
            TOps.Store(TOps.Mul(TOps.Mul(dcT, i), TOps.Sub(one, TOps.Mul(g, g))), dGates, 2 * n + j);
            TOps.Store(TOps.Mul(TOps.Mul(TOps.Mul(dhT, tc), o), TOps.Sub(one, o)), dGates, 3 * n + j);
        }
        LstmBackwardScalar(gates, cPrev, tanhC, dh, dOut, dc, dGates, j);
    }

    /// <summary>The plain reference of <see cref="LstmBackward{T}"/>.</summary>
    public static void LstmBackwardReference<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> tanhC, ReadOnlySpan<T> dh,
        ReadOnlySpan<T> dOut, Span<T> dc, Span<T> dGates) where T : unmanaged, IFloatingPointIeee754<T>
        => LstmBackwardScalar(gates, cPrev, tanhC, dh, dOut, dc, dGates, 0);

    private static void LstmBackwardScalar<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> tanhC, ReadOnlySpan<T> dh,
        ReadOnlySpan<T> dOut, Span<T> dc, Span<T> dGates, int from) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dc.Length;
        for (int j = from; j < n; j++)
        {
            T i = gates[j], f = gates[n + j], g = gates[2 * n + j], o = gates[3 * n + j], tc = tanhC[j];
            T dhT = dh[j] + dOut[j];
            T dcT = dc[j] + dhT * o * (T.One - tc * tc);
            dc[j] = dcT * f;
            dGates[j] = dcT * g * i * (T.One - i);
            dGates[n + j] = dcT * cPrev[j] * f * (T.One - f);
            dGates[2 * n + j] = dcT * i * (T.One - g * g);
            dGates[3 * n + j] = dhT * tc * o * (T.One - o);
        }
    }

    private static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));
}
