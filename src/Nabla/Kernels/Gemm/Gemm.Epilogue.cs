using System.Numerics;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>What a GEMM applies to each element of C after the bias: nothing, or ReLU (NaN stays NaN, as PyTorch).</summary>
internal enum Epilogue
{
    None,
    Relu,
}

// The fused epilogue C = act(op(A)·op(B) + bias), bias per column (Linear's y = x·Wᵀ + b). The bias is the first k
// block's starting value of C (c = acc + bias, rounded once, exactly as if C had been filled with the bias and
// beta = 1), and the activation is applied after the last k block, tile by tile while the tile is still in L1.
public static partial class Gemm
{
    /// <summary>
    /// <c>C[m,n] = act(op(A)[m,k] · op(B)[k,n] + bias)</c>, bias of length n (or empty: none). Threads and
    /// bit-identity as <see cref="Sgemm"/>.
    /// </summary>
    internal static void SgemmBiasAct(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, ReadOnlySpan<float> bias, Epilogue act, Span<float> c, int ldc) =>
        MultiplyBiasAct(transA, transB, m, n, k, a, lda, b, ldb, bias, act, c, ldc);

    /// <summary><c>C = act(op(A)·op(B) + bias)</c> for float or double (see <see cref="SgemmBiasAct"/>).</summary>
    internal static unsafe void MultiplyBiasAct<T>(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, ReadOnlySpan<T> bias, Epilogue act, Span<T> c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc, 1, 0, 0, 0);
        if (!bias.IsEmpty && bias.Length != n)
            throw new ArgumentException($"Gemm: bias has {bias.Length} elements, expected n={n} (one per column of C).", nameof(bias));
        if (m == 0 || n == 0) return;
        fixed (T* pa = a, pb = b, pc = c, pbias = bias)
        {
            T* biasPtr = bias.IsEmpty ? null : pbias;
            bool relu = act == Epilogue.Relu;
            bool packed = k > 0 && m > 1 && n > 1;
            if (packed)
            {
                Packed(transA, transB, m, n, k, T.One, pa, lda, pb, ldb, T.Zero, pc, ldc,
                    Threading.MaxThreads > 1 && 2L * m * n * k >= ParallelFlops, biasPtr, relu);
                return;
            }
            // matrix-vector shapes: C starts as the bias, then the product adds to it (beta = 1), then the activation
            if (biasPtr is not null) FillBias(pc, ldc, m, n, biasPtr);
            Run(transA, transB, m, n, k, T.One, pa, lda, pb, ldb, biasPtr is null ? T.Zero : T.One, pc, ldc, allowThreads: true);
            if (relu) ReluRows(pc, ldc, m, n);
        }
    }

    /// <summary>c[r, 0..cols) = bias[0..cols) for r &lt; rows.</summary>
    private static unsafe void FillBias<T>(T* c, int ldc, int rows, int cols, T* bias) where T : unmanaged
    {
        var src = new ReadOnlySpan<T>(bias, cols);
        for (int r = 0; r < rows; r++) src.CopyTo(new Span<T>(c + (long)r * ldc, cols));
    }

    /// <summary>c = relu(c) on rows x cols: max(0, c), NaN kept and -0 made +0, as <c>ReluOperator</c>.</summary>
    private static unsafe void ReluRows<T>(T* c, int ldc, int rows, int cols) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            T* cr = c + (long)r * ldc;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; j + Vector512<T>.Count <= cols; j += Vector512<T>.Count)
                {
                    var v = Vector512.Load(cr + j);
                    Vector512.Store(Vector512.AndNot(v, Vector512.LessThanOrEqual(v, Vector512<T>.Zero)), cr + j);
                }
            if (Vector256.IsHardwareAccelerated)
                for (; j + Vector256<T>.Count <= cols; j += Vector256<T>.Count)
                {
                    var v = Vector256.Load(cr + j);
                    Vector256.Store(Vector256.AndNot(v, Vector256.LessThanOrEqual(v, Vector256<T>.Zero)), cr + j);
                }
            for (; j < cols; j++) cr[j] = cr[j] > T.Zero || T.IsNaN(cr[j]) ? cr[j] : T.Zero;
        }
    }

    /// <summary>The reference: C = act(bias + op(A)·op(B)) with plain loops (bias added first, as the fast path rounds).</summary>
    internal static void ReferenceBiasAct<T>(bool transA, bool transB, int m, int n, int k, ReadOnlySpan<T> a, int lda,
        ReadOnlySpan<T> b, int ldb, ReadOnlySpan<T> bias, Epilogue act, Span<T> c, int ldc) where T : IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                c[i * ldc + j] = bias.IsEmpty ? T.Zero : bias[j];
        ReferenceGemm(transA, transB, m, n, k, T.One, a, lda, b, ldb, T.One, c, ldc);
        if (act == Epilogue.Relu)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    T v = c[i * ldc + j];
                    c[i * ldc + j] = v > T.Zero || T.IsNaN(v) ? v : T.Zero;
                }
    }
}
