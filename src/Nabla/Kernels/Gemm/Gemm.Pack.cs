using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

public static partial class Gemm
{
    /// <summary>
    /// dst[p * width + j] = src[p * ld + j] for p &lt; len, j &lt; cols; columns cols..width are zero.
    /// (A panel from Aᵀ storage, or a B panel from plain B storage: the panel's rows are already contiguous.)
    /// </summary>
    private static unsafe void CopyPanel<T>(T* src, int ld, int len, int cols, T* dst, int width) where T : unmanaged
    {
        int bytes = width * sizeof(T);
        if (cols == width && bytes % 64 == 0)
        {
            for (int p = 0; p < len; p++)
            {
                byte* s = (byte*)(src + (long)p * ld), d = (byte*)(dst + (long)p * width);
                for (int o = 0; o < bytes; o += 64) Vector512.Store(Vector512.Load(s + o), d + o);
            }
        }
        else if (cols == width && bytes == 32)
        {
            for (int p = 0; p < len; p++)
                Vector256.Store(Vector256.Load((byte*)(src + (long)p * ld)), (byte*)(dst + (long)p * width));
        }
        else
        {
            for (int p = 0; p < len; p++)
            {
                T* s = src + (long)p * ld, d = dst + (long)p * width;
                int j = 0;
                for (; j < cols; j++) d[j] = s[j];
                for (; j < width; j++) d[j] = default;
            }
        }
    }

    /// <summary>
    /// dst[p * width + r] = src[r * ld + p] for r &lt; rows, p &lt; len; entries rows..width of each dst row are zero.
    /// (A panel from plain A storage, or a B panel from Bᵀ storage: a transpose.)
    /// </summary>
    private static unsafe void TransposePanel<T>(T* src, int ld, int rows, int len, T* dst, int width) where T : unmanaged
    {
        int r0 = 0;
        if (Avx.IsSupported && typeof(T) == typeof(float))
        {
            int len8 = len & ~7;
            for (; r0 + 8 <= rows; r0 += 8)
                for (int p = 0; p < len8; p += 8)
                    Transpose8x8((float*)src + (long)r0 * ld + p, ld, (float*)dst + (long)p * width + r0, width);
            TransposeScalar(src, ld, 0, r0, len8, len, dst, width);
        }
        else if (Avx.IsSupported && typeof(T) == typeof(double))
        {
            int len4 = len & ~3;
            for (; r0 + 4 <= rows; r0 += 4)
                for (int p = 0; p < len4; p += 4)
                    Transpose4x4((double*)src + (long)r0 * ld + p, ld, (double*)dst + (long)p * width + r0, width);
            TransposeScalar(src, ld, 0, r0, len4, len, dst, width);
        }
        TransposeScalar(src, ld, r0, rows, 0, len, dst, width);
        if (rows < width)
            for (int p = 0; p < len; p++)
                new Span<T>(dst + (long)p * width + rows, width - rows).Clear();
    }

    private static unsafe void TransposeScalar<T>(T* src, int ld, int rFirst, int rLast, int pFirst, int pLast, T* dst, int width)
        where T : unmanaged
    {
        for (int r = rFirst; r < rLast; r++)
        {
            T* s = src + (long)r * ld;
            for (int p = pFirst; p < pLast; p++) dst[(long)p * width + r] = s[p];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8x8(float* s, nint ld, float* d, nint ds)
    {
        Vector256<float> r0 = Avx.LoadVector256(s), r1 = Avx.LoadVector256(s + ld);
        Vector256<float> r2 = Avx.LoadVector256(s + 2 * ld), r3 = Avx.LoadVector256(s + 3 * ld);
        Vector256<float> r4 = Avx.LoadVector256(s + 4 * ld), r5 = Avx.LoadVector256(s + 5 * ld);
        Vector256<float> r6 = Avx.LoadVector256(s + 6 * ld), r7 = Avx.LoadVector256(s + 7 * ld);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + ds, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * ds, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * ds, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * ds, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * ds, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * ds, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * ds, Avx.Permute2x128(u3, u7, 0x31));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose4x4(double* s, nint ld, double* d, nint ds)
    {
        Vector256<double> r0 = Avx.LoadVector256(s), r1 = Avx.LoadVector256(s + ld);
        Vector256<double> r2 = Avx.LoadVector256(s + 2 * ld), r3 = Avx.LoadVector256(s + 3 * ld);
        Vector256<double> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<double> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Avx.Store(d, Avx.Permute2x128(t0, t2, 0x20));
        Avx.Store(d + ds, Avx.Permute2x128(t1, t3, 0x20));
        Avx.Store(d + 2 * ds, Avx.Permute2x128(t0, t2, 0x31));
        Avx.Store(d + 3 * ds, Avx.Permute2x128(t1, t3, 0x31));
    }
}
