using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// Matrix-vector products for m == 1 or n == 1. Each output element is computed by code that depends only on k (never
// on how the outputs are split into parts), so the result is the same for any thread count.
public static partial class Gemm
{
    /// <summary>Below this many multiply-adds a GEMV runs on the calling thread only.</summary>
    private const long GemvParallelMacs = 1L << 17;

    /// <summary>
    /// How many contiguous ranges of outputs a GEMV is cut into: ranges of 32 dot products or 128 column sweeps (about
    /// 100 KB of a matrix with k = 784), by size only. Threading.For gives each thread the same block of ranges call
    /// after call, so repeated calls find each thread's rows of the matrix in its own cache, and a thread that runs
    /// late leaves its unclaimed ranges to the others. Each output's value does not depend on the ranges.
    /// </summary>
    private static int GemvParts(bool dot, int count, int k, bool threads) =>
        threads && (long)count * k >= GemvParallelMacs ? (count + (dot ? 31 : 127)) / (dot ? 32 : 128) : 1;

    /// <summary>y[j * incy] = alpha * dot(M[j, 0..k], x) + beta * y[j * incy] for j &lt; rows (M rows contiguous).</summary>
    private static unsafe void GemvDot<T>(int rows, int k, T* mat, int ldm, T* x, int incx, T alpha, T beta, T* y, int incy,
        bool threads) where T : unmanaged, IFloatingPointIeee754<T> =>
        Gemv(dot: true, rows, k, mat, ldm, x, incx, alpha, beta, y, incy, threads);

    /// <summary>y[j * incy] = alpha * sum_p x[p] * M[p, j] + beta * y[j * incy] for j &lt; cols (M rows contiguous).</summary>
    private static unsafe void GemvAxpy<T>(int cols, int k, T* mat, int ldm, T* x, int incx, T alpha, T beta, T* y, int incy,
        bool threads) where T : unmanaged, IFloatingPointIeee754<T> =>
        Gemv(dot: false, cols, k, mat, ldm, x, incx, alpha, beta, y, incy, threads);

    private static unsafe void Gemv<T>(bool dot, int count, int k, T* mat, int ldm, T* x, int incx, T alpha, T beta, T* y, int incy,
        bool threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int parts = GemvParts(dot, count, k, threads);
        var body = new GemvBody<T>(dot, count, k, mat, ldm, Contiguous(x, incx, k), alpha, beta, y, incy, parts);
        if (parts > 1) Threading.For(parts, body);
        else body.Invoke(0);
    }

    /// <summary>x itself when incx is 1, else a copy in the calling thread's pinned buffer (reused across calls).</summary>
    private static unsafe T* Contiguous<T>(T* x, int incx, int k) where T : unmanaged
    {
        if (incx == 1) return x;
        var copy = GemvBuffer<T>.t_x;
        if (copy is null || copy.Length < k) GemvBuffer<T>.t_x = copy = GC.AllocateUninitializedArray<T>(Math.Max(k, 256), pinned: true);
        T* d = (T*)Unsafe.AsPointer(ref copy[0]);
        for (int p = 0; p < k; p++) d[p] = x[(long)p * incx];
        return d;
    }

    private static class GemvBuffer<T>
    {
        [ThreadStatic] internal static T[]? t_x;
    }

    /// <summary>One GEMV: part i computes outputs [Start(i), Start(i + 1)), by dot products or by column sweeps.</summary>
    private readonly unsafe struct GemvBody<T>(bool dot, int count, int k, T* mat, int ldm, T* x, T alpha, T beta, T* y, int incy, int parts)
        : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly bool _dot = dot;
        private readonly int _count = count, _k = k, _ldm = ldm, _incy = incy, _parts = parts;
        private readonly T* _mat = mat, _x = x, _y = y;
        private readonly T _alpha = alpha, _beta = beta;

        public void Invoke(int part)
        {
            if (_dot) DotPart(Start(part), Start(part + 1));
            else AxpyPart(Start(part), Start(part + 1));
        }

