using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

/// <summary>One LSTM step forward over a block of rows (samples): where its operands are.</summary>
internal unsafe struct LstmForwardStep<T> where T : unmanaged
{
    /// <summary>Rows (samples) and hidden size H.</summary>
    public int Rows, Hidden;

    /// <summary>[Rows, H]: the hidden state entering the step.</summary>
    public T* HIn;

    /// <summary>Row r at Gates + r·GateStride (4H): x·W_ihᵀ + b in; the activated gates (i, f, g, o) out when <see cref="CPrev"/> is set.</summary>
    public T* Gates;

    public int GateStride;

    /// <summary>[Rows, H]: c in, c' out.</summary>
    public T* C;

    /// <summary>[Rows, H]: h' (the next step's <see cref="HIn"/>), and again into <see cref="Y"/> (the output sequence).</summary>
    public T* HOut, Y;

    /// <summary>Row r at + r·SaveStride: c and tanh(c'), kept for backward; null: nothing is kept.</summary>
    public T* CPrev, TanhC;

    public int SaveStride;
}

/// <summary>One LSTM step backward over a block of rows: where its operands are.</summary>
internal unsafe struct LstmBackwardStep<T> where T : unmanaged
{
    /// <summary>Rows (samples) and hidden size H.</summary>
    public int Rows, Hidden;

    /// <summary>Row r at DGNext + r·GateStride (4H): the residual of the pre-activations of the step after this one (its
    /// h input is this step's h'), or null at the sequence's last step.</summary>
    public T* DGNext;

    /// <summary>[Rows, H]: a residual of h' from outside (h_n's), or null; <see cref="DOut"/>: [Rows, H], that of the step's output, or null.</summary>
    public T* DhIn, DOut;

    /// <summary>Row r at + r·GateStride: the activated gates the forward kept.</summary>
    public T* Gates;

    public int GateStride;

    /// <summary>Row r at + r·SaveStride: c and tanh(c') the forward kept.</summary>
    public T* CPrev, TanhC;

    public int SaveStride;

    /// <summary>[Rows, H]: the residual of c' in, of c out.</summary>
    public T* Dc;

    /// <summary>Row r at DG + r·GateStride: the residual of this step's pre-activations, out.</summary>
    public T* DG;
}

/// <summary>
/// The LSTM step with its gates fused into the recurrent GEMM. Forward: W_hh is packed once per sequence so that one
/// register tile holds the four gates (i, f, g, o) of the same w hidden units for a few rows; after the k loop (all
/// of H, in registers) the epilogue adds the input projection, applies σ/tanh, updates c and writes h', while the
/// tile is still in registers. Backward: a tile of dh = dA_next·W_hh (W_hh read in place) goes straight into the gate
/// derivatives. Every row's arithmetic is the same whichever tile or part it falls in (one FMA chain over k per
/// element, the vector or scalar path chosen by the column only), so results do not depend on how the caller splits
/// the rows across threads. Plain reference loops beside them (<see cref="ForwardReference{T}"/>, <see cref="BackwardReference{T}"/>).
/// </summary>
internal static unsafe class LstmFused
{
    /// <summary>Lanes per vector at the width the kernels run.</summary>
    public static int Width<T>() where T : unmanaged => VectorOps.Bits / 8 / Unsafe.SizeOf<T>();

    /// <summary>Elements of the packed W_hh for hidden size <paramref name="hidden"/> (only whole vectors of hidden units are packed).</summary>
    public static int PackedLength<T>(int hidden) where T : unmanaged => hidden / Width<T>() * Width<T>() * 4 * hidden;

    /// <summary>
    /// Packs W_hh (4H × H, PyTorch's layout) for <see cref="Forward{T}"/>: for each block of w hidden units and each
    /// k, the four gates' w weights side by side.
    /// </summary>
    public static void PackWeights<T>(ReadOnlySpan<T> whh, int hidden, Span<T> packed) where T : unmanaged
    {
        int w = Width<T>(), blocks = hidden / w;
        for (int g = 0; g < 4; g++)
            for (int j = 0; j < blocks * w; j++)
            {
                var src = whh.Slice((g * hidden + j) * hidden, hidden);
                int dst = (j / w * hidden * 4 + g) * w + j % w;
                for (int p = 0; p < hidden; p++) packed[dst + p * 4 * w] = src[p];
            }
    }

