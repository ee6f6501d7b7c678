using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Kernels;

namespace Nabla;

// The LSTM without per-sample lengths: the fused step (Kernels/Recurrent/LstmFused.cs), the batch split across
// threads for the whole sequence (each part runs its rows through every step with no synchronisation between steps;
// a row's arithmetic does not depend on the split), and every buffer rented from StoragePool and given back when the
// graph node is freed (nothing per step is allocated).
internal sealed partial class RecurrentRun<T>
{
    private bool _fused;

    private bool UseFused => mode == RecurrentMode.Lstm && lengths is null;

    private static DType Type => typeof(T) == typeof(float) ? DType.Float32 : DType.Float64;

    private static T[] Rent(int n) => StoragePool.Rent(Type, n) as T[] ?? new T[n];

    private static void GiveBack(T[] a)
    {
        if (a.Length > 0) StoragePool.Return(a);
    }

    /// <summary>Rows per part: whole tiles, about the same number in every part.</summary>
    private int Parts(out int chunk)
    {
        long flops = 2L * steps * batch * _gh * hidden;
        // parts of 4 rows (one register tile), by size only: a thread that finishes its own parts takes the others'
        // from their ends, so a core the OS slows down no longer holds up the whole sequence (measured, interleaved
        // in one process on 2 vCPUs, LSTM(28→128) b64 step: 9% faster median and min than one part per thread)
        int parts = flops < 1 << 21 ? 1 : Math.Clamp((batch + 3) / 4, 1, 64);
        chunk = (batch + parts - 1) / parts;
        if (parts > 1) chunk = (chunk + 3) / 4 * 4;
        return (batch + chunk - 1) / chunk;
    }

    private (Tensor Y, Tensor HN, Tensor? CN) ForwardFused(Tensor x, Tensor wIh, Tensor wHh, Tensor? bIh, Tensor? bHh, Tensor h0, Tensor c0)
    {
        int gh = _gh, rows = Rows, hd = hidden;
        var gates = Rent(rows * gh);
        var gs = gates.AsSpan(0, rows * gh);
        bool bias = bIh is not null || bHh is not null;
        if (bias)
        {
            var brow = gs[..gh];
            if (bIh is not null) bIh.Span<T>().CopyTo(brow);
            else brow.Clear();
            if (bHh is not null) TensorPrimitives.Add<T>(brow, bHh.Span<T>(), brow);
            for (int r = 1; r < rows; r++) brow.CopyTo(gs.Slice(r * gh, gh));
        }
        Kernels.Gemm.Multiply(false, true, rows, gh, inF, x.Span<T>(), inF, wIh.Span<T>(), inF, bias ? T.One : T.Zero, gs, gh);

        T[] hA = Rent(batch * hd), hB = Rent(batch * hd), c = Rent(batch * hd);
        h0.Span<T>().CopyTo(hA);
        c0.Span<T>().CopyTo(c);
        if (save) (_hPrev, _cPrev, _tanhC) = (Rent(rows * hd), Rent(rows * hd), Rent(rows * hd));
        var packed = Rent(Math.Max(1, LstmFused.PackedLength<T>(hd)));
        LstmFused.PackWeights<T>(wHh.Span<T>(), hd, packed);
        var y = Tensor.Uninitialized(x.DType, [steps, batch, hd]);
        var job = new FusedJob(this, gates, wHh, hA, hB, c, packed, y, null, null, [], []);
        RunParts(job, forward: true);
        var hn = steps % 2 == 0 ? hA : hB;
        GiveBack(steps % 2 == 0 ? hB : hA);
        GiveBack(packed);
        if (save) (_x, _wIh, _wHh, _gates, _fused) = (x, wIh, wHh, gates, true);
        else GiveBack(gates);
        return (y, new Tensor(hn, [batch, hd]), new Tensor(c, [batch, hd]));
    }

    private void RunParts(FusedJob job, bool forward)
    {
        int parts = Parts(out int chunk);
        if (parts == 1) job.Run(0, batch, forward);
        else Threading.For(parts, new FusedBody(job, chunk, batch, forward));
    }

    private readonly struct FusedBody(FusedJob job, int chunk, int batch, bool forward) : IParallelBody
    {
        public void Invoke(int part) => job.Run(part * chunk, Math.Min(batch, (part + 1) * chunk), forward);
    }

    // what one call's parts share: the arrays (one object, so the parallel body holds a single reference)
    private sealed record FusedJob(RecurrentRun<T> Owner, T[] Gates, Tensor Whh, T[] HA, T[] HB, T[] C, T[] Packed, Tensor? Y,
        Tensor? DY, Tensor? DHn, T[] DG, T[] Dc)
    {
        public void Run(int b0, int b1, bool forward)
        {
            if (forward) Owner.ForwardRows(this, b0, b1);
            else Owner.BackwardRows(this, b0, b1);
        }

        public static Span<T> Of(Tensor? t) => t is null ? default : t.Span<T>();
    }

