using System.Numerics;

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
}