    /// <summary>One step forward (<paramref name="packed"/> from <see cref="PackWeights{T}"/>, <paramref name="whh"/> W_hh itself).</summary>
    public static void Forward<T>(in LstmForwardStep<T> s, T* packed, T* whh) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (VectorOps.Bits == 512) Forward<T, Vector512<T>, Ops512<T>, LstmAct512<T>>(s, packed, whh, 4);
        else if (VectorOps.Bits == 256) Forward<T, Vector256<T>, Ops256<T>, LstmAct256<T>>(s, packed, whh, 2);
        else Forward<T, Vector128<T>, Ops128<T>, LstmAct128<T>>(s, packed, whh, 2);
    }

    /// <summary>One step backward (<paramref name="whh"/> is W_hh, 4H × H).</summary>
    public static void Backward<T>(in LstmBackwardStep<T> s, T* whh) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (VectorOps.Bits == 512) Backward<T, Vector512<T>, Ops512<T>>(s, whh, 4);
        else if (VectorOps.Bits == 256) Backward<T, Vector256<T>, Ops256<T>>(s, whh, 2);
        else Backward<T, Vector128<T>, Ops128<T>>(s, whh, 2);
    }

    // ---------------- forward ----------------

    private static void Forward<T, TV, TOps, TAct>(in LstmForwardStep<T> s, T* packed, T* whh, int mr)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T> where TAct : struct, ILstmActivations<TV>
    {
        int w = TOps.Count, hd = s.Hidden, blocks = hd / w;
        for (int jb = 0; jb < blocks; jb++)
        {
            T* bp = packed + (long)jb * hd * 4 * w;
            int r = 0;
            if (mr == 4)
                for (; r + 4 <= s.Rows; r += 4) ForwardTile4<T, TV, TOps, TAct>(s, r, jb * w, bp);
            for (; r + 2 <= s.Rows; r += 2) ForwardTile2<T, TV, TOps, TAct>(s, r, jb * w, bp);
            for (; r < s.Rows; r++) ForwardTile1<T, TV, TOps, TAct>(s, r, jb * w, bp);
        }
        for (int j = blocks * w; j < hd; j++)
            for (int r = 0; r < s.Rows; r++) ForwardScalar(s, r, j, whh);
    }

    // 4 rows × the 4 gates of w hidden units
    [SkipLocalsInit]
    private static void ForwardTile4<T, TV, TOps, TAct>(in LstmForwardStep<T> s, int r, int j, T* bp)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T> where TAct : struct, ILstmActivations<TV>
    {
        int w = TOps.Count, hd = s.Hidden;
        T* a0 = s.HIn + (long)r * hd, a1 = a0 + hd, a2 = a1 + hd, a3 = a2 + hd;
        TV c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        TV c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        for (int p = 0; p < hd; p++, bp += 4 * w)
        {
            TV b0 = TOps.Load(bp), b1 = TOps.Load(bp + w), b2 = TOps.Load(bp + 2 * w), b3 = TOps.Load(bp + 3 * w);
            TV x = TOps.Broadcast(a0[p]);
            c00 = TOps.Fma(x, b0, c00); c01 = TOps.Fma(x, b1, c01); c02 = TOps.Fma(x, b2, c02); c03 = TOps.Fma(x, b3, c03);
            x = TOps.Broadcast(a1[p]);
            c10 = TOps.Fma(x, b0, c10); c11 = TOps.Fma(x, b1, c11); c12 = TOps.Fma(x, b2, c12); c13 = TOps.Fma(x, b3, c13);
            x = TOps.Broadcast(a2[p]);
            c20 = TOps.Fma(x, b0, c20); c21 = TOps.Fma(x, b1, c21); c22 = TOps.Fma(x, b2, c22); c23 = TOps.Fma(x, b3, c23);
            x = TOps.Broadcast(a3[p]);
            c30 = TOps.Fma(x, b0, c30); c31 = TOps.Fma(x, b1, c31); c32 = TOps.Fma(x, b2, c32); c33 = TOps.Fma(x, b3, c33);
        }
        // the accumulators go to the stack before the epilogues: kept live across them, they made the JIT spill half
        // of them to the stack on every k step (a store after each FMA; tier-1 disassembly), at a third of the speed
        T* acc = stackalloc T[16 * w];
        Park<T, TV, TOps>(acc, w, c00, c01, c02, c03, c10, c11, c12, c13);
        Park<T, TV, TOps>(acc + 8 * w, w, c20, c21, c22, c23, c30, c31, c32, c33);
        for (int q = 0; q < 4; q++)
        {
            T* a = acc + 4 * q * w;
            ForwardEpilogue<T, TV, TOps, TAct>(s, r + q, j, TOps.Load(a), TOps.Load(a + w), TOps.Load(a + 2 * w), TOps.Load(a + 3 * w));
        }
    }

    /// <summary>Stores four accumulators side by side at <paramref name="acc"/> (see <see cref="ForwardTile4"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Park<T, TV, TOps>(T* acc, int w, TV v0, TV v1, TV v2, TV v3)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        TOps.Store(v0, acc);
        TOps.Store(v1, acc + w);
        TOps.Store(v2, acc + 2 * w);
        TOps.Store(v3, acc + 3 * w);
    }

    /// <summary>Two rows' accumulators, eight side by side.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Park<T, TV, TOps>(T* acc, int w, TV v0, TV v1, TV v2, TV v3, TV v4, TV v5, TV v6, TV v7)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        Park<T, TV, TOps>(acc, w, v0, v1, v2, v3);
        Park<T, TV, TOps>(acc + 4 * w, w, v4, v5, v6, v7);
    }

    [SkipLocalsInit]
    private static void ForwardTile2<T, TV, TOps, TAct>(in LstmForwardStep<T> s, int r, int j, T* bp)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T> where TAct : struct, ILstmActivations<TV>
    {
        int w = TOps.Count, hd = s.Hidden;
        T* a0 = s.HIn + (long)r * hd, a1 = a0 + hd;
        TV c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        for (int p = 0; p < hd; p++, bp += 4 * w)
        {
            TV b0 = TOps.Load(bp), b1 = TOps.Load(bp + w), b2 = TOps.Load(bp + 2 * w), b3 = TOps.Load(bp + 3 * w);
            TV x = TOps.Broadcast(a0[p]);
            c00 = TOps.Fma(x, b0, c00); c01 = TOps.Fma(x, b1, c01); c02 = TOps.Fma(x, b2, c02); c03 = TOps.Fma(x, b3, c03);
            x = TOps.Broadcast(a1[p]);
            c10 = TOps.Fma(x, b0, c10); c11 = TOps.Fma(x, b1, c11); c12 = TOps.Fma(x, b2, c12); c13 = TOps.Fma(x, b3, c13);
        }
        T* acc = stackalloc T[8 * w];   // as in ForwardTile4
        Park<T, TV, TOps>(acc, w, c00, c01, c02, c03, c10, c11, c12, c13);
        for (int q = 0; q < 2; q++)
        {
            T* a = acc + 4 * q * w;
            ForwardEpilogue<T, TV, TOps, TAct>(s, r + q, j, TOps.Load(a), TOps.Load(a + w), TOps.Load(a + 2 * w), TOps.Load(a + 3 * w));
        }
    }

    private static void ForwardTile1<T, TV, TOps, TAct>(in LstmForwardStep<T> s, int r, int j, T* bp)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T> where TAct : struct, ILstmActivations<TV>
    {
        int w = TOps.Count, hd = s.Hidden;
        T* a0 = s.HIn + (long)r * hd;
        TV c00 = default, c01 = default, c02 = default, c03 = default;
        for (int p = 0; p < hd; p++, bp += 4 * w)
        {
            TV x = TOps.Broadcast(a0[p]);
            c00 = TOps.Fma(x, TOps.Load(bp), c00); c01 = TOps.Fma(x, TOps.Load(bp + w), c01);
            c02 = TOps.Fma(x, TOps.Load(bp + 2 * w), c02); c03 = TOps.Fma(x, TOps.Load(bp + 3 * w), c03);
        }
        ForwardEpilogue<T, TV, TOps, TAct>(s, r, j, c00, c01, c02, c03);
    }

    // the pointwise part of row r, hidden units [j, j + w), from the four gates' h·W_hhᵀ in registers
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardEpilogue<T, TV, TOps, TAct>(in LstmForwardStep<T> s, int r, int j, TV ai, TV af, TV ag, TV ao)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T> where TAct : struct, ILstmActivations<TV>
    {
        int hd = s.Hidden;
        T* gr = s.Gates + (long)r * s.GateStride + j;
        TV i = TAct.Sigmoid(TOps.Add(ai, TOps.Load(gr)));
        TV f = TAct.Sigmoid(TOps.Add(af, TOps.Load(gr + hd)));
        TV g = TAct.Tanh(TOps.Add(ag, TOps.Load(gr + 2 * hd)));
        TV o = TAct.Sigmoid(TOps.Add(ao, TOps.Load(gr + 3 * hd)));
        long at = (long)r * hd + j;
        TV c = TOps.Load(s.C + at);
        TV cn = TOps.Fma(f, c, TOps.Mul(i, g));
        TV tc = TAct.Tanh(cn);
        TV h = TOps.Mul(o, tc);
        TOps.Store(cn, s.C + at);
        TOps.Store(h, s.HOut + at);
        TOps.Store(h, s.Y + at);
        if (s.CPrev != null)
        {
            TOps.Store(i, gr);
            TOps.Store(f, gr + hd);
            TOps.Store(g, gr + 2 * hd);
            TOps.Store(o, gr + 3 * hd);
            long sr = (long)r * s.SaveStride + j;
            TOps.Store(c, s.CPrev + sr);
            TOps.Store(tc, s.TanhC + sr);
        }
    }

    // row r, hidden unit j: the plain loop (the columns past the last whole vector, and the reference)
    private static void ForwardScalar<T>(in LstmForwardStep<T> s, int r, int j, T* whh) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int hd = s.Hidden;
        T* a = s.HIn + (long)r * hd;
        T* gr = s.Gates + (long)r * s.GateStride + j;
        T ai = T.Zero, af = T.Zero, ag = T.Zero, ao = T.Zero;
        T* w0 = whh + (long)j * hd, w1 = w0 + (long)hd * hd, w2 = w1 + (long)hd * hd, w3 = w2 + (long)hd * hd;
        for (int p = 0; p < hd; p++)
        {
            ai = T.FusedMultiplyAdd(a[p], w0[p], ai);
            af = T.FusedMultiplyAdd(a[p], w1[p], af);
            ag = T.FusedMultiplyAdd(a[p], w2[p], ag);
            ao = T.FusedMultiplyAdd(a[p], w3[p], ao);
        }
        T i = Sigmoid(ai + gr[0]), f = Sigmoid(af + gr[hd]), g = T.Tanh(ag + gr[2 * hd]), o = Sigmoid(ao + gr[3 * hd]);
        long at = (long)r * hd + j;
        T c = s.C[at];
        T cn = T.FusedMultiplyAdd(f, c, i * g);
        T tc = T.Tanh(cn);
        T h = o * tc;
        s.C[at] = cn;
        s.HOut[at] = h;
        s.Y[at] = h;
        if (s.CPrev != null)
        {
            (gr[0], gr[hd], gr[2 * hd], gr[3 * hd]) = (i, f, g, o);
            long sr = (long)r * s.SaveStride + j;
            s.CPrev[sr] = c;
            s.TanhC[sr] = tc;
        }
    }

    /// <summary>The plain reference of <see cref="Forward{T}"/>: scalar loops, the same step.</summary>
    public static void ForwardReference<T>(in LstmForwardStep<T> s, T* whh) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < s.Rows; r++)
            for (int j = 0; j < s.Hidden; j++) ForwardScalar(s, r, j, whh);
    }

    private static T Sigmoid<T>(T x) where T : IFloatingPointIeee754<T> => T.One / (T.One + T.Exp(-x));

    // ---------------- backward ----------------

    private static void Backward<T, TV, TOps>(in LstmBackwardStep<T> s, T* whh, int mr)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int w = TOps.Count, hd = s.Hidden, j = 0;
        for (; j + 4 * w <= hd; j += 4 * w)
        {
            int r = 0;
            if (mr == 4)
                for (; r + 4 <= s.Rows; r += 4) BackwardTile4<T, TV, TOps>(s, r, j, whh);
            for (; r + 2 <= s.Rows; r += 2) BackwardTile2<T, TV, TOps>(s, r, j, whh);
            for (; r < s.Rows; r++) BackwardTile1<T, TV, TOps>(s, r, j, whh);
        }
        for (; j + w <= hd; j += w)
            for (int r = 0; r < s.Rows; r++) BackwardVector1<T, TV, TOps>(s, r, j, whh);
        for (; j < hd; j++)
            for (int r = 0; r < s.Rows; r++) BackwardScalar(s, r, j, whh);
    }

    // 4 rows × 4 vectors of hidden units: dh = dA_next·W_hh over k = 4H, then the gate derivatives
    [SkipLocalsInit]
    private static void BackwardTile4<T, TV, TOps>(in LstmBackwardStep<T> s, int r, int j, T* whh)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int w = TOps.Count, hd = s.Hidden;
        TV c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        TV c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
        if (s.DGNext != null)
        {
            T* a0 = s.DGNext + (long)r * s.GateStride, a1 = a0 + s.GateStride, a2 = a1 + s.GateStride, a3 = a2 + s.GateStride;
            T* bp = whh + j;
            for (int p = 0; p < 4 * hd; p++, bp += hd)
            {
                TV b0 = TOps.Load(bp), b1 = TOps.Load(bp + w), b2 = TOps.Load(bp + 2 * w), b3 = TOps.Load(bp + 3 * w);
                TV x = TOps.Broadcast(a0[p]);
                c00 = TOps.Fma(x, b0, c00); c01 = TOps.Fma(x, b1, c01); c02 = TOps.Fma(x, b2, c02); c03 = TOps.Fma(x, b3, c03);
                x = TOps.Broadcast(a1[p]);
                c10 = TOps.Fma(x, b0, c10); c11 = TOps.Fma(x, b1, c11); c12 = TOps.Fma(x, b2, c12); c13 = TOps.Fma(x, b3, c13);
                x = TOps.Broadcast(a2[p]);
                c20 = TOps.Fma(x, b0, c20); c21 = TOps.Fma(x, b1, c21); c22 = TOps.Fma(x, b2, c22); c23 = TOps.Fma(x, b3, c23);
                x = TOps.Broadcast(a3[p]);
                c30 = TOps.Fma(x, b0, c30); c31 = TOps.Fma(x, b1, c31); c32 = TOps.Fma(x, b2, c32); c33 = TOps.Fma(x, b3, c33);
            }
        }
        T* acc = stackalloc T[16 * w];   // as in ForwardTile4
        Park<T, TV, TOps>(acc, w, c00, c01, c02, c03, c10, c11, c12, c13);
        Park<T, TV, TOps>(acc + 8 * w, w, c20, c21, c22, c23, c30, c31, c32, c33);
        for (int q = 0; q < 4; q++)
        {
            T* a = acc + 4 * q * w;
            BackwardEpilogue4<T, TV, TOps>(s, r + q, j, TOps.Load(a), TOps.Load(a + w), TOps.Load(a + 2 * w), TOps.Load(a + 3 * w));
        }
    }

    [SkipLocalsInit]
    private static void BackwardTile2<T, TV, TOps>(in LstmBackwardStep<T> s, int r, int j, T* whh)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int w = TOps.Count, hd = s.Hidden;
        TV c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
        if (s.DGNext != null)
        {
            T* a0 = s.DGNext + (long)r * s.GateStride, a1 = a0 + s.GateStride;
            T* bp = whh + j;
            for (int p = 0; p < 4 * hd; p++, bp += hd)
            {
                TV b0 = TOps.Load(bp), b1 = TOps.Load(bp + w), b2 = TOps.Load(bp + 2 * w), b3 = TOps.Load(bp + 3 * w);
                TV x = TOps.Broadcast(a0[p]);
                c00 = TOps.Fma(x, b0, c00); c01 = TOps.Fma(x, b1, c01); c02 = TOps.Fma(x, b2, c02); c03 = TOps.Fma(x, b3, c03);
                x = TOps.Broadcast(a1[p]);
                c10 = TOps.Fma(x, b0, c10); c11 = TOps.Fma(x, b1, c11); c12 = TOps.Fma(x, b2, c12); c13 = TOps.Fma(x, b3, c13);
            }
        }
        T* acc = stackalloc T[8 * w];   // as in ForwardTile4
        Park<T, TV, TOps>(acc, w, c00, c01, c02, c03, c10, c11, c12, c13);
        for (int q = 0; q < 2; q++)
        {
            T* a = acc + 4 * q * w;
            BackwardEpilogue4<T, TV, TOps>(s, r + q, j, TOps.Load(a), TOps.Load(a + w), TOps.Load(a + 2 * w), TOps.Load(a + 3 * w));
        }
    }

    private static void BackwardTile1<T, TV, TOps>(in LstmBackwardStep<T> s, int r, int j, T* whh)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int w = TOps.Count, hd = s.Hidden;
        TV c00 = default, c01 = default, c02 = default, c03 = default;
        if (s.DGNext != null)
        {
            T* a0 = s.DGNext + (long)r * s.GateStride;
            T* bp = whh + j;
            for (int p = 0; p < 4 * hd; p++, bp += hd)
            {
                TV x = TOps.Broadcast(a0[p]);
                c00 = TOps.Fma(x, TOps.Load(bp), c00); c01 = TOps.Fma(x, TOps.Load(bp + w), c01);
                c02 = TOps.Fma(x, TOps.Load(bp + 2 * w), c02); c03 = TOps.Fma(x, TOps.Load(bp + 3 * w), c03);
            }
        }
        BackwardEpilogue4<T, TV, TOps>(s, r, j, c00, c01, c02, c03);
    }

    private static void BackwardVector1<T, TV, TOps>(in LstmBackwardStep<T> s, int r, int j, T* whh)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int hd = s.Hidden;
        TV acc = default;
        if (s.DGNext != null)
        {
            T* a0 = s.DGNext + (long)r * s.GateStride;
            T* bp = whh + j;
            for (int p = 0; p < 4 * hd; p++, bp += hd) acc = TOps.Fma(TOps.Broadcast(a0[p]), TOps.Load(bp), acc);
        }
        BackwardEpilogue<T, TV, TOps>(s, r, j, acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardEpilogue4<T, TV, TOps>(in LstmBackwardStep<T> s, int r, int j, TV d0, TV d1, TV d2, TV d3)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int w = TOps.Count;
        BackwardEpilogue<T, TV, TOps>(s, r, j, d0);
        BackwardEpilogue<T, TV, TOps>(s, r, j + w, d1);
        BackwardEpilogue<T, TV, TOps>(s, r, j + 2 * w, d2);
        BackwardEpilogue<T, TV, TOps>(s, r, j + 3 * w, d3);
    }

    // row r, hidden units [j, j + w): with dh the residual of h' (recurrent part + outside + output),
    //   dc_total = dc + dh·o·(1 − tanh²c'),  dc_prev = dc_total·f
    //   da_i = dc_total·g·i(1−i), da_f = dc_total·c·f(1−f), da_g = dc_total·i·(1−g²), da_o = dh·tanh c'·o(1−o)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardEpilogue<T, TV, TOps>(in LstmBackwardStep<T> s, int r, int j, TV dh)
        where T : unmanaged, IFloatingPointIeee754<T> where TV : struct where TOps : struct, IVectorOps<TV, T>
    {
        int hd = s.Hidden;
        long at = (long)r * hd + j;
        if (s.DhIn != null) dh = TOps.Add(dh, TOps.Load(s.DhIn + at));
        if (s.DOut != null) dh = TOps.Add(dh, TOps.Load(s.DOut + at));
        T* gr = s.Gates + (long)r * s.GateStride + j;
        TV i = TOps.Load(gr), f = TOps.Load(gr + hd), g = TOps.Load(gr + 2 * hd), o = TOps.Load(gr + 3 * hd);
        long sr = (long)r * s.SaveStride + j;
        TV tc = TOps.Load(s.TanhC + sr), cp = TOps.Load(s.CPrev + sr);
        var one = TOps.Broadcast(T.One);
        TV dcT = TOps.Add(TOps.Load(s.Dc + at), TOps.Mul(TOps.Mul(dh, o), TOps.Sub(one, TOps.Mul(tc, tc))));
        TOps.Store(TOps.Mul(dcT, f), s.Dc + at);
        T* dg = s.DG + (long)r * s.GateStride + j;
        TOps.Store(TOps.Mul(TOps.Mul(TOps.Mul(dcT, g), i), TOps.Sub(one, i)), dg);
        TOps.Store(TOps.Mul(TOps.Mul(TOps.Mul(dcT, cp), f), TOps.Sub(one, f)), dg + hd);
        TOps.Store(TOps.Mul(TOps.Mul(dcT, i), TOps.Sub(one, TOps.Mul(g, g))), dg + 2 * hd);
        TOps.Store(TOps.Mul(TOps.Mul(TOps.Mul(dh, tc), o), TOps.Sub(one, o)), dg + 3 * hd);
    }

    private static void BackwardScalar<T>(in LstmBackwardStep<T> s, int r, int j, T* whh) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int hd = s.Hidden;
        T dh = T.Zero;
        if (s.DGNext != null)
        {
            T* a = s.DGNext + (long)r * s.GateStride;
            for (int p = 0; p < 4 * hd; p++) dh = T.FusedMultiplyAdd(a[p], whh[(long)p * hd + j], dh);
        }
        long at = (long)r * hd + j;
        if (s.DhIn != null) dh += s.DhIn[at];
        if (s.DOut != null) dh += s.DOut[at];
        T* gr = s.Gates + (long)r * s.GateStride + j;
        T i = gr[0], f = gr[hd], g = gr[2 * hd], o = gr[3 * hd];
        long sr = (long)r * s.SaveStride + j;
        T tc = s.TanhC[sr], cp = s.CPrev[sr];
        T dcT = s.Dc[at] + dh * o * (T.One - tc * tc);
        s.Dc[at] = dcT * f;
        T* dg = s.DG + (long)r * s.GateStride + j;
        dg[0] = dcT * g * i * (T.One - i);
        dg[hd] = dcT * cp * f * (T.One - f);
        dg[2 * hd] = dcT * i * (T.One - g * g);
        dg[3 * hd] = dh * tc * o * (T.One - o);
    }

    /// <summary>The plain reference of <see cref="Backward{T}"/>: scalar loops, the same step.</summary>
    public static void BackwardReference<T>(in LstmBackwardStep<T> s, T* whh) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < s.Rows; r++)
            for (int j = 0; j < s.Hidden; j++) BackwardScalar(s, r, j, whh);
    }
}
