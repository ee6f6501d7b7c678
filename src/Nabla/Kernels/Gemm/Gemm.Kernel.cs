using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// The micro-kernel: the packed panels of one k block (MR rows of A x nv·Vector512<T>.Count columns of B) times each
// other into C, one register tile at a time, written once over the vector width (IVectorOps). With 512-bit vectors
// (32 registers) a tile is the whole 8-row x nv-vector panel, 24 accumulators; with 256-bit (AVX2, 16 registers) or
// 128-bit ones (NEON, SSE) the panel is cut into 4-row x up-to-3-vector tiles, 12 accumulators. Each element of C
// gets the same fused-multiply-add chain over k and the same update whatever the width, so results are
// bit-identical across widths.
public static partial class Gemm
{
    /// <summary>Tests set it to 256 or 128 to run the narrow tiles on a machine with 512-bit vectors.</summary>
    internal static int ForceVectorBits { get; set; }

    /// <summary>The narrow width to use, or 0 for scalar: 256 (AVX2), 128 (NEON, SSE), or <see cref="ForceVectorBits"/>.</summary>
    private static int NarrowBits => ForceVectorBits != 0 ? ForceVectorBits
        : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>
    /// C[0..MR, 0..nv*W] = alpha * (packed A panel · packed B panel) + beta * C (beta == 0: C is not read), where the A
    /// panel holds MR values per k step and the B panel nv*W values per k step (W = Vector512&lt;T&gt;.Count).
    /// </summary>
    private static unsafe void MicroKernel<T>(int nv, int kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = nv * Vector512<T>.Count;
        if (Vector512.IsHardwareAccelerated && ForceVectorBits == 0)
        {
            if (nv == 3) Tile<T, Vector512<T>, Ops512<T>, Eight, Three>(kc, a, b, width, c, ldc, alpha, beta);
            else if (nv == 2) Tile<T, Vector512<T>, Ops512<T>, Eight, Two>(kc, a, b, width, c, ldc, alpha, beta);
            else Tile<T, Vector512<T>, Ops512<T>, Eight, One>(kc, a, b, width, c, ldc, alpha, beta);
            return;
        }
        int bits = NarrowBits;
        if (bits == 256) NarrowTiles<T, Vector256<T>, Ops256<T>>(width, kc, a, b, c, ldc, alpha, beta);
        else if (bits == 128) NarrowTiles<T, Vector128<T>, Ops128<T>>(width, kc, a, b, c, ldc, alpha, beta);
        else MicroKernelScalar(width, kc, a, b, c, ldc, alpha, beta);
    }

    /// <summary>The panel as 4-row x up-to-3-vector tiles of a narrow width.</summary>
    private static unsafe void NarrowTiles<T, TV, TOps>(int width, int kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int l = TOps.Count, vectors = width / l;
        for (int v0 = 0; v0 < vectors; v0 += 3)
        {
            int nv = Math.Min(3, vectors - v0);
            for (int r0 = 0; r0 < MR; r0 += 4)
            {
                T* cs = c + r0 * ldc + v0 * l;
                if (nv == 3) Tile<T, TV, TOps, Four, Three>(kc, a + r0, b + v0 * l, width, cs, ldc, alpha, beta);
                else if (nv == 2) Tile<T, TV, TOps, Four, Two>(kc, a + r0, b + v0 * l, width, cs, ldc, alpha, beta);
                else Tile<T, TV, TOps, Four, One>(kc, a + r0, b + v0 * l, width, cs, ldc, alpha, beta);
            }
        }
    }

