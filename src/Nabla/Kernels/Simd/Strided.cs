namespace Nabla.Kernels;

/// <summary>
/// Walks the rows of up to three strided operands over one shape: dims that are laid out back to back in every
/// operand are merged first, so a contiguous tensor is one long row and a broadcast [N, C] + [C] is N rows of C.
/// </summary>
internal static class Strided
{
    public delegate void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2);

    /// <summary>Calls <paramref name="row"/> once per innermost row with each operand's start offset and inner stride.</summary>
    public static void ForEachRow(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides0, int offset0, ReadOnlySpan<int> strides1, int offset1,
        ReadOnlySpan<int> strides2, int offset2, Row row)
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            row(1, offset0, 1, offset1, 1, offset2, 1);
            return;
        }
        Span<int> dims = stackalloc int[rank];
        Span<int> a = stackalloc int[rank];
        Span<int> b = stackalloc int[rank];
        Span<int> c = stackalloc int[rank];
        // coalesce: merge dim i into i+1 when every operand steps over i exactly as over a full row of i+1
        int r = 0;
        for (int i = 0; i < rank; i++)
        {
            if (shape[i] == 0) return;
            if (shape[i] == 1) continue;
            int s0 = strides0.IsEmpty ? 0 : strides0[i], s1 = strides1.IsEmpty ? 0 : strides1[i], s2 = strides2.IsEmpty ? 0 : strides2[i];
            if (r > 0 && a[r - 1] == s0 * shape[i] && b[r - 1] == s1 * shape[i] && c[r - 1] == s2 * shape[i])
            {
                dims[r - 1] *= shape[i];
                a[r - 1] = s0;
                b[r - 1] = s1;
                c[r - 1] = s2;
                continue;
            }
            dims[r] = shape[i];
            a[r] = s0;
            b[r] = s1;
            c[r] = s2;
            r++;
        }
        if (r == 0)
        {
            row(1, offset0, 1, offset1, 1, offset2, 1);
            return;
        }
        int inner = dims[r - 1];
        int outer = 1;
        for (int i = 0; i < r - 1; i++) outer *= dims[i];
        Span<int> idx = stackalloc int[Math.Max(r - 1, 1)];
        idx.Clear();
        int p0 = offset0, p1 = offset1, p2 = offset2;
        for (int o = 0; o < outer; o++)
        {
            row(inner, p0, a[r - 1], p1, b[r - 1], p2, c[r - 1]);
            // odometer over the outer dims
            for (int d = r - 2; d >= 0; d--)
            {
                idx[d]++;
                p0 += a[d];
                p1 += b[d];
                p2 += c[d];
                if (idx[d] < dims[d]) break;
                p0 -= a[d] * dims[d];
                p1 -= b[d] * dims[d];
                p2 -= c[d] * dims[d];
                idx[d] = 0;
            }
        }
    }

    /// <summary>Copies a strided view into a dense row-major destination.</summary>
    public static void Copy<T>(T[] src, int srcOffset, ReadOnlySpan<int> srcStrides, ReadOnlySpan<int> shape, T[] dst, int dstOffset)
    {
        var dstStrides = Nabla.ShapeUtil.ContiguousStrides(shape);
        if (TransposeCopy(src, srcOffset, srcStrides, shape, dst, dstOffset, dstStrides)) return;
        CopyStrided(src, srcOffset, srcStrides, shape, dst, dstOffset, dstStrides);
    }

    /// <summary>
    /// A transposed view (the source's unit-stride dim b is not the last): copies each [b, last] plane in 16 x 16
    /// tiles, so both the strided reads and the contiguous writes stay in cache (an element-by-element walk down a
    /// column touches a new cache line per element). False when the layout is not of that kind.
    /// </summary>
    private static bool TransposeCopy<T>(T[] src, int srcOffset, ReadOnlySpan<int> srcStrides, ReadOnlySpan<int> shape, T[] dst, int dstOffset,
        ReadOnlySpan<int> dstStrides)
    {
        const int Tile = 16;
        int rank = shape.Length, last = rank - 1;
        if (rank < 2 || shape[last] < Tile || srcStrides[last] == 1) return false;
        int b = -1;
        for (int i = last - 1; i >= 0; i--)
            if (srcStrides[i] == 1 && shape[i] >= Tile)
            {
                b = i;
                break;
            }
        if (b < 0) return false;
        int nb = shape[b], nl = shape[last], sl = srcStrides[last], db = dstStrides[b];
        // the other dims: an odometer over their indices
        int outer = 1;
        for (int i = 0; i < last; i++) if (i != b) outer *= shape[i];
        Span<int> idx = stackalloc int[rank];
        idx.Clear();
        int so = srcOffset, d0 = dstOffset;
        for (int o = 0; o < outer; o++)
        {
            for (int i0 = 0; i0 < nb; i0 += Tile)
            {
                int i1 = Math.Min(nb, i0 + Tile);
                for (int j0 = 0; j0 < nl; j0 += Tile)
                {
                    int j1 = Math.Min(nl, j0 + Tile);
                    for (int i = i0; i < i1; i++)
                    {
                        var row = dst.AsSpan(d0 + i * db + j0, j1 - j0);
                        int s = so + i + j0 * sl;
                        for (int j = 0; j < row.Length; j++, s += sl) row[j] = src[s];
                    }
                }
            }
            for (int d = last - 1; d >= 0; d--)
            {
                if (d == b) continue;
                idx[d]++;
                so += srcStrides[d];
                d0 += dstStrides[d];
                if (idx[d] < shape[d]) break;
                so -= srcStrides[d] * shape[d];
                d0 -= dstStrides[d] * shape[d];
                idx[d] = 0;
            }
        }
        return true;
    }

    /// <summary>Copies between two strided layouts of the same shape.</summary>
    public static void CopyStrided<T>(T[] src, int srcOffset, ReadOnlySpan<int> srcStrides, ReadOnlySpan<int> shape, T[] dst, int dstOffset, ReadOnlySpan<int> dstStrides)
    {
        ForEachRow(shape, srcStrides, srcOffset, dstStrides, dstOffset, default, 0, (n, o0, s0, o1, s1, _, _) =>
        {
            if (s0 == 1 && s1 == 1)
            {
                Array.Copy(src, o0, dst, o1, n);
                return;
            }
            if (s0 == 0 && s1 == 1)
            {
                // a broadcast row (an expanded gradient of a sum or mean): one value repeated
                dst.AsSpan(o1, n).Fill(src[o0]);
                return;
            }
            for (int i = 0; i < n; i++) dst[o1 + i * s1] = src[o0 + i * s0];
        });
    }
}