        /// <summary>Part boundaries, rounded to 16 outputs so each part keeps whole vectors.</summary>
        private int Start(int part) => part >= _parts ? _count : (int)((long)_count * part / _parts) & ~15;

        private void DotPart(int first, int last)
        {
            int j = first;
            if (Vector512.IsHardwareAccelerated)
                for (; j + 4 <= last; j += 4) Dot4(j);
            for (; j < last; j++) Store(j, DotRow(_mat + (long)j * _ldm, _x, _k));
        }

        private void Store(int j, T dot)
        {
            T* yj = _y + (long)j * _incy;
            *yj = T.IsZero(_beta) ? _alpha * dot : T.FusedMultiplyAdd(_alpha, dot, _beta * *yj);
        }

        /// <summary>Four rows at once, each with exactly the operations of <see cref="DotRow"/>.</summary>
        private void Dot4(int j)
        {
            int k = _k, w = Vector512<T>.Count;
            T* x = _x, r0 = _mat + (long)j * _ldm, r1 = r0 + _ldm, r2 = r1 + _ldm, r3 = r2 + _ldm;
            Vector512<T> s00 = default, s01 = default, s10 = default, s11 = default;
            Vector512<T> s20 = default, s21 = default, s30 = default, s31 = default;
            int p = 0;
            for (; p + 2 * w <= k; p += 2 * w)
            {
                Vector512<T> x0 = Vector512.Load(x + p), x1 = Vector512.Load(x + p + w);
                s00 = Ops512<T>.Fma(Vector512.Load(r0 + p), x0, s00);
                s01 = Ops512<T>.Fma(Vector512.Load(r0 + p + w), x1, s01);
                s10 = Ops512<T>.Fma(Vector512.Load(r1 + p), x0, s10);
                s11 = Ops512<T>.Fma(Vector512.Load(r1 + p + w), x1, s11);
                s20 = Ops512<T>.Fma(Vector512.Load(r2 + p), x0, s20);
                s21 = Ops512<T>.Fma(Vector512.Load(r2 + p + w), x1, s21);
                s30 = Ops512<T>.Fma(Vector512.Load(r3 + p), x0, s30);
                s31 = Ops512<T>.Fma(Vector512.Load(r3 + p + w), x1, s31);
            }
            if (p + w <= k)
            {
                Vector512<T> x0 = Vector512.Load(x + p);
                s00 = Ops512<T>.Fma(Vector512.Load(r0 + p), x0, s00);
                s10 = Ops512<T>.Fma(Vector512.Load(r1 + p), x0, s10);
                s20 = Ops512<T>.Fma(Vector512.Load(r2 + p), x0, s20);
                s30 = Ops512<T>.Fma(Vector512.Load(r3 + p), x0, s30);
                p += w;
            }
            // the four horizontal sums first, then the tails: vector accumulators kept live across the tail loops made
            // the JIT spill three of them on every k step (a store and a reload each; tier-1 disassembly)
            T d0 = Vector512.Sum(s00 + s01), d1 = Vector512.Sum(s10 + s11), d2 = Vector512.Sum(s20 + s21), d3 = Vector512.Sum(s30 + s31);
            Store(j, d0 + Tail(r0, x, p, k));
            Store(j + 1, d1 + Tail(r1, x, p, k));
            Store(j + 2, d2 + Tail(r2, x, p, k));
            Store(j + 3, d3 + Tail(r3, x, p, k));
        }

