using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>
/// C += A·B with A (m × k), B (k × n) and C (m × n) row-major, without packing: the per-step products of a recurrent
/// layer (h·W_hhᵀ forward, dA·W_hh backward), where B is the same few hundred KB every step and m is the batch.
/// The general GEMM would pack B again at every step; here B is read in place, a 4-row × 4-vector register tile at a
/// time, C's columns in blocks of 4 vectors (the outer loop, split across threads) and k in blocks of <c>Kc</c>, so a
/// block of B stays in L1 while every row of A passes it.
/// </summary>
/// <remarks>
/// Every element of C gets, for each k block in order, one fused-multiply-add chain over the block added to C:
/// the same operations whatever the thread count (parts depend on the sizes only).
/// </remarks>
internal static unsafe class RecurrentGemm
{
    private const int MR = 4, NV = 4;

    private static int Kc<T>() => typeof(T) == typeof(float) ? 128 : 64;

    /// <summary>C[m, n] (row stride ldc) += A[m, k] (lda) · B[k, n] (ldb).</summary>
    public static void Accumulate<T>(int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0 || k <= 0) return;
        if (lda < k || ldb < n || ldc < n || a.Length < (long)(m - 1) * lda + k || b.Length < (long)(k - 1) * ldb + n || c.Length < (long)(m - 1) * ldc + n)
            throw new ArgumentException($"RecurrentGemm: spans too short for m={m}, n={n}, k={k}, lda={lda}, ldb={ldb}, ldc={ldc}.");
        if (!Vector512.IsHardwareAccelerated)
        {
            // narrower vectors: the general packed GEMM (it packs B every call, but runs its AVX2/NEON kernel)
            Gemm.AccumulatePacked(m, n, k, a, lda, b, ldb, c, ldc);
            return;
        }
        int blockCols = NV * Vector512<T>.Count;
        int blocks = (n + blockCols - 1) / blockCols;
        long flops = 2L * m * n * k;
        // parts from the sizes only: one per ~2 MFLOP, at most one per column block
        int parts = (int)Math.Clamp(flops >> 21, 1, Math.Min(blocks, 8));
        fixed (T* pa = a, pb = b, pc = c)
        {
            if (parts == 1)
            {
                Columns(0, n, m, k, pa, lda, pb, ldb, pc, ldc);
                return;
            }
            Threading.For(parts, new ColumnsBody<T>(m, n, k, pa, lda, pb, ldb, pc, ldc, blocks, parts, blockCols));
        }
    }

    /// <summary>The plain triple loop, the reference the tests compare against (equal up to rounding order).</summary>
    public static void AccumulateReference<T>(int m, int n, int k, ReadOnlySpan<T> a, int lda, ReadOnlySpan<T> b, int ldb, Span<T> c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T s = T.Zero;
                for (int p = 0; p < k; p++) s += a[i * lda + p] * b[p * ldb + j];
                c[i * ldc + j] += s;
            }
    }

    /// <summary>Part i: the column blocks [blocks·i/parts, blocks·(i + 1)/parts) of C.</summary>
    private readonly struct ColumnsBody<T>(int m, int n, int k, T* a, int lda, T* b, int ldb, T* c, int ldc, int blocks, int parts, int blockCols)
        : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int part)
        {
            int b0 = (int)((long)blocks * part / parts), b1 = (int)((long)blocks * (part + 1) / parts);
            int j0 = b0 * blockCols, j1 = Math.Min(n, b1 * blockCols);
            Columns(j0, j1, m, k, a, lda, b, ldb, c, ldc);
        }
    }

    // columns [j0, j1) of C, all rows
    private static void Columns<T>(int j0, int j1, int m, int k, T* a, int lda, T* b, int ldb, T* c, int ldc)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector512<T>.Count, kc = Kc<T>();
        for (int j = j0; j < j1;)
        {
            int vecs = Math.Min(NV, (j1 - j) / w);
            int cols = vecs > 0 ? vecs * w : j1 - j;
            for (int p0 = 0; p0 < k; p0 += kc)
            {
                int kb = Math.Min(kc, k - p0);
                int i = 0;
                if (vecs == NV)
                    for (; i + MR <= m; i += MR) Tile4x4(kb, a + (long)i * lda + p0, lda, b + (long)p0 * ldb + j, ldb, c + (long)i * ldc + j, ldc);
                for (; i < m; i++)
                    for (int v = 0; v < vecs; v++) Row1(kb, a + (long)i * lda + p0, b + (long)p0 * ldb + j + v * w, ldb, c + (long)i * ldc + j + v * w);
                if (vecs == 0)
                {
                    // fewer than one vector of columns left: scalar, same per-block chain
                    for (int r = 0; r < m; r++)
                        for (int jj = 0; jj < cols; jj++)
                        {
                            T s = T.Zero;
                            for (int p = 0; p < kb; p++) s = T.FusedMultiplyAdd(a[(long)r * lda + p0 + p], b[(long)(p0 + p) * ldb + j + jj], s);
                            c[(long)r * ldc + j + jj] += s;
                        }
                }
            }
            j += cols;
        }
    }

    // one row, one vector of columns
    private static void Row1<T>(int kb, T* a, T* b, int ldb, T* c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var acc = Vector512<T>.Zero;
        for (int p = 0; p < kb; p++) acc = Ops512<T>.Fma(Vector512.Create(a[p]), Vector512.Load(b + (long)p * ldb), acc);
        (Vector512.Load(c) + acc).Store(c);
    }

    // 4 rows × 4 vectors of columns
    private static void Tile4x4<T>(int kb, T* a, int lda, T* b, int ldb, T* c, int ldc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        T* a1 = a + lda, a2 = a + 2L * lda, a3 = a + 3L * lda;
        for (int p = 0; p < kb; p++)
        {
            T* bp = b + (long)p * ldb;
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + w);
            var b2 = Vector512.Load(bp + 2 * w);
            var b3 = Vector512.Load(bp + 3 * w);
            var x = Vector512.Create(a[p]);
            c00 = Ops512<T>.Fma(x, b0, c00); c01 = Ops512<T>.Fma(x, b1, c01); c02 = Ops512<T>.Fma(x, b2, c02); c03 = Ops512<T>.Fma(x, b3, c03);
            x = Vector512.Create(a1[p]);
            c10 = Ops512<T>.Fma(x, b0, c10); c11 = Ops512<T>.Fma(x, b1, c11); c12 = Ops512<T>.Fma(x, b2, c12); c13 = Ops512<T>.Fma(x, b3, c13);
            x = Vector512.Create(a2[p]);
            c20 = Ops512<T>.Fma(x, b0, c20); c21 = Ops512<T>.Fma(x, b1, c21); c22 = Ops512<T>.Fma(x, b2, c22); c23 = Ops512<T>.Fma(x, b3, c23);
            x = Vector512.Create(a3[p]);
            c30 = Ops512<T>.Fma(x, b0, c30); c31 = Ops512<T>.Fma(x, b1, c31); c32 = Ops512<T>.Fma(x, b2, c32); c33 = Ops512<T>.Fma(x, b3, c33);
        }
        AddRow(c, w, c00, c01, c02, c03);
        AddRow(c + ldc, w, c10, c11, c12, c13);
        AddRow(c + 2L * ldc, w, c20, c21, c22, c23);
        AddRow(c + 3L * ldc, w, c30, c31, c32, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow<T>(T* c, int w, Vector512<T> v0, Vector512<T> v1, Vector512<T> v2, Vector512<T> v3) where T : unmanaged, IFloatingPointIeee754<T>
    {
        (Vector512.Load(c) + v0).Store(c);
        (Vector512.Load(c + w) + v1).Store(c + w);
        (Vector512.Load(c + 2 * w) + v2).Store(c + 2 * w);
        (Vector512.Load(c + 3 * w) + v3).Store(c + 3 * w);
    }
}
