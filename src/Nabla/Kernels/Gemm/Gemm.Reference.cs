using System.Numerics;
using System.Runtime.InteropServices;

namespace Nabla.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// Plain triple loop with the semantics of <see cref="Sgemm"/> (no validation beyond span indexing); the tests'
    /// oracle. beta == 0 overwrites C without reading it.
    /// </summary>
    internal static void ReferenceGemm<T>(bool transA, bool transB, int m, int n, int k, T alpha, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T x = transA ? a[p * lda + i] : a[i * lda + p];
                    T y = transB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += x * y;
                }
                int at = i * ldc + j;
                c[at] = T.IsZero(beta) ? alpha * sum : alpha * sum + beta * c[at];
            }
        }
    }

    /// <summary>C = op(A)·op(B) + beta·C for float or double spans: dispatches to <see cref="Sgemm"/> or <see cref="Dgemm"/> (alpha 1).</summary>
    internal static void Multiply<T>(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, T beta, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Sgemm(transA, transB, m, n, k, 1f, MemoryMarshal.Cast<T, float>(a), lda, MemoryMarshal.Cast<T, float>(b), ldb,
                float.CreateTruncating(beta), MemoryMarshal.Cast<T, float>(c), ldc);
        else
            Dgemm(transA, transB, m, n, k, 1.0, MemoryMarshal.Cast<T, double>(a), lda, MemoryMarshal.Cast<T, double>(b), ldb,
                double.CreateTruncating(beta), MemoryMarshal.Cast<T, double>(c), ldc);
    }
}

public static partial class Gemm
{
    /// <summary>
    /// C += A·B (row-major, no transposes) always on the packed path, even for one row: every element gets the same
    /// fused-multiply-add chain whatever m is (the recurrent layers' batch-invariance on machines without AVX-512).
    /// </summary>
    internal static unsafe void AccumulatePacked<T>(int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0 || k == 0) return;
        fixed (T* pa = a, pb = b, pc = c)
            Packed(false, false, m, n, k, T.One, pa, lda, pb, ldb, T.One, pc, ldc, Threading.MaxThreads > 1 && 2L * m * n * k >= ParallelFlops);
    }
}
