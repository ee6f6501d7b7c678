using System.Numerics;
using System.Runtime.CompilerServices;
using Nabla.Kernels;

namespace Nabla.Optim;

// The SGD and Adam(W) updates as one pass over a parameter: each element's gradient, state and value are read once and
// written once, with the very operations (and roundings) of the multi-pass reference (FusedUpdate.Reference.cs, the
// TensorPrimitives passes the optimizers used before), so the results are bit-identical to it. Large parameters are cut
// into chunks run on Threading's workers; an element's arithmetic does not depend on the chunking, so neither do the
// results on the thread count.
internal static unsafe class FusedUpdate
{
    /// <summary>Elements per chunk; a parameter under this size runs on the calling thread.</summary>
    private const int Chunk = 1 << 15;

    /// <summary>The SGD options of one parameter group.</summary>
    public readonly record struct Sgd(double Lr, double Momentum, double Dampening, double WeightDecay, bool Nesterov, bool Maximize);

    /// <summary>
    /// SGD on θ with gradient g: d = ±g + wd·θ; with momentum b ← d at the first step (<paramref name="first"/>), else
    /// b ← μb + (1 − τ)d, and d = d + μb (nesterov) or b; θ ← θ − λd. <paramref name="buf"/> is empty without momentum.
    /// </summary>
    public static void SgdStep<T>(Sgd o, ReadOnlySpan<T> grad, Span<T> theta, Span<T> buf, bool first) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* g = grad, p = theta, b = buf)
            Run(theta.Length, new SgdBody<T>(g, p, b, o, first));
    }

    /// <summary>The Adam options of one step (the bias corrections of its step number included).</summary>
    public readonly record struct Adam(double Beta1, double Beta2, double Eps, double WeightDecay, bool Decoupled, double Lr, bool Maximize,
        double Bias2Sqrt, double StepSize);

    /// <summary>
    /// Adam (AdamW with <c>Decoupled</c>: θ ← θ(1 − λw) first, no L2 term): d = ±g (+ wθ); m ← β₁m + (1−β₁)d;
    /// v ← β₂v + (1−β₂)d²; (amsgrad: v̂ ← max(v̂, v)); θ ← θ − s·m/(√v / √(1−β₂ᵗ) + ε). <paramref name="vmax"/> is empty without amsgrad.
    /// </summary>
    public static void AdamStep<T>(Adam o, ReadOnlySpan<T> grad, Span<T> theta, Span<T> m, Span<T> v, Span<T> vmax) where T : unmanaged, IFloatingPointIeee754<T>
    {
        fixed (T* g = grad, p = theta, pm = m, pv = v, px = vmax)
            Run(theta.Length, new AdamBody<T>(g, p, pm, pv, px, o));
    }

    private static void Run<TBody>(int n, TBody body) where TBody : struct, IChunkBody
    {
        int parts = (n + Chunk - 1) / Chunk;
        if (parts <= 1) body.Run(0, n);
        else Threading.For(parts, new ChunkBody<TBody>(body, n));
    }

    private interface IChunkBody
    {
        void Run(int start, int end);
    }

    private readonly struct ChunkBody<TBody>(TBody body, int n) : IParallelBody where TBody : struct, IChunkBody
    {
        public void Invoke(int part) => body.Run(part * Chunk, Math.Min(n, (part + 1) * Chunk));
    }

    private readonly struct SgdBody<T>(T* g, T* p, T* b, Sgd o, bool first) : IChunkBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            T wd = T.CreateTruncating(o.WeightDecay), mu = T.CreateTruncating(o.Momentum), keep = T.CreateTruncating(1 - o.Dampening),
                negLr = T.CreateTruncating(-o.Lr);
            bool momentum = o.Momentum != 0, decay = o.WeightDecay != 0;
            int i = start;
            if (Vector.IsHardwareAccelerated)
            {
                var vwd = new Vector<T>(wd);
                var vmu = new Vector<T>(mu);
                var vkeep = new Vector<T>(keep);
                var vlr = new Vector<T>(negLr);
                for (; i + Vector<T>.Count <= end; i += Vector<T>.Count)
                {
                    var d = Unsafe.ReadUnaligned<Vector<T>>(g + i);
                    var th = Unsafe.ReadUnaligned<Vector<T>>(p + i);
                    if (o.Maximize) d = -d;
                    if (decay) d = th * vwd + d;
                    if (momentum)
                    {
                        var bv = first ? d : d * vkeep + Unsafe.ReadUnaligned<Vector<T>>(b + i) * vmu;
                        Unsafe.WriteUnaligned(b + i, bv);
                        d = o.Nesterov ? bv * vmu + d : bv;
                    }
                    Unsafe.WriteUnaligned(p + i, d * vlr + th);
                }
            }
            for (; i < end; i++)
            {
                T d = o.Maximize ? -g[i] : g[i];
                if (decay) d = p[i] * wd + d;
                if (momentum)
                {
                    T bv = first ? d : d * keep + b[i] * mu;
                    b[i] = bv;
                    d = o.Nesterov ? bv * mu + d : bv;
                }
                p[i] = d * negLr + p[i];
            }
        }
    }

    private readonly struct AdamBody<T>(T* g, T* p, T* m, T* v, T* vmax, Adam o) : IChunkBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int start, int end)
        {
            T decayKeep = T.CreateTruncating(1 - o.Lr * o.WeightDecay), wd = T.CreateTruncating(o.WeightDecay),
                b1 = T.CreateTruncating(o.Beta1), c1 = T.CreateTruncating(1 - o.Beta1), b2 = T.CreateTruncating(o.Beta2), c2 = T.CreateTruncating(1 - o.Beta2),
                b2s = T.CreateTruncating(o.Bias2Sqrt), eps = T.CreateTruncating(o.Eps), negStep = T.CreateTruncating(-o.StepSize);
            bool l2 = !o.Decoupled && o.WeightDecay != 0, amsgrad = vmax != null;
            int i = start;
            if (Vector.IsHardwareAccelerated)
            {
                Vector<T> vKeep = new(decayKeep), vWd = new(wd), vB1 = new(b1), vC1 = new(c1), vB2 = new(b2), vC2 = new(c2), vB2s = new(b2s), vEps = new(eps), vStep = new(negStep);
                for (; i + Vector<T>.Count <= end; i += Vector<T>.Count)
                {
                    var th = Unsafe.ReadUnaligned<Vector<T>>(p + i);
                    if (o.Decoupled) th *= vKeep;
                    var d = Unsafe.ReadUnaligned<Vector<T>>(g + i);
                    if (o.Maximize) d = -d;
                    if (l2) d = th * vWd + d;
                    var mv = d * vC1 + Unsafe.ReadUnaligned<Vector<T>>(m + i) * vB1;
                    var vv = d * d * vC2 + Unsafe.ReadUnaligned<Vector<T>>(v + i) * vB2;
                    Unsafe.WriteUnaligned(m + i, mv);
                    Unsafe.WriteUnaligned(v + i, vv);
                    var second = vv;
                    if (amsgrad)
                    {
                        second = Vector.Max(Unsafe.ReadUnaligned<Vector<T>>(vmax + i), vv);
                        Unsafe.WriteUnaligned(vmax + i, second);
                    }
                    var denom = Vector.SquareRoot(second) / vB2s + vEps;
                    Unsafe.WriteUnaligned(p + i, mv / denom * vStep + th);
                }
            }
            for (; i < end; i++)
            {
                T th = p[i];
                if (o.Decoupled) th *= decayKeep;
                T d = o.Maximize ? -g[i] : g[i];
                if (l2) d = th * wd + d;
                T mv = d * c1 + m[i] * b1;
                T vv = d * d * c2 + v[i] * b2;
                m[i] = mv;
                v[i] = vv;
                T second = vv;
                if (amsgrad) vmax[i] = second = T.Max(vmax[i], vv);
                T denom = T.Sqrt(second) / b2s + eps;
                p[i] = mv / denom * negStep + th;
            }
        }
    }
}
