using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Kernels;

namespace Nabla;

/// <summary>The forward and backward of <see cref="Tensor.RecurrentLayer"/>, typed by element.</summary>
internal interface IRecurrentRun
{
    /// <summary>The output sequence y (T, B, H), time-major, and the final states h_n, c_n (B, H); c_n only for LSTM.</summary>
    (Tensor Y, Tensor HN, Tensor? CN) Forward(Tensor x, Tensor wIh, Tensor wHh, Tensor? bIh, Tensor? bHh, Tensor h0, Tensor? c0);

    /// <summary>
    /// From the residuals of y, h_n and c_n (contiguous; null where an output received none), the gradients
    /// (dx, dW_ih, dW_hh, db_ih, db_hh, dh0, dc0), each null where not asked for.
    /// </summary>
    Tensor?[] Backward(Tensor? dY, Tensor? dHn, Tensor? dCn, bool dx, bool dWih, bool dWhh, bool dbIh, bool dbHh, bool dh0, bool dc0);

    /// <summary>The graph node is freed: what was kept for backward may go back to the pool.</summary>
    void Release();
}

/// <summary>
/// One direction of one layer over a sequence. Buffers with one row per (time, sample) use the input's layout: row
/// t·B + b (time-major) or b·T + t (batch-first), so the input projection, dx and the weight gradients are one GEMM
/// over all rows and a step's rows are every RowStep-th row from RowBase(t). What is kept for backward: the activated
/// gates (all cells), the hidden state entering each step (for dW_hh; GRU also for dz), c and tanh(c') (LSTM), and
/// the recurrent projection h_n of the n gate (GRU). The output sequence y is always time-major (T, B, H).
/// </summary>
internal sealed partial class RecurrentRun<T>(RecurrentMode mode, int steps, int batch, int inF, int hidden, bool reverse, bool batchFirst,
    int[]? lengths, bool save) : IRecurrentRun where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _gh = Tensor.GateCount(mode) * hidden;
    private Tensor? _x, _wIh, _wHh;
    private T[] _gates = [], _hPrev = [], _cPrev = [], _tanhC = [], _hn = [];

    private int Rows => steps * batch;

    private int RowBase(int t) => batchFirst ? t : t * batch;

    private int RowStep => batchFirst ? steps : 1;

    private bool Active(int t, int b) => lengths is null || t < lengths[b];

    private int Time(int step) => reverse ? steps - 1 - step : step;

    public (Tensor Y, Tensor HN, Tensor? CN) Forward(Tensor x, Tensor wIh, Tensor wHh, Tensor? bIh, Tensor? bHh, Tensor h0, Tensor? c0)
    {
        if (UseFused) return ForwardFused(x, wIh, wHh, bIh, bHh, h0, c0!);
        int gh = _gh, rows = Rows, hd = hidden;
        var gates = new T[rows * gh];
        bool bias = bIh is not null || bHh is not null;
        if (bias)
        {
            // the input projection starts from b_ih (+ b_hh, except for GRU whose b_hn must stay inside r·(…))
            var brow = new T[gh];
            bIh?.Span<T>().CopyTo(brow);
            if (bHh is not null && mode != RecurrentMode.Gru) TensorPrimitives.Add<T>(brow, bHh.Span<T>(), brow);
            for (int r = 0; r < rows; r++) brow.CopyTo(gates.AsSpan(r * gh, gh));
        }
        Kernels.Gemm.Multiply(false, true, rows, gh, inF, x.Span<T>(), inF, wIh.Span<T>(), inF, bias ? T.One : T.Zero, gates, gh);

        var h = h0.Span<T>().ToArray();
        var c = c0 is null ? [] : c0.Span<T>().ToArray();
        var hg = mode == RecurrentMode.Gru ? new T[batch * gh] : [];
        var hgBias = mode == RecurrentMode.Gru && bHh is not null ? bHh.Span<T>().ToArray() : null;
        if (save)
        {
            _hPrev = new T[rows * hd];
            if (mode == RecurrentMode.Lstm) (_cPrev, _tanhC) = (new T[rows * hd], new T[rows * hd]);
            if (mode == RecurrentMode.Gru) _hn = new T[rows * hd];
        }
        var scratch = new T[hd];
        var y = Tensor.Empty(x.DType, [steps, batch, hd]);
        var ys = y.Span<T>();
        // W_hhᵀ once, so every step's h·W_hhᵀ reads it in place (RecurrentGemm)
        var wt = new T[hd * gh];
        var whh = wHh.Span<T>();
        for (int r = 0; r < gh; r++)
            for (int q = 0; q < hd; q++) wt[q * gh + r] = whh[r * hd + q];
        bool relu = mode == RecurrentMode.RnnRelu;
        for (int s = 0; s < steps; s++)
        {
            int t = Time(s), rb = RowBase(t), ld = RowStep;
            if (save)
                for (int b = 0; b < batch; b++) h.AsSpan(b * hd, hd).CopyTo(_hPrev.AsSpan((rb + b * ld) * hd, hd));
            if (mode == RecurrentMode.Gru)
            {
                if (hgBias is not null) for (int b = 0; b < batch; b++) hgBias.CopyTo(hg.AsSpan(b * gh, gh));
                else hg.AsSpan().Clear();
                RecurrentGemm.Accumulate<T>(batch, gh, hd, h, hd, wt, gh, hg, gh);
            }
            else
            {
                // a += h·W_hhᵀ, written into this step's rows of the projection
                RecurrentGemm.Accumulate<T>(batch, gh, hd, h, hd, wt, gh, gates.AsSpan(rb * gh), ld * gh);
            }
            for (int b = 0; b < batch; b++)
            {
                int row = rb + b * ld;
                var outRow = ys.Slice((t * batch + b) * hd, hd);
                if (!Active(t, b))
                {
                    // past the sample's end: the state is carried unchanged and the output is zero padding
                    outRow.Clear();
                    continue;
                }
                var hb = h.AsSpan(b * hd, hd);
                var g = gates.AsSpan(row * gh, gh);
                switch (mode)
                {
                    case RecurrentMode.Lstm:
                        RecurrentCells.LstmForward<T>(g, c.AsSpan(b * hd, hd), hb, outRow,
                            save ? _cPrev.AsSpan(row * hd, hd) : default, save ? _tanhC.AsSpan(row * hd, hd) : scratch);
                        break;
                    case RecurrentMode.Gru:
                        RecurrentCells.GruForward<T>(g, hg.AsSpan(b * gh, gh), hb, outRow, save ? _hn.AsSpan(row * hd, hd) : default);
                        break;
                    default:
                        RecurrentCells.RnnForward<T>(g, relu, hb, outRow);
                        break;
                }
            }
        }
        if (save) (_x, _wIh, _wHh, _gates) = (x, wIh, wHh, gates);
        return (y, new Tensor(h, [batch, hd]), mode == RecurrentMode.Lstm ? new Tensor(c, [batch, hd]) : null);
    }

    public Tensor?[] Backward(Tensor? dY, Tensor? dHn, Tensor? dCn, bool needX, bool needWih, bool needWhh, bool needBih, bool needBhh, bool needH0, bool needC0)
    {
        if (_fused) return BackwardFused(dY, dHn, dCn, needX, needWih, needWhh, needBih, needBhh, needH0, needC0);
        int gh = _gh, rows = Rows, hd = hidden;
        // an output that received no residual contributes zero: an unused y reads one zero row for every step
        var dys = dY is null ? default : dY.Span<T>();
        var zeroRow = dY is null ? new T[hd] : [];
        var dh = dHn?.Span<T>().ToArray() ?? new T[batch * hd];
        var dc = mode != RecurrentMode.Lstm ? [] : dCn?.Span<T>().ToArray() ?? new T[batch * hd];
        var dhNext = new T[batch * hd];
        var dG = new T[rows * gh];
        var dHg = mode == RecurrentMode.Gru ? new T[rows * gh] : dG;   // residual of the recurrent projection
        var whh = _wHh!.Span<T>();
        bool relu = mode == RecurrentMode.RnnRelu;
        for (int s = steps - 1; s >= 0; s--)
        {
            int t = Time(s), rb = RowBase(t), ld = RowStep;
            for (int b = 0; b < batch; b++)
            {
                int row = rb + b * ld;
                ReadOnlySpan<T> dOut = dY is null ? zeroRow : dys.Slice((t * batch + b) * hd, hd);
                var dhb = dh.AsSpan(b * hd, hd);
                var dnb = dhNext.AsSpan(b * hd, hd);
                if (!Active(t, b))
                {
                    // the state passed through this step unchanged, so does its residual; the padding output is a constant
                    dhb.CopyTo(dnb);
                    continue;
                }
                switch (mode)
                {
                    case RecurrentMode.Lstm:
                        RecurrentCells.LstmBackward<T>(_gates.AsSpan(row * gh, gh), _cPrev.AsSpan(row * hd, hd), _tanhC.AsSpan(row * hd, hd),
                            dhb, dOut, dc.AsSpan(b * hd, hd), dG.AsSpan(row * gh, gh));
                        dnb.Clear();
                        break;
                    case RecurrentMode.Gru:
                        RecurrentCells.GruBackward<T>(_gates.AsSpan(row * gh, gh), _hn.AsSpan(row * hd, hd), _hPrev.AsSpan(row * hd, hd),
                            dhb, dOut, dG.AsSpan(row * gh, gh), dHg.AsSpan(row * gh, gh), dnb);
                        break;
                    default:
                        RecurrentCells.RnnBackward<T>(_gates.AsSpan(row * gh, gh), relu, dhb, dOut, dG.AsSpan(row * gh, gh));
                        dnb.Clear();
                        break;
                }
            }
            // the residual of the state entering this step: its direct part (above) + dA·W_hh
            RecurrentGemm.Accumulate<T>(batch, hd, gh, dHg.AsSpan(rb * gh), ld * gh, whh, hd, dhNext, hd);
            (dh, dhNext) = (dhNext, dh);
        }

        var dtype = _x!.DType;
        Tensor? dx = null, dWih = null, dWhh = null, dbIh = null, dbHh = null;
        if (needX)
        {
            dx = Tensor.Empty(dtype, _x.Shape.ToArray());
            Kernels.Gemm.Multiply(false, false, rows, inF, gh, dG, gh, _wIh!.Span<T>(), inF, T.Zero, dx.Span<T>(), inF);
        }
        if (needWih)
        {
            dWih = Tensor.Empty(dtype, [gh, inF]);
            Kernels.Gemm.Multiply(true, false, gh, inF, rows, dG, gh, _x.Span<T>(), inF, T.Zero, dWih.Span<T>(), inF);
        }
        if (needWhh)
        {
            dWhh = Tensor.Empty(dtype, [gh, hd]);
            Kernels.Gemm.Multiply(true, false, gh, hd, rows, dHg, gh, _hPrev, hd, T.Zero, dWhh.Span<T>(), hd);
        }
        if (needBih)
        {
            dbIh = Tensor.Empty(dtype, [gh]);
            Reduce.SumColumns<T>(dG, rows, gh, dbIh.Span<T>());
        }
        if (needBhh)
        {
            dbHh = Tensor.Empty(dtype, [gh]);
            Reduce.SumColumns<T>(dHg, rows, gh, dbHh.Span<T>());
        }
        var dh0 = needH0 ? new Tensor(dh, [batch, hd]) : null;
        var dc0 = needC0 ? new Tensor(dc, [batch, hd]) : null;
        return [dx, dWih, dWhh, dbIh, dbHh, dh0, dc0];
    }
}
