using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// The micro-kernel for machines without 512-bit vectors (AVX2 x64, ARM64 NEON): the same packed panels (MR rows x
// nv·Vector512<T>.Count columns), computed as sub-tiles of 4 rows x up to 3 narrower vectors, 12 accumulators (AVX2
// has 16 vector registers). Each element of C gets the same fused-multiply-add chain over k as in the 512-bit kernel,
// so results are bit-identical to it.
public static partial class Gemm
{
    /// <summary>Tests set it to 256 or 128 to run the narrow kernel on a machine with 512-bit vectors.</summary>
    internal static int ForceVectorBits { get; set; }

    /// <summary>The narrow kernel to use, or 0 for scalar: 256 (AVX2), 128 (NEON, SSE), or <see cref="ForceVectorBits"/>.</summary>
    private static int NarrowBits => ForceVectorBits != 0 ? ForceVectorBits
        : Vector256.IsHardwareAccelerated ? 256 : Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>
    /// C[0..rows, 0..width] = alpha·(A panel · B panel) + beta·C with narrow vectors: A holds <paramref name="aStride"/>
    /// values per k step (rows ≤ aStride, a multiple of 4), B <paramref name="width"/> values per k step.
    /// </summary>
    private static unsafe void NarrowKernel<T>(int bits, int rows, int aStride, int width, int kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (bits == 256) NarrowKernel<T, Vector256<T>, Ops256<T>>(rows, aStride, width, kc, a, b, c, ldc, alpha, beta);
        else NarrowKernel<T, Vector128<T>, Ops128<T>>(rows, aStride, width, kc, a, b, c, ldc, alpha, beta);
    }

    private static unsafe void NarrowKernel<T, TV, TOps>(int rows, int aStride, int width, int kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int l = TOps.Count, vectors = width / l;
        for (int v0 = 0; v0 < vectors; v0 += 3)
        {
            int nv = Math.Min(3, vectors - v0);
            for (int r0 = 0; r0 < rows; r0 += 4)
            {
                T* cs = c + r0 * ldc + v0 * l;
                if (nv == 3) SubTile<T, TV, TOps, Three>(kc, a + r0, aStride, b + v0 * l, width, cs, ldc, alpha, beta);
                else if (nv == 2) SubTile<T, TV, TOps, Two>(kc, a + r0, aStride, b + v0 * l, width, cs, ldc, alpha, beta);
                else SubTile<T, TV, TOps, One>(kc, a + r0, aStride, b + v0 * l, width, cs, ldc, alpha, beta);
            }
        }
    }

    /// <summary>A 4-row x nv-vector tile of C over kc steps (A: 4 values at a + p·aStride, B: nv vectors at b + p·bStride).</summary>
    private static unsafe void SubTile<T, TV, TOps, TNv>(int kc, T* a, int aStride, T* b, int bStride, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T> where TNv : struct, IVectorCount
    {
        int nv = TNv.Value;
        nint l = TOps.Count;
        TV c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default,
            c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
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
            a += aStride;
            b += bStride;
        }
        TOps.Update(c00, c, alpha, beta);
        if (nv > 1) TOps.Update(c01, c + l, alpha, beta);
        if (nv > 2) TOps.Update(c02, c + 2 * l, alpha, beta);
        TOps.Update(c10, c + ldc, alpha, beta);
        if (nv > 1) TOps.Update(c11, c + ldc + l, alpha, beta);
        if (nv > 2) TOps.Update(c12, c + ldc + 2 * l, alpha, beta);
        TOps.Update(c20, c + 2 * ldc, alpha, beta);
        if (nv > 1) TOps.Update(c21, c + 2 * ldc + l, alpha, beta);
        if (nv > 2) TOps.Update(c22, c + 2 * ldc + 2 * l, alpha, beta);
        TOps.Update(c30, c + 3 * ldc, alpha, beta);
        if (nv > 1) TOps.Update(c31, c + 3 * ldc + l, alpha, beta);
        if (nv > 2) TOps.Update(c32, c + 3 * ldc + 2 * l, alpha, beta);
    }
}
