using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// Which scores take part: a bool keep-mask (true = takes part) or an additive float mask, read at
/// <c>BatchOffsets[b] + i·RowStride + j</c> for batch b, query i, key j (RowStride 0: one row for every query),
/// and/or the causal rule (key j ≤ query i). Null arrays: no mask of that kind.
/// </summary>
internal readonly struct AttentionMask<T>(bool[]? keep, T[]? add, int[]? batchOffsets, int rowStride, bool causal)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public bool[]? Keep { get; } = keep;

    public T[]? Add { get; } = add;

    public int[]? BatchOffsets { get; } = batchOffsets;

    public int RowStride { get; } = rowStride;

    public bool Causal { get; } = causal;

    /// <summary>The keys a query block [i0, i0 + rows) can see: all of them, or up to its last row when causal.</summary>
    public int KeyEnd(int i0, int rows, int s) => Causal ? Math.Min(s, i0 + rows) : s;

    /// <summary>Masks the scores of query i against keys [j0, j0 + row.Length): −∞ where a key does not take part, or the float mask added.</summary>
    public void Apply(int b, int i, int j0, Span<T> row)
    {
        if (Keep is not null)
        {
            var m = Keep.AsSpan(BatchOffsets![b] + i * RowStride + j0, row.Length);
            for (int c = 0; c < row.Length; c++)
                if (!m[c]) row[c] = T.NegativeInfinity;
        }
        else if (Add is not null)
        {
            TensorPrimitives.Add(row, Add.AsSpan(BatchOffsets![b] + i * RowStride + j0, row.Length), row);
        }
        if (Causal && j0 + row.Length - 1 > i) row[Math.Max(0, i - j0 + 1)..].Fill(T.NegativeInfinity);
    }
}

/// <summary>
/// Scaled dot-product attention over dense (B, L, E) queries, (B, S, E) keys and (B, S, Ev) values, FlashAttention-2
/// style: the forward walks key blocks with an online softmax (a running max and sum per query row) and keeps only
/// the output and the per-row log-sum-exp; the backward recomputes each block's probabilities from them. No L×S
/// matrix is ever stored: memory is linear in the sequence lengths (plus one BlockQ×BlockK tile per thread).
/// The tile products run on the packed GEMM (one thread each); the row work on TensorPrimitives.
/// Parts: (batch, query block) for the forward; for the backward one part per batch entry (batch·heads ≥
/// <see cref="OnePassBatch"/>), else a dQ pass over (batch, query block) and a dK/dV pass over (batch, key block). The
/// choice depends on the sizes only, every output element is written by one part, and nothing is accumulated across
/// parts, so results are the same whatever the thread count.
/// </summary>
internal static class FlashAttention
{
    internal const int BlockQ = 64, BlockK = 64;

    private static class Buffers<T>
    {
        [ThreadStatic] private static T[]? t_buffer;

        public static T[] Get(int length)
        {
            var b = t_buffer;
            if (b is null || b.Length < length) t_buffer = b = new T[length];
            return b;
        }
    }

    /// <summary>o = softmax(scale·q·kᵀ + mask)·v and lse = log Σ exp(scale·q·kᵀ + mask) per query row.</summary>
    public static void Forward<T>(int batch, int l, int s, int e, int ev, T scale, ReadOnlyMemory<T> q, ReadOnlyMemory<T> k,
        ReadOnlyMemory<T> v, AttentionMask<T> mask, Memory<T> o, Memory<T> lse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nq = (l + BlockQ - 1) / BlockQ;
        Threading.For(batch * nq, new ForwardBody<T>(nq, l, s, e, ev, scale, q, k, v, mask, o, lse));
    }

