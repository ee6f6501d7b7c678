using System.Numerics;
using System.Runtime.InteropServices;

namespace Nabla.Kernels;

/// <summary>
/// Dense matrix multiply, row-major BLAS style: <c>C = alpha * op(A) · op(B) + beta * C</c>.
/// </summary>
/// <remarks>
/// <para>op(A) is A (stored m x k, row stride lda) or, when <c>transA</c>, Aᵀ (A stored k x m, row stride lda); the same
/// for B (k x n, or stored n x k when <c>transB</c>). <c>beta == 0</c> overwrites C without reading it.</para>
/// <para>The implementation packs A and B into register-tile-friendly panels and runs an 8 x 48 (float) or 8 x 24
/// (double) AVX-512 micro-kernel; m == 1 or n == 1 use a dedicated matrix-vector path. Every element of C is computed
/// by the same sequence of operations whatever <see cref="Threading.MaxThreads"/> is, so results are bit-identical
/// for any thread count.</para>
/// </remarks>
public static partial class Gemm
{
    /// <summary>Single-precision GEMM: <c>C[m,n] = alpha * op(A)[m,k] · op(B)[k,n] + beta * C</c>.</summary>
    public static unsafe void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, 1, 0, 0, 0);
        fixed (float* pa = a, pb = b, pc = c)
            Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, allowThreads: true);
    }

    /// <summary>Double-precision GEMM: <c>C[m,n] = alpha * op(A)[m,k] · op(B)[k,n] + beta * C</c>.</summary>
    public static unsafe void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, int lda,
        ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, 1, 0, 0, 0);
        fixed (double* pa = a, pb = b, pc = c)
            Run(transA, transB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc, allowThreads: true);
    }

    /// <summary>
    /// Batched single-precision GEMM: matrix i uses <c>a[i*strideA..]</c>, <c>b[i*strideB..]</c>, <c>c[i*strideC..]</c>.
    /// <paramref name="strideA"/> or <paramref name="strideB"/> may be 0 to broadcast one matrix over the batch.
    /// </summary>
    public static unsafe void SgemmBatched(int batch, bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, long strideA, ReadOnlySpan<float> b, int ldb, long strideB, float beta,
        Span<float> c, int ldc, long strideC)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, batch, strideA, strideB, strideC);
        fixed (float* pa = a, pb = b, pc = c)
            RunBatched(batch, transA, transB, m, n, k, alpha, pa, lda, strideA, pb, ldb, strideB, beta, pc, ldc, strideC);
    }

    /// <summary>
    /// Batched double-precision GEMM: matrix i uses <c>a[i*strideA..]</c>, <c>b[i*strideB..]</c>, <c>c[i*strideC..]</c>.
    /// <paramref name="strideA"/> or <paramref name="strideB"/> may be 0 to broadcast one matrix over the batch.
    /// </summary>
    public static unsafe void DgemmBatched(int batch, bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, long strideA, ReadOnlySpan<double> b, int ldb, long strideB, double beta,
        Span<double> c, int ldc, long strideC)
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, batch, strideA, strideB, strideC);
        fixed (double* pa = a, pb = b, pc = c)
            RunBatched(batch, transA, transB, m, n, k, alpha, pa, lda, strideA, pb, ldb, strideB, beta, pc, ldc, strideC);
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

    /// <summary>One product on the calling thread only (a tile of a kernel that is itself split into parallel parts).</summary>
    internal static unsafe void Tile<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T> => Run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, allowThreads: false);

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

    private static long Needed(int rows, int cols, int ld) => rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;

    private static void Validate(bool transA, bool transB, int m, int n, int k, int aLen, int lda, int bLen, int ldb,
        int cLen, int ldc, int batch, long strideA, long strideB, long strideC)
    {
        if (m < 0 || n < 0 || k < 0 || batch < 0)
            throw new ArgumentException($"Gemm: sizes must be non-negative (m={m}, n={n}, k={k}, batch={batch}).");
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        if (lda < Math.Max(1, aCols))
            throw new ArgumentException($"Gemm: lda={lda} is smaller than the {aCols} columns of the stored A ({aRows}x{aCols}, transA={transA}, m={m}, k={k}).", nameof(lda));
        if (ldb < Math.Max(1, bCols))
            throw new ArgumentException($"Gemm: ldb={ldb} is smaller than the {bCols} columns of the stored B ({bRows}x{bCols}, transB={transB}, k={k}, n={n}).", nameof(ldb));
        if (ldc < Math.Max(1, n))
            throw new ArgumentException($"Gemm: ldc={ldc} is smaller than n={n} (C is {m}x{n}).", nameof(ldc));
        if (strideA < 0 || strideB < 0 || strideC < 0)
            throw new ArgumentException($"Gemm: batch strides must be non-negative (strideA={strideA}, strideB={strideB}, strideC={strideC}).");
        if (batch == 0) return;
        long needA = Needed(aRows, aCols, lda), needB = Needed(bRows, bCols, ldb), needC = Needed(m, n, ldc);
        if (batch > 1 && needC > 0 && strideC < needC)
            throw new ArgumentException($"Gemm: strideC={strideC} makes the {batch} output matrices ({m}x{n}, ldc={ldc}, {needC} elements each) overlap.", nameof(strideC));
        if (needA > 0 && needA + (batch - 1) * strideA > aLen)
            throw new ArgumentException($"Gemm: A has {aLen} elements but {batch} matrix(es) of {aRows}x{aCols} (m={m}, k={k}, transA={transA}) with lda={lda}, strideA={strideA} need {needA + (batch - 1) * strideA}.", "a");
        if (needB > 0 && needB + (batch - 1) * strideB > bLen)
            throw new ArgumentException($"Gemm: B has {bLen} elements but {batch} matrix(es) of {bRows}x{bCols} (k={k}, n={n}, transB={transB}) with ldb={ldb}, strideB={strideB} need {needB + (batch - 1) * strideB}.", "b");
        if (needC > 0 && needC + (batch - 1) * strideC > cLen)
            throw new ArgumentException($"Gemm: C has {cLen} elements but {batch} matrix(es) of {m}x{n} with ldc={ldc}, strideC={strideC} need {needC + (batch - 1) * strideC}.", "c");
    }

    /// <summary>Below this many flops (2mnk) a product runs on the calling thread only.</summary>
    private const long ParallelFlops = 1L << 20;

    private static unsafe void RunBatched<T>(int batch, bool transA, bool transB, int m, int n, int k, T alpha,
        T* a, int lda, long strideA, T* b, int ldb, long strideB, T beta, T* c, int ldc, long strideC)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch == 0 || m == 0 || n == 0) return;
        long flops = 2L * m * n * k;
        if (batch == 1 || flops >= 4 * ParallelFlops)
        {
            for (int i = 0; i < batch; i++)
                Run(transA, transB, m, n, k, alpha, a + i * strideA, lda, b + i * strideB, ldb, beta, c + i * strideC, ldc, allowThreads: true);
            return;
        }
        // Small matrices: one whole product per part, each computed exactly as it would be on its own.
        var body = new BatchBody<T>(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC);
        if (flops * batch < ParallelFlops) for (int i = 0; i < batch; i++) body.Invoke(i);
        else Threading.For(batch, body);
    }

    private readonly unsafe struct BatchBody<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, long strideA,
        T* b, int ldb, long strideB, T beta, T* c, int ldc, long strideC) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int i) => Run(transA, transB, m, n, k, alpha, a + i * strideA, lda, b + i * strideB, ldb, beta, c + i * strideC, ldc,
            allowThreads: false);
    }

    /// <summary>One product on raw pointers (arguments already validated).</summary>
    private static unsafe void Run<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb,
        T beta, T* c, int ldc, bool allowThreads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m == 0 || n == 0) return;
        if (k == 0 || T.IsZero(alpha))
        {
            ScaleC(m, n, beta, c, ldc);
            return;
        }
        long flops = 2L * m * n * k;
        bool threads = allowThreads && Threading.MaxThreads > 1; // GEMV applies its own size threshold
        if (m == 1)
        {
            // c[0, j] = alpha * sum_p opA[0,p] * opB[p,j]: x is the row of op(A).
            if (transB) GemvDot(n, k, b, ldb, a, transA ? lda : 1, alpha, beta, c, 1, threads);
            else GemvAxpy(n, k, b, ldb, a, transA ? lda : 1, alpha, beta, c, 1, threads);
            return;
        }
        if (n == 1)
        {
            // c[i, 0] = alpha * sum_p opA[i,p] * opB[p,0]: x is the column of op(B).
            if (!transA) GemvDot(m, k, a, lda, b, transB ? 1 : ldb, alpha, beta, c, ldc, threads);
            else GemvAxpy(m, k, a, lda, b, transB ? 1 : ldb, alpha, beta, c, ldc, threads);
            return;
        }
        Packed(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads && flops >= ParallelFlops);
    }

    private static unsafe void ScaleC<T>(int m, int n, T beta, T* c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (beta == T.One) return;
        for (int i = 0; i < m; i++)
        {
            var row = new Span<T>(c + (long)i * ldc, n);
            if (T.IsZero(beta)) row.Clear();
            else for (int j = 0; j < row.Length; j++) row[j] *= beta;
        }
    }
}
