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
        int n = dhPrev.Length, j = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            int w = Vector512<T>.Count;
            var one = Vector512<T>.One;
            for (; j <= n - w; j += w)
            {
                var r = Vector512.Create(gates.Slice(j, w));
                var z = Vector512.Create(gates.Slice(n + j, w));
                var nv = Vector512.Create(gates.Slice(2 * n + j, w));
                var dhT = Vector512.Create(dh.Slice(j, w)) + Vector512.Create(dOut.Slice(j, w));
                var dan = dhT * (one - z) * (one - nv * nv);
                var daz = dhT * (Vector512.Create(hPrev.Slice(j, w)) - nv) * z * (one - z);
                var dar = dan * Vector512.Create(hn.Slice(j, w)) * r * (one - r);
                dar.CopyTo(dX.Slice(j, w));
                daz.CopyTo(dX.Slice(n + j, w));
                dan.CopyTo(dX.Slice(2 * n + j, w));
                dar.CopyTo(dHg.Slice(j, w));
                daz.CopyTo(dHg.Slice(n + j, w));
                (dan * r).CopyTo(dHg.Slice(2 * n + j, w));
                (dhT * z).CopyTo(dhPrev.Slice(j, w));
            }
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