    /// <summary>
    /// dq, dk, dv from the residual dO, the forward's o and lse. <paramref name="d"/> (B·L) receives D = rowsum(dO∘o).
    /// </summary>
    public static void Backward<T>(int batch, int l, int s, int e, int ev, T scale, ReadOnlyMemory<T> q, ReadOnlyMemory<T> k,
        ReadOnlyMemory<T> v, AttentionMask<T> mask, ReadOnlyMemory<T> o, ReadOnlyMemory<T> lse, ReadOnlyMemory<T> dO,
        Memory<T> d, Memory<T> dq, Memory<T> dk, Memory<T> dv) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int nq = (l + BlockQ - 1) / BlockQ, nk = (s + BlockK - 1) / BlockK;
        var body = new BackwardBody<T>(nq, nk, l, s, e, ev, scale, q, k, v, mask, o, lse, dO, d, dq, dk, dv);
        if (batch >= OnePassBatch)
        {
            // one part per batch entry owns its dQ, dK and dV: each tile's P and dS are computed once
            Threading.For(batch, body);
            return;
        }
        body.Pass = BackwardPass.Queries;
        Threading.For(batch * nq, body);
        body.Pass = BackwardPass.Keys;
        Threading.For(batch * nk, body);
    }

    /// <summary>From this many batch entries (batch·heads) on, the backward runs one part per entry instead of two passes.</summary>
    internal const int OnePassBatch = 8;

    private enum BackwardPass { Whole, Queries, Keys }

    // P = exp(S − lse) row by row (S already masked); the tile's rows are BlockK apart
    private static unsafe void Probabilities<T>(T* sTile, T* pTile, int rows, int cols, T* lse) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            var srow = new Span<T>(sTile + r * BlockK, cols);
            TensorPrimitives.Subtract(srow, lse[r], srow);
            TensorPrimitives.Exp(srow, new Span<T>(pTile + r * BlockK, cols));
        }
    }

    // dS = P∘(dP − D), into the P tile
    private static unsafe void ScoreGradient<T>(T* dpTile, T* pTile, int rows, int cols, T* dRows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            var dp = new Span<T>(dpTile + r * BlockK, cols);
            var p = new Span<T>(pTile + r * BlockK, cols);
            TensorPrimitives.Subtract(dp, dRows[r], dp);
            TensorPrimitives.Multiply(p, dp, p);
        }
    }

    private readonly struct ForwardBody<T>(int nq, int l, int s, int e, int ev, T scale, ReadOnlyMemory<T> q, ReadOnlyMemory<T> k,
        ReadOnlyMemory<T> v, AttentionMask<T> mask, Memory<T> o, Memory<T> lse) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public unsafe void Invoke(int part)
        {
            int b = part / nq, i0 = part % nq * BlockQ, rows = Math.Min(BlockQ, l - i0);
            var buf = Buffers<T>.Get(2 * BlockQ * BlockK + 2 * BlockQ);
            fixed (T* pq = q.Span, pk = k.Span, pv = v.Span, po = o.Span, pl = lse.Span, pb = buf)
            {
                T* sTile = pb, pTile = pb + BlockQ * BlockK, m = pTile + BlockQ * BlockK, sum = m + BlockQ;
                T* qb = pq + ((long)b * l + i0) * e, ob = po + ((long)b * l + i0) * ev;
                new Span<T>(ob, rows * ev).Clear();
                for (int r = 0; r < rows; r++) (m[r], sum[r]) = (T.NegativeInfinity, T.Zero);
                int kEnd = mask.KeyEnd(i0, rows, s);
                for (int j0 = 0; j0 < kEnd; j0 += BlockK)
                {
                    int cols = Math.Min(BlockK, kEnd - j0);
                    Gemm.Tile(false, true, rows, cols, e, scale, qb, e, pk + ((long)b * s + j0) * e, e, T.Zero, sTile, BlockK);
                    for (int r = 0; r < rows; r++)
                    {
                        var srow = new Span<T>(sTile + r * BlockK, cols);
                        var prow = new Span<T>(pTile + r * BlockK, cols);
                        mask.Apply(b, i0 + r, j0, srow);
                        T mNew = T.Max(m[r], TensorPrimitives.Max(srow));
                        if (T.IsNegativeInfinity(mNew))
                        {
                            prow.Clear();   // every key so far masked: nothing to add yet
                            continue;
                        }
                        // online softmax: rescale what was summed under the old max
                        T alpha = T.Exp(m[r] - mNew);
                        TensorPrimitives.Subtract(srow, mNew, srow);
                        TensorPrimitives.Exp(srow, prow);
                        sum[r] = sum[r] * alpha + TensorPrimitives.Sum(prow);
                        if (alpha != T.One)
                        {
                            var orow = new Span<T>(ob + r * ev, ev);
                            TensorPrimitives.Multiply(orow, alpha, orow);
                        }
                        m[r] = mNew;
                    }
                    Gemm.Tile(false, false, rows, ev, cols, T.One, pTile, BlockK, pv + ((long)b * s + j0) * ev, ev, T.One, ob, ev);
                }
                for (int r = 0; r < rows; r++)
                {
                    // a fully masked row: 0/0 = NaN output and lse −∞, as the composed softmax gives
                    var orow = new Span<T>(ob + r * ev, ev);
                    TensorPrimitives.Divide(orow, sum[r], orow);
                    pl[(long)b * l + i0 + r] = m[r] + T.Log(sum[r]);
                }
            }
        }
    }

    private struct BackwardBody<T>(int nq, int nk, int l, int s, int e, int ev, T scale, ReadOnlyMemory<T> q, ReadOnlyMemory<T> k,
        ReadOnlyMemory<T> v, AttentionMask<T> mask, ReadOnlyMemory<T> o, ReadOnlyMemory<T> lse, ReadOnlyMemory<T> dO,
        Memory<T> d, Memory<T> dq, Memory<T> dk, Memory<T> dv) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>
        /// Whole: one part per batch entry; Queries: the dQ pass over (batch, query block), which also fills D; Keys: the
        /// dK/dV pass over (batch, key block).
        /// </summary>
        public BackwardPass Pass { get; set; }

        public readonly void Invoke(int part)
        {
            if (Pass == BackwardPass.Whole) Whole(part);
            else if (Pass == BackwardPass.Keys) KeyBlock(part / nk, part % nk * BlockK);
            else QueryBlock(part / nq, part % nq * BlockQ);
        }

        // every tile of one batch entry: key blocks outside, query blocks inside; dQ_i accumulates over j in order
        private readonly unsafe void Whole(int b)
        {
            var buf = Buffers<T>.Get(2 * BlockQ * BlockK);
            fixed (T* pq = q.Span, pk = k.Span, pv = v.Span, po = o.Span, pl = lse.Span, pdo = dO.Span, pd = d.Span, pdq = dq.Span, pdk = dk.Span, pdv = dv.Span, pb = buf)
            {
                T* sTile = pb, pTile = pb + BlockQ * BlockK;
                long row0 = (long)b * l, key0 = (long)b * s;
                for (int r = 0; r < l; r++)
                    pd[row0 + r] = TensorPrimitives.Dot(new ReadOnlySpan<T>(pdo + (row0 + r) * ev, ev), new ReadOnlySpan<T>(po + (row0 + r) * ev, ev));
                new Span<T>(pdq + row0 * e, l * e).Clear();
                new Span<T>(pdk + key0 * e, s * e).Clear();
                new Span<T>(pdv + key0 * ev, s * ev).Clear();
                for (int j0 = 0; j0 < s; j0 += BlockK)
                {
                    int cols = Math.Min(BlockK, s - j0);
                    T* kb = pk + (key0 + j0) * e, vb = pv + (key0 + j0) * ev, dkb = pdk + (key0 + j0) * e, dvb = pdv + (key0 + j0) * ev;
                    for (int i0 = mask.Causal ? j0 / BlockQ * BlockQ : 0; i0 < l; i0 += BlockQ)
                    {
                        int rows = Math.Min(BlockQ, l - i0);
                        T* qb = pq + (row0 + i0) * e, dob = pdo + (row0 + i0) * ev;
                        Gemm.Tile(false, true, rows, cols, e, scale, qb, e, kb, e, T.Zero, sTile, BlockK);
                        for (int r = 0; r < rows; r++) mask.Apply(b, i0 + r, j0, new Span<T>(sTile + r * BlockK, cols));
                        Probabilities(sTile, pTile, rows, cols, pl + row0 + i0);
                        Gemm.Tile(true, false, cols, ev, rows, T.One, pTile, BlockK, dob, ev, T.One, dvb, ev);
                        Gemm.Tile(false, true, rows, cols, ev, T.One, dob, ev, vb, ev, T.Zero, sTile, BlockK);
                        ScoreGradient(sTile, pTile, rows, cols, pd + row0 + i0);
                        Gemm.Tile(true, false, cols, e, rows, scale, pTile, BlockK, qb, e, T.One, dkb, e);
                        Gemm.Tile(false, false, rows, e, cols, scale, pTile, BlockK, kb, e, T.One, pdq + (row0 + i0) * e, e);
                    }
                }
            }
        }

        // dQ_i = scale · Σ_j dS_ij · K_j
        private readonly unsafe void QueryBlock(int b, int i0)
        {
            int rows = Math.Min(BlockQ, l - i0);
            var buf = Buffers<T>.Get(2 * BlockQ * BlockK);
            fixed (T* pq = q.Span, pk = k.Span, pv = v.Span, po = o.Span, pl = lse.Span, pdo = dO.Span, pd = d.Span, pdq = dq.Span, pb = buf)
            {
                T* sTile = pb, pTile = pb + BlockQ * BlockK;
                long row0 = (long)b * l + i0;
                T* qb = pq + row0 * e, dob = pdo + row0 * ev, dqb = pdq + row0 * e, dRows = pd + row0, lseRows = pl + row0;
                for (int r = 0; r < rows; r++)
                    dRows[r] = TensorPrimitives.Dot(new ReadOnlySpan<T>(dob + r * ev, ev), new ReadOnlySpan<T>(po + (row0 + r) * ev, ev));
                new Span<T>(dqb, rows * e).Clear();
                int kEnd = mask.KeyEnd(i0, rows, s);
                for (int j0 = 0; j0 < kEnd; j0 += BlockK)
                {
                    int cols = Math.Min(BlockK, kEnd - j0);
                    T* kb = pk + ((long)b * s + j0) * e, vb = pv + ((long)b * s + j0) * ev;
                    Gemm.Tile(false, true, rows, cols, e, scale, qb, e, kb, e, T.Zero, sTile, BlockK);
                    for (int r = 0; r < rows; r++) mask.Apply(b, i0 + r, j0, new Span<T>(sTile + r * BlockK, cols));
                    Probabilities(sTile, pTile, rows, cols, lseRows);
                    Gemm.Tile(false, true, rows, cols, ev, T.One, dob, ev, vb, ev, T.Zero, sTile, BlockK);   // dP = dO·Vᵀ
                    ScoreGradient(sTile, pTile, rows, cols, dRows);
                    Gemm.Tile(false, false, rows, e, cols, scale, pTile, BlockK, kb, e, T.One, dqb, e);
                }
            }
        }

        // dV_j = Σ_i P_ijᵀ · dO_i, dK_j = scale · Σ_i dS_ijᵀ · Q_i
        private readonly unsafe void KeyBlock(int b, int j0)
        {
            int cols = Math.Min(BlockK, s - j0);
            var buf = Buffers<T>.Get(2 * BlockQ * BlockK);
            fixed (T* pq = q.Span, pk = k.Span, pv = v.Span, pl = lse.Span, pdo = dO.Span, pd = d.Span, pdk = dk.Span, pdv = dv.Span, pb = buf)
            {
                T* sTile = pb, pTile = pb + BlockQ * BlockK;
                long key0 = (long)b * s + j0;
                T* kb = pk + key0 * e, vb = pv + key0 * ev, dkb = pdk + key0 * e, dvb = pdv + key0 * ev;
                new Span<T>(dkb, cols * e).Clear();
                new Span<T>(dvb, cols * ev).Clear();
                // causal: the first query block with a row i ≥ j0
                for (int i0 = mask.Causal ? j0 / BlockQ * BlockQ : 0; i0 < l; i0 += BlockQ)
                {
                    int rows = Math.Min(BlockQ, l - i0);
                    long row0 = (long)b * l + i0;
                    T* qb = pq + row0 * e, dob = pdo + row0 * ev;
                    Gemm.Tile(false, true, rows, cols, e, scale, qb, e, kb, e, T.Zero, sTile, BlockK);
                    for (int r = 0; r < rows; r++) mask.Apply(b, i0 + r, j0, new Span<T>(sTile + r * BlockK, cols));
                    Probabilities(sTile, pTile, rows, cols, pl + row0);
                    Gemm.Tile(true, false, cols, ev, rows, T.One, pTile, BlockK, dob, ev, T.One, dvb, ev);
                    Gemm.Tile(false, true, rows, cols, ev, T.One, dob, ev, vb, ev, T.Zero, sTile, BlockK);
                    ScoreGradient(sTile, pTile, rows, cols, pd + row0);
                    Gemm.Tile(true, false, cols, e, rows, scale, pTile, BlockK, qb, e, T.One, dkb, e);
                }
            }
        }
    }
}
