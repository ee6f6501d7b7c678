using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// The micro-kernel: an MR x (nv * Vector512<T>.Count) tile of C kept in registers over one k block.
// Generated shape (8 rows x up to 3 vectors): keep it in sync by hand if MR or NV change.
public static partial class Gemm
{
    private interface IVectorCount
    {
        static abstract int Value { get; }
    }

    private struct One : IVectorCount { public static int Value => 1; }

    private struct Two : IVectorCount { public static int Value => 2; }

    private struct Three : IVectorCount { public static int Value => 3; }

    /// <summary>
    /// C[0..MR, 0..nv*W] = alpha * (packed A panel · packed B panel) + beta * C (beta == 0: C is not read), where the A
    /// panel holds MR values per k step and the B panel nv*W values per k step.
    /// </summary>
    private static unsafe void MicroKernel<T>(int nv, int kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!Vector512.IsHardwareAccelerated || ForceVectorBits != 0)
        {
            int bits = NarrowBits;
            if (bits != 0) NarrowKernel(bits, MR, MR, nv * Vector512<T>.Count, kc, a, b, c, ldc, alpha, beta);
            else MicroKernelScalar(nv, kc, a, b, c, ldc, alpha, beta);
        }
        else if (nv == 3)
            MicroKernel<T, Three>(kc, a, b, c, ldc, alpha, beta);
        else if (nv == 2)
            MicroKernel<T, Two>(kc, a, b, c, ldc, alpha, beta);
        else
            MicroKernel<T, One>(kc, a, b, c, ldc, alpha, beta);
    }

    [SkipLocalsInit]
    private static unsafe void MicroKernel<T, TNv>(int kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T> where TNv : struct, IVectorCount
    {
        int nv = TNv.Value;
        nint w = Vector512<T>.Count, bStep = nv * w;
            Vector512<T> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default, c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default, c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default, c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = nv > 1 ? Vector512.Load(b + w) : default;
            Vector512<T> b2 = nv > 2 ? Vector512.Load(b + 2 * w) : default;
            Vector512<T> x;
                x = Vector512.Create(a[0]);
                c00 = Fma(x, b0, c00);
                if (nv > 1) c01 = Fma(x, b1, c01);
                if (nv > 2) c02 = Fma(x, b2, c02);
                x = Vector512.Create(a[1]);
                c10 = Fma(x, b0, c10);
                if (nv > 1) c11 = Fma(x, b1, c11);
                if (nv > 2) c12 = Fma(x, b2, c12);
                x = Vector512.Create(a[2]);
                c20 = Fma(x, b0, c20);
                if (nv > 1) c21 = Fma(x, b1, c21);
                if (nv > 2) c22 = Fma(x, b2, c22);
                x = Vector512.Create(a[3]);
                c30 = Fma(x, b0, c30);
                if (nv > 1) c31 = Fma(x, b1, c31);
                if (nv > 2) c32 = Fma(x, b2, c32);
                x = Vector512.Create(a[4]);
                c40 = Fma(x, b0, c40);
                if (nv > 1) c41 = Fma(x, b1, c41);
                if (nv > 2) c42 = Fma(x, b2, c42);
                x = Vector512.Create(a[5]);
                c50 = Fma(x, b0, c50);
                if (nv > 1) c51 = Fma(x, b1, c51);
                if (nv > 2) c52 = Fma(x, b2, c52);
                x = Vector512.Create(a[6]);
                c60 = Fma(x, b0, c60);
                if (nv > 1) c61 = Fma(x, b1, c61);
                if (nv > 2) c62 = Fma(x, b2, c62);
                x = Vector512.Create(a[7]);
                c70 = Fma(x, b0, c70);
                if (nv > 1) c71 = Fma(x, b1, c71);
                if (nv > 2) c72 = Fma(x, b2, c72);
            a += MR;
            b += bStep;
        }
            Update(c00, c + 0 * ldc, alpha, beta);
            if (nv > 1) Update(c01, c + 0 * ldc + w, alpha, beta);
            if (nv > 2) Update(c02, c + 0 * ldc + 2 * w, alpha, beta);
            Update(c10, c + 1 * ldc, alpha, beta);
            if (nv > 1) Update(c11, c + 1 * ldc + w, alpha, beta);
            if (nv > 2) Update(c12, c + 1 * ldc + 2 * w, alpha, beta);
            Update(c20, c + 2 * ldc, alpha, beta);
            if (nv > 1) Update(c21, c + 2 * ldc + w, alpha, beta);
            if (nv > 2) Update(c22, c + 2 * ldc + 2 * w, alpha, beta);
            Update(c30, c + 3 * ldc, alpha, beta);
            if (nv > 1) Update(c31, c + 3 * ldc + w, alpha, beta);
            if (nv > 2) Update(c32, c + 3 * ldc + 2 * w, alpha, beta);
            Update(c40, c + 4 * ldc, alpha, beta);
            if (nv > 1) Update(c41, c + 4 * ldc + w, alpha, beta);
            if (nv > 2) Update(c42, c + 4 * ldc + 2 * w, alpha, beta);
            Update(c50, c + 5 * ldc, alpha, beta);
            if (nv > 1) Update(c51, c + 5 * ldc + w, alpha, beta);
            if (nv > 2) Update(c52, c + 5 * ldc + 2 * w, alpha, beta);
            Update(c60, c + 6 * ldc, alpha, beta);
            if (nv > 1) Update(c61, c + 6 * ldc + w, alpha, beta);
            if (nv > 2) Update(c62, c + 6 * ldc + 2 * w, alpha, beta);
            Update(c70, c + 7 * ldc, alpha, beta);
            if (nv > 1) Update(c71, c + 7 * ldc + w, alpha, beta);
            if (nv > 2) Update(c72, c + 7 * ldc + 2 * w, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> Fma<T>(Vector512<T> x, Vector512<T> y, Vector512<T> z)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>();
        return Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Update<T>(Vector512<T> acc, T* c, T alpha, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Vector512<T> va = Vector512.Create(alpha);
        if (T.IsZero(beta)) Vector512.Store(va * acc, c);
        else if (beta == T.One) Vector512.Store(Fma(va, acc, Vector512.Load(c)), c);
        else Vector512.Store(Fma(va, acc, Vector512.Create(beta) * Vector512.Load(c)), c);
    }

    /// <summary>The same tile with scalar fused multiply-adds, for machines without accelerated Vector512.</summary>
    private static unsafe void MicroKernelScalar<T>(int nv, int kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = nv * Vector512<T>.Count;
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