    /// <summary>
    /// A TRows x TNv-vector tile of C (TRows 4 or 8, TNv 1 to 3) over kc steps: A holds the tile's rows at
    /// a + p·MR, B its vectors at b + p·bStride. The JIT drops the rows and vectors past the constants.
    /// </summary>
    /// <remarks>
    /// alpha and beta come by reference: the 4x3 tile with 256-bit vectors needs all 16 registers of AVX2 (12
    /// accumulators, 3 B vectors, 1 broadcast), and NativeAOT kept beta, passed by value, in a register across the k
    /// loop, spilling an accumulator to the stack (a store and a load on its FMA chain every k step; seen in the
    /// x86-64-v3 binary's disassembly). The JIT's tier 1 spilled alpha and beta instead, as the reference forces.
    /// </remarks>
    [SkipLocalsInit]
    private static unsafe void Tile<T, TV, TOps, TRows, TNv>(int kc, T* a, T* b, int bStride, T* c, nint ldc, in T alpha, in T beta)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
        where TRows : struct, IConstant where TNv : struct, IConstant
    {
        bool eight = TRows.Value == 8;
        int nv = TNv.Value;
        nint l = TOps.Count;
        TV c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default,
            c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default,
            c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default,
            c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        for (int p = 0; p < kc; p++)
        {
            TV b0 = TOps.Load(b);
            TV b1 = nv > 1 ? TOps.Load(b + l) : default;
            TV b2 = nv > 2 ? TOps.Load(b + 2 * l) : default;
            TV x = TOps.Broadcast(a[0]);
            c00 = TOps.Fma(x, b0, c00);
            if (nv > 1) c01 = TOps.Fma(x, b1, c01);
            if (nv > 2) c02 = TOps.Fma(x, b2, c02);
            x = TOps.Broadcast(a[1]);
            c10 = TOps.Fma(x, b0, c10);
            if (nv > 1) c11 = TOps.Fma(x, b1, c11);
            if (nv > 2) c12 = TOps.Fma(x, b2, c12);
            x = TOps.Broadcast(a[2]);
            c20 = TOps.Fma(x, b0, c20);
            if (nv > 1) c21 = TOps.Fma(x, b1, c21);
            if (nv > 2) c22 = TOps.Fma(x, b2, c22);
            x = TOps.Broadcast(a[3]);
            c30 = TOps.Fma(x, b0, c30);
            if (nv > 1) c31 = TOps.Fma(x, b1, c31);
            if (nv > 2) c32 = TOps.Fma(x, b2, c32);
            if (eight)
            {
                x = TOps.Broadcast(a[4]);
                c40 = TOps.Fma(x, b0, c40);
                if (nv > 1) c41 = TOps.Fma(x, b1, c41);
                if (nv > 2) c42 = TOps.Fma(x, b2, c42);
                x = TOps.Broadcast(a[5]);
                c50 = TOps.Fma(x, b0, c50);
                if (nv > 1) c51 = TOps.Fma(x, b1, c51);
                if (nv > 2) c52 = TOps.Fma(x, b2, c52);
                x = TOps.Broadcast(a[6]);
                c60 = TOps.Fma(x, b0, c60);
                if (nv > 1) c61 = TOps.Fma(x, b1, c61);
                if (nv > 2) c62 = TOps.Fma(x, b2, c62);
                x = TOps.Broadcast(a[7]);
                c70 = TOps.Fma(x, b0, c70);
                if (nv > 1) c71 = TOps.Fma(x, b1, c71);
                if (nv > 2) c72 = TOps.Fma(x, b2, c72);
            }
            a += MR;
            b += bStride;
        }
        UpdateRow<T, TV, TOps, TNv>(c, l, alpha, beta, c00, c01, c02);
        UpdateRow<T, TV, TOps, TNv>(c + ldc, l, alpha, beta, c10, c11, c12);
        UpdateRow<T, TV, TOps, TNv>(c + 2 * ldc, l, alpha, beta, c20, c21, c22);
        UpdateRow<T, TV, TOps, TNv>(c + 3 * ldc, l, alpha, beta, c30, c31, c32);
        if (!eight) return;
        UpdateRow<T, TV, TOps, TNv>(c + 4 * ldc, l, alpha, beta, c40, c41, c42);
        UpdateRow<T, TV, TOps, TNv>(c + 5 * ldc, l, alpha, beta, c50, c51, c52);
        UpdateRow<T, TV, TOps, TNv>(c + 6 * ldc, l, alpha, beta, c60, c61, c62);
        UpdateRow<T, TV, TOps, TNv>(c + 7 * ldc, l, alpha, beta, c70, c71, c72);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void UpdateRow<T, TV, TOps, TNv>(T* c, nint l, T alpha, T beta, TV v0, TV v1, TV v2)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T> where TNv : struct, IConstant
    {
        VectorOps.Update<T, TV, TOps>(v0, c, alpha, beta);
        if (TNv.Value > 1) VectorOps.Update<T, TV, TOps>(v1, c + l, alpha, beta);
        if (TNv.Value > 2) VectorOps.Update<T, TV, TOps>(v2, c + 2 * l, alpha, beta);
    }

    /// <summary>The same panel with scalar fused multiply-adds, for machines without vector units.</summary>
    private static unsafe void MicroKernelScalar<T>(int width, int kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> acc = stackalloc T[MR * NV * 64 / sizeof(T)];
        acc.Clear();
        for (int p = 0; p < kc; p++)
        {
            T* ap = a + p * MR, bp = b + (long)p * width;
            for (int r = 0; r < MR; r++)
            {
                T x = ap[r];
                Span<T> row = acc.Slice(r * width, width);
                for (int j = 0; j < width; j++) row[j] = T.FusedMultiplyAdd(x, bp[j], row[j]);
            }
        }
        fixed (T* pacc = acc) UpdateEdge(pacc, width, MR, width, c, (int)ldc, alpha, beta);
    }
}
