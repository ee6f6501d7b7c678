using System.Numerics;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// Pre-packed products for callers that pack their operands themselves (convolution: the weights once per call,
// the im2col matrix written straight into the B panel layout). Same layouts, k blocking and micro-kernel as the
// blocked path of Gemm.Packed.cs; single-threaded (the caller splits the work by problem size).
public static partial class Gemm
{
    /// <summary>
    /// The packed layout of a k x n right operand: k blocks of at most KcMax rows (block b starts at row b·Kc,
    /// element offset b·Kc·NPadW); in a block of kcb rows, column panel jp (NR columns, the last one LastW wide,
    /// zero-padded) starts at jp·NR·kcb and holds row p's panel entries at p·width.
    /// </summary>
    internal readonly struct PackedB
    {
        public readonly int K, N, Kc, KBlocks, Nr, NPanels, LastW, NPadW;

        private PackedB(int k, int n, int kc, int kBlocks, int nr, int w)
        {
            (K, N, Kc, KBlocks, Nr) = (k, n, kc, kBlocks, nr);
            NPanels = (n + nr - 1) / nr;
            LastW = (n - (NPanels - 1) * nr + w - 1) / w * w;
            NPadW = (NPanels - 1) * nr + LastW;
        }

        /// <summary>The layout of a k x n operand of element type T.</summary>
        public static PackedB Create<T>(int k, int n) where T : unmanaged
        {
            var (kc, kBlocks) = KBlocking<T>(k);
            return new PackedB(k, n, kc, kBlocks, NV * Vector512<T>.Count, Vector512<T>.Count);
        }

        /// <summary>Elements of the packed copy.</summary>
        public int Size => K * NPadW;

        /// <summary>Writes row p of the operand (N values) into its panels, zero-filling the last panel's padding.</summary>
        public void ScatterRow<T>(int p, ReadOnlySpan<T> row, Span<T> dst) where T : unmanaged
        {
            int kb = p / Kc, pp = p - kb * Kc, kcb = Math.Min(Kc, K - kb * Kc);
            int block = kb * Kc * NPadW, panelStride = Nr * kcb;
            int full = N / Nr;
            if (full == NPanels) full--;
            for (int jp = 0; jp < full; jp++)
                row.Slice(jp * Nr, Nr).CopyTo(dst.Slice(block + jp * panelStride + pp * Nr, Nr));
            for (int jp = full; jp < NPanels; jp++)
            {
                int width = jp == NPanels - 1 ? LastW : Nr, cols = Math.Min(Nr, N - jp * Nr);
                var d = dst.Slice(block + jp * panelStride + pp * width, width);
                row.Slice(jp * Nr, cols).CopyTo(d);
                d.Slice(cols).Clear();
            }
        }
    }

    /// <summary>The k blocking of the packed paths: blocks of equal length (at most KcMax).</summary>
    private static (int Kc, int KBlocks) KBlocking<T>(int k) where T : unmanaged
    {
        int kcMax = typeof(T) == typeof(float) ? 320 : 256;
        int blocks = Math.Max(1, (k + kcMax - 1) / kcMax);
        return ((k + blocks - 1) / blocks, blocks);
    }

    /// <summary>Elements of the packed copy of an m x k left operand (rows padded to MR panels).</summary>
    internal static int PackedASize(int m, int k) => k * ((m + MR - 1) / MR * MR);

    /// <summary>
    /// Packs op(A) (m x k; A stored m x k, or k x m when <paramref name="transA"/>) into MR-row panels per k block:
    /// block b at b·Kc·MPad, panel ip at ip·MR·kcb, row p's MR entries at p·MR (rows past m zero).
    /// </summary>
    internal static unsafe void PackA<T>(bool transA, int m, int k, ReadOnlySpan<T> a, int lda, Span<T> dst) where T : unmanaged
    {
        var (kc, kBlocks) = KBlocking<T>(k);
        int mPanels = (m + MR - 1) / MR, mPad = mPanels * MR;
        fixed (T* pa = a, pd = dst)
            for (int kb = 0; kb < kBlocks; kb++)
            {
                int p0 = kb * kc, kcb = Math.Min(kc, k - p0);
                for (int ip = 0; ip < mPanels; ip++)
                {
                    int i0 = ip * MR, rows = Math.Min(MR, m - i0);
                    T* d = pd + (long)p0 * mPad + (long)ip * MR * kcb;
                    if (transA) CopyPanel(pa + (long)p0 * lda + i0, lda, kcb, rows, d, MR);
                    else TransposePanel(pa + (long)i0 * lda + p0, lda, rows, kcb, d, MR);
                }
            }
    }

    /// <summary>
    /// C (m x B.N, row stride ldc) = A·B + beta·C from a packed A (<see cref="PackA{T}"/>, m x B.K) and a packed B,
    /// on the calling thread. Each element gets one fused-multiply-add chain per k block, then
    /// <c>c = acc + (first block ? beta·c : c)</c>, like <see cref="Sgemm"/>.
    /// </summary>
    internal static unsafe void PrepackedProduct<T>(int m, ReadOnlySpan<T> packedA, in PackedB lb, ReadOnlySpan<T> packedB,
        Span<T> c, int ldc, T beta) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int mPanels = (m + MR - 1) / MR, mPad = mPanels * MR, w = Vector512<T>.Count, n = lb.N;
        if (packedA.Length < (long)lb.K * mPad || packedB.Length < lb.Size || (m > 0 && c.Length < (long)(m - 1) * ldc + n))
            throw new ArgumentException($"Gemm.PrepackedProduct: buffers too small for m={m}, n={n}, k={lb.K}.");
        T* tmp = stackalloc T[MR * NV * 64 / sizeof(T)];
        fixed (T* pa = packedA, pb = packedB, pc = c)
            for (int kb = 0; kb < lb.KBlocks; kb++)
            {
                int p0 = kb * lb.Kc, kcb = Math.Min(lb.Kc, lb.K - p0);
                T bk = kb == 0 ? beta : T.One;
                T* aBlock = pa + (long)p0 * mPad, bBlock = pb + (long)p0 * lb.NPadW;
                for (int jp = 0; jp < lb.NPanels; jp++)
                {
                    int j0 = jp * lb.Nr, cols = Math.Min(lb.Nr, n - j0), width = jp == lb.NPanels - 1 ? lb.LastW : lb.Nr;
                    T* bp = bBlock + (long)jp * lb.Nr * kcb;
                    for (int ip = 0; ip < mPanels; ip++)
                    {
                        int i0 = ip * MR, rows = Math.Min(MR, m - i0);
                        T* ap = aBlock + (long)ip * MR * kcb;
                        T* cp = pc + (long)i0 * ldc + j0;
                        if (rows == MR && cols == width)
                        {
                            MicroKernel(width / w, kcb, ap, bp, cp, ldc, T.One, bk);
                        }
                        else
                        {
                            MicroKernel(width / w, kcb, ap, bp, tmp, width, T.One, T.Zero);
                            UpdateEdge(tmp, width, rows, cols, cp, ldc, T.One, bk);
                        }
                    }
                }
            }
    }
}