    private unsafe void ForwardRows(FusedJob job, int b0, int b1)
    {
        int gh = _gh, hd = hidden, ld = RowStep, m = b1 - b0;
        fixed (T* gates = job.Gates, hA = job.HA, hB = job.HB, c = job.C, packed = job.Packed, hPrev = _hPrev, cPrev = _cPrev, tanhC = _tanhC)
        fixed (T* whh = FusedJob.Of(job.Whh), y = FusedJob.Of(job.Y))
        {
            for (int s = 0; s < steps; s++)
            {
                int t = Time(s), rb = RowBase(t) + b0 * ld;
                T* hIn = (s % 2 == 0 ? hA : hB) + (long)b0 * hd;
                T* hOut = (s % 2 == 0 ? hB : hA) + (long)b0 * hd;
                if (save)
                    for (int b = 0; b < m; b++)
                        new ReadOnlySpan<T>(hIn + (long)b * hd, hd).CopyTo(new Span<T>(hPrev + (long)(rb + b * ld) * hd, hd));
                var step = new LstmForwardStep<T>
                {
                    Rows = m, Hidden = hd, HIn = hIn, Gates = gates + (long)rb * gh, GateStride = ld * gh, C = c + (long)b0 * hd,
                    HOut = hOut, Y = y + ((long)t * batch + b0) * hd,
                    CPrev = save ? cPrev + (long)rb * hd : null, TanhC = save ? tanhC + (long)rb * hd : null, SaveStride = ld * hd,
                };
                LstmFused.Forward(step, packed, whh);
            }
        }
    }

    private Tensor?[] BackwardFused(Tensor? dY, Tensor? dHn, Tensor? dCn, bool needX, bool needWih, bool needWhh, bool needBih, bool needBhh, bool needH0, bool needC0)
    {
        int gh = _gh, rows = Rows, hd = hidden;
        var dG = Rent(rows * gh);
        var dc = Rent(batch * hd);
        if (dCn is null) dc.AsSpan(0, batch * hd).Clear();
        else dCn.Span<T>().CopyTo(dc);
        var job = new FusedJob(this, _gates, _wHh!, [], [], [], [], null, dY, dHn, dG, dc);
        RunParts(job, forward: false);

        var dtype = _x!.DType;
        var dGs = dG.AsSpan(0, rows * gh);
        Tensor? dx = null, dWih = null, dWhh = null, dbIh = null, dbHh = null, dh0 = null;
        if (needH0)
        {
            // the residual of h0: the first step's dA·W_hh
            dh0 = Tensor.Uninitialized(dtype, [batch, hd]);
            int rb = RowBase(Time(0));
            Kernels.Gemm.Multiply(false, false, batch, hd, gh, dG.AsSpan(rb * gh), RowStep * gh, _wHh!.Span<T>(), hd, T.Zero, dh0.Span<T>(), hd);
        }
        if (needX)
        {
            dx = Tensor.Uninitialized(dtype, _x.Shape.ToArray());
            Kernels.Gemm.Multiply(false, false, rows, inF, gh, dGs, gh, _wIh!.Span<T>(), inF, T.Zero, dx.Span<T>(), inF);
        }
        if (needWih)
        {
            dWih = Tensor.Uninitialized(dtype, [gh, inF]);
            Kernels.Gemm.Multiply(true, false, gh, inF, rows, dGs, gh, _x.Span<T>(), inF, T.Zero, dWih.Span<T>(), inF);
        }
        if (needWhh)
        {
            dWhh = Tensor.Uninitialized(dtype, [gh, hd]);
            Kernels.Gemm.Multiply(true, false, gh, hd, rows, dGs, gh, _hPrev.AsSpan(0, rows * hd), hd, T.Zero, dWhh.Span<T>(), hd);
        }
        if (needBih || needBhh)
        {
            var db = Tensor.Uninitialized(dtype, [gh]);
            Reduce.SumColumns<T>(dGs, rows, gh, db.Span<T>());
            if (needBih) dbIh = db;
            if (needBhh && needBih)
            {
                dbHh = Tensor.Uninitialized(dtype, [gh]);
                db.Span<T>().CopyTo(dbHh.Span<T>());
            }
            else if (needBhh) dbHh = db;
        }
        GiveBack(dG);
        Tensor? dc0 = null;
        if (needC0) dc0 = new Tensor(dc, [batch, hd]);
        else GiveBack(dc);
        return [dx, dWih, dWhh, dbIh, dbHh, dh0, dc0];
    }

    private unsafe void BackwardRows(FusedJob job, int b0, int b1)
    {
        int gh = _gh, hd = hidden, ld = RowStep, m = b1 - b0;
        fixed (T* gates = job.Gates, dG = job.DG, dc = job.Dc, cPrev = _cPrev, tanhC = _tanhC)
        fixed (T* whh = FusedJob.Of(job.Whh), dY = FusedJob.Of(job.DY), dHn = FusedJob.Of(job.DHn))
        {
            for (int s = steps - 1; s >= 0; s--)
            {
                int t = Time(s), rb = RowBase(t) + b0 * ld;
                bool last = s == steps - 1;
                var step = new LstmBackwardStep<T>
                {
                    Rows = m, Hidden = hd,
                    DGNext = last ? null : dG + (long)(RowBase(Time(s + 1)) + b0 * ld) * gh,
                    DhIn = last && dHn != null ? dHn + (long)b0 * hd : null,
                    DOut = dY != null ? dY + ((long)t * batch + b0) * hd : null,
                    Gates = gates + (long)rb * gh, GateStride = ld * gh,
                    CPrev = cPrev + (long)rb * hd, TanhC = tanhC + (long)rb * hd, SaveStride = ld * hd,
                    Dc = dc + (long)b0 * hd, DG = dG + (long)rb * gh,
                };
                LstmFused.Backward(step, whh);
            }
        }
    }

    /// <summary>Gives the buffers kept for backward back to the pool (the graph node was freed: no backward can read them again).</summary>
    public void Release()
    {
        if (!_fused) return;
        _fused = false;
        GiveBack(_gates);
        GiveBack(_hPrev);
        GiveBack(_cPrev);
        GiveBack(_tanhC);
        (_gates, _hPrev, _cPrev, _tanhC) = ([], [], [], []);
    }
}
