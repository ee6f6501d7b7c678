using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

internal static partial class RecurrentCells
{
    // ---------------- GRU ----------------
    // r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r·h_n), h' = (1 − z)·n + z·h
    // where x_* = x·W_i*ᵀ + b_i* and h_* = h·W_h*ᵀ + b_h* (b_hn stays inside r·(…), as PyTorch)

    /// <summary>
    /// One GRU row forward. <paramref name="gates"/> (3H) holds the input projection (x_r, x_z, x_n) and is
    /// overwritten with (r, z, n); <paramref name="hg"/> (3H) is the recurrent projection (h_r, h_z, h_n).
    /// <paramref name="h"/> goes from h to h', also written to <paramref name="output"/>; <paramref name="hnSave"/>
    /// (may be empty) receives h_n, which backward needs.
    /// </summary>
    public static void GruForward<T>(Span<T> gates, ReadOnlySpan<T> hg, Span<T> h, Span<T> output, Span<T> hnSave)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = h.Length;
        var rz = gates[..(2 * n)];
        TensorPrimitives.Add<T>(rz, hg[..(2 * n)], rz);
        TensorPrimitives.Sigmoid<T>(rz, rz);
        var r = gates[..n];
        var z = gates.Slice(n, n);
        var nn = gates.Slice(2 * n, n);
        var hn = hg.Slice(2 * n, n);
        TensorPrimitives.FusedMultiplyAdd<T>(r, hn, nn, nn);
        TensorPrimitives.Tanh<T>(nn, nn);
        // h' = z·(h − n) + n
        TensorPrimitives.Subtract<T>(h, nn, h);
        TensorPrimitives.FusedMultiplyAdd<T>(z, h, nn, h);
        h.CopyTo(output);
        if (!hnSave.IsEmpty) hn.CopyTo(hnSave);
    }

    /// <summary>The plain reference of <see cref="GruForward{T}"/>.</summary>
    public static void GruForwardReference<T>(Span<T> gates, ReadOnlySpan<T> hg, Span<T> h, Span<T> output, Span<T> hnSave)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = h.Length;
        for (int j = 0; j < n; j++)
        {
            T r = Sigmoid(gates[j] + hg[j]), z = Sigmoid(gates[n + j] + hg[n + j]);
            T nv = T.Tanh(gates[2 * n + j] + r * hg[2 * n + j]);
            (gates[j], gates[n + j], gates[2 * n + j]) = (r, z, nv);
            h[j] = (T.One - z) * nv + z * h[j];
            output[j] = h[j];
            if (!hnSave.IsEmpty) hnSave[j] = hg[2 * n + j];
        }
    }

    // The GRU backward, with dh = (residual from the next step) + (residual of this step's output):
    //   da_n = dh·(1 − z)·(1 − n²);  da_z = dh·(h − n)·z(1 − z);  da_r = da_n·h_n·r(1 − r)
    //   d(x-projection) = (da_r, da_z, da_n), d(h-projection) = (da_r, da_z, da_n·r), dh_prev (direct part) = dh·z

    /// <summary>
    /// One GRU row backward: <paramref name="dX"/> (3H) receives the residual of the input projection,
    /// <paramref name="dHg"/> (3H) that of the recurrent projection, <paramref name="dhPrev"/> (H) the direct part
    /// dh·z of the residual of h (the caller adds dHg·W_hh).
    /// </summary>
    public static void GruBackward<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> hn, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh,
        ReadOnlySpan<T> dOut, Span<T> dX, Span<T> dHg, Span<T> dhPrev) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dhPrev.Length;
        if (gates.Length < 3 * n || hn.Length < n || hPrev.Length < n || dh.Length < n || dOut.Length < n || dX.Length < 3 * n || dHg.Length < 3 * n)
            throw new ArgumentException($"RecurrentCells.GruBackward: spans too short for hidden size {n} (gates, dX and dHg need 3H).");
        if (VectorOps.Bits == 512) GruBackward<T, Vector512<T>, Ops512<T>>(gates, hn, hPrev, dh, dOut, dX, dHg, dhPrev);
        else if (VectorOps.Bits == 256) GruBackward<T, Vector256<T>, Ops256<T>>(gates, hn, hPrev, dh, dOut, dX, dHg, dhPrev);
        else GruBackward<T, Vector128<T>, Ops128<T>>(gates, hn, hPrev, dh, dOut, dX, dHg, dhPrev);
    }

    /// <summary>
    /// <see cref="GruBackward{T}"/> at one vector width: whole vectors element-wise with the scalar loop's operations in its
    /// order (so the same values at every width), then the scalar tail.
    /// </summary>
    internal static void GruBackward<T, TV, TOps>(ReadOnlySpan<T> gates, ReadOnlySpan<T> hn, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh,
        ReadOnlySpan<T> dOut, Span<T> dX, Span<T> dHg, Span<T> dhPrev)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int n = dhPrev.Length, w = TOps.Count, j = 0;
        var one = TOps.Broadcast(T.One);
        for (; j <= n - w; j += w)
        {
            TV r = TOps.Load(gates, j), z = TOps.Load(gates, n + j), nv = TOps.Load(gates, 2 * n + j);
            TV dhT = TOps.Add(TOps.Load(dh, j), TOps.Load(dOut, j));
            TV dan = TOps.Mul(TOps.Mul(dhT, TOps.Sub(one, z)), TOps.Sub(one, TOps.Mul(nv, nv)));
            TV daz = TOps.Mul(TOps.Mul(TOps.Mul(dhT, TOps.Sub(TOps.Load(hPrev, j), nv)), z), TOps.Sub(one, z));
            TV dar = TOps.Mul(TOps.Mul(TOps.Mul(dan, TOps.Load(hn, j)), r), TOps.Sub(one, r));
            TOps.Store(dar, dX, j);
            TOps.Store(daz, dX, n + j);
            TOps.Store(dan, dX, 2 * n + j);
            TOps.Store(dar, dHg, j);
            TOps.Store(daz, dHg, n + j);
            TOps.Store(TOps.Mul(dan, r), dHg, 2 * n + j);
            TOps.Store(TOps.Mul(dhT, z), dhPrev, j);
        }
        GruBackwardScalar(gates, hn, hPrev, dh, dOut, dX, dHg, dhPrev, j);
    }

    /// <summary>The plain reference of <see cref="GruBackward{T}"/>.</summary>
    public static void GruBackwardReference<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> hn, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh,
        ReadOnlySpan<T> dOut, Span<T> dX, Span<T> dHg, Span<T> dhPrev) where T : unmanaged, IFloatingPointIeee754<T>
        => GruBackwardScalar(gates, hn, hPrev, dh, dOut, dX, dHg, dhPrev, 0);

    private static void GruBackwardScalar<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> hn, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh,
        ReadOnlySpan<T> dOut, Span<T> dX, Span<T> dHg, Span<T> dhPrev, int from) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = dhPrev.Length;
        for (int j = from; j < n; j++)
        {
            T r = gates[j], z = gates[n + j], nv = gates[2 * n + j];
            T dhT = dh[j] + dOut[j];
            T dan = dhT * (T.One - z) * (T.One - nv * nv);
            T daz = dhT * (hPrev[j] - nv) * z * (T.One - z);
            T dar = dan * hn[j] * r * (T.One - r);
            (dX[j], dX[n + j], dX[2 * n + j]) = (dar, daz, dan);
            (dHg[j], dHg[n + j], dHg[2 * n + j]) = (dar, daz, dan * r);
            dhPrev[j] = dhT * z;
        }
    }
}