        private static T DotRow(T* r, T* x, int k)
        {
            int p = 0;
            // narrower vectors: TensorPrimitives picks the width; a short row keeps the plain fused chain, as the wide
            // path does below 2·Vector512<T>.Count (so a one-row product matches the same row of a batch there too)
            if (!Vector512.IsHardwareAccelerated)
                return k < 2 * Vector512<T>.Count ? Tail(r, x, 0, k)
                    : System.Numerics.Tensors.TensorPrimitives.Dot(new ReadOnlySpan<T>(r, k), new ReadOnlySpan<T>(x, k));
            int w = Vector512<T>.Count;
            Vector512<T> s0 = default, s1 = default;
            for (; p + 2 * w <= k; p += 2 * w)
            {
                s0 = Ops512<T>.Fma(Vector512.Load(r + p), Vector512.Load(x + p), s0);
                s1 = Ops512<T>.Fma(Vector512.Load(r + p + w), Vector512.Load(x + p + w), s1);
            }
            if (p + w <= k)
            {
                s0 = Ops512<T>.Fma(Vector512.Load(r + p), Vector512.Load(x + p), s0);
                p += w;
            }
            return Vector512.Sum(s0 + s1) + Tail(r, x, p, k);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static T Tail(T* r, T* x, int p, int k)
        {
            T t = T.Zero;
            for (; p < k; p++) t = T.FusedMultiplyAdd(r[p], x[p], t);
            return t;
        }

        private void AxpyPart(int first, int last)
        {
            if (!Vector512.IsHardwareAccelerated)
            {
                // narrower vectors: y[first..last) = Σ_p x[p]·row p, a row at a time (TensorPrimitives picks the width)
                int len = last - first;
                var acc = len <= 1024 ? stackalloc T[len] : new T[len];
                acc.Clear();
                for (int p = 0; p < _k; p++)
                    System.Numerics.Tensors.TensorPrimitives.FusedMultiplyAdd(new ReadOnlySpan<T>(_mat + (long)p * _ldm + first, len), _x[p], acc, acc);
                for (int q = 0; q < len; q++) Store(first + q, acc[q]);
                return;
            }
            int w = Vector512<T>.Count;
            T* tmp = stackalloc T[8 * 64 / sizeof(T)];
            int j = first;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 8 * w <= last; j += 8 * w)
                {
                    Axpy8(j, tmp);
                    Flush(j, 8 * w, tmp);
                }
                for (; j + w <= last; j += w)
                {
                    Vector512<T> s = default;
                    T* col = _mat + j;
                    for (int p = 0; p < _k; p++) s = Ops512<T>.Fma(Vector512.Create(_x[p]), Vector512.Load(col + (long)p * _ldm), s);
                    Vector512.Store(s, tmp);
                    Flush(j, w, tmp);
                }
            }
            for (; j < last; j++)
            {
                T s = T.Zero;
                T* col = _mat + j;
                for (int p = 0; p < _k; p++) s = T.FusedMultiplyAdd(_x[p], col[(long)p * _ldm], s);
                Store(j, s);
            }
        }

        private void Axpy8(int j, T* tmp)
        {
            nint w = Vector512<T>.Count, ldm = _ldm;
            T* col = _mat + j, x = _x;
            Vector512<T> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            for (int p = 0; p < _k; p++, col += ldm)
            {
                Vector512<T> xv = Vector512.Create(x[p]);
                s0 = Ops512<T>.Fma(xv, Vector512.Load(col), s0);
                s1 = Ops512<T>.Fma(xv, Vector512.Load(col + w), s1);
                s2 = Ops512<T>.Fma(xv, Vector512.Load(col + 2 * w), s2);
                s3 = Ops512<T>.Fma(xv, Vector512.Load(col + 3 * w), s3);
                s4 = Ops512<T>.Fma(xv, Vector512.Load(col + 4 * w), s4);
                s5 = Ops512<T>.Fma(xv, Vector512.Load(col + 5 * w), s5);
                s6 = Ops512<T>.Fma(xv, Vector512.Load(col + 6 * w), s6);
                s7 = Ops512<T>.Fma(xv, Vector512.Load(col + 7 * w), s7);
            }
            Vector512.Store(s0, tmp);
            Vector512.Store(s1, tmp + w);
            Vector512.Store(s2, tmp + 2 * w);
            Vector512.Store(s3, tmp + 3 * w);
            Vector512.Store(s4, tmp + 4 * w);
            Vector512.Store(s5, tmp + 5 * w);
            Vector512.Store(s6, tmp + 6 * w);
            Vector512.Store(s7, tmp + 7 * w);
        }

        private void Flush(int j, int count, T* acc)
        {
            for (int q = 0; q < count; q++) Store(j + q, acc[q]);
        }
    }
}
