using System.Numerics;

namespace Nabla.Kernels;

/// <summary>
/// An element-wise function with parameters (ELU's alpha, softplus's beta): the forward y = f(x) and the backward
/// dx = g·f'(x) from x, y and the residual g, each written once per element as PyTorch's CPU kernels write them.
/// </summary>
internal interface IPointwise
{
    T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>;

    T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>The span loops over an <see cref="IPointwise"/> (plain loops: these functions have no TensorPrimitives form).</summary>
internal static class Pointwise
{
    public static void Forward<T, TOp>(TOp op, ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IPointwise
    {
        for (int i = 0; i < x.Length; i++) y[i] = op.Forward(x[i]);
    }

    public static void Backward<T, TOp>(TOp op, ReadOnlySpan<T> x, ReadOnlySpan<T> y, ReadOnlySpan<T> g, Span<T> dx) where T : unmanaged, IFloatingPointIeee754<T> where TOp : struct, IPointwise
    {
        for (int i = 0; i < x.Length; i++) dx[i] = op.Backward(x[i], y[i], g[i]);
    }

    /// <summary>log(1 + x) without cancellation for small x (Kahan: the rounding of 1 + x corrected by x/(u − 1)).</summary>
    public static T Log1p<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T u = T.One + x;
        if (u == T.One) return x;
        if (T.IsPositiveInfinity(u)) return u;
        return T.Log(u) * (x / (u - T.One));
    }

    /// <summary>eˣ − 1 without cancellation for small x (Kahan: (u − 1)·x / log u with u = eˣ rounded).</summary>
    public static T Expm1<T>(T x) where T : IFloatingPointIeee754<T>
    {
        T u = T.Exp(x);
        if (u == T.One) return x;
        T um1 = u - T.One;
        if (um1 == -T.One || T.IsPositiveInfinity(u)) return um1;
        return um1 * (x / T.Log(u));
    }

    public static T C<T>(double v) where T : IFloatingPointIeee754<T> => T.CreateTruncating(v);
}

// y = x > 0 ? scale·x : scale·α·(eˣ − 1);  dx = g·(x > 0 ? scale : scale·α·eˣ)  (ELU, and SELU with its constants)
internal readonly struct EluOp(double alpha, double scale, double inputScale) : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        x > T.Zero ? Pointwise.C<T>(scale) * x : Pointwise.C<T>(scale * alpha) * Pointwise.Expm1(x * Pointwise.C<T>(inputScale));

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> =>
        x > T.Zero ? g * Pointwise.C<T>(scale) : g * Pointwise.C<T>(scale * alpha * inputScale) * T.Exp(x * Pointwise.C<T>(inputScale));
}

// y = βx > threshold ? x : log(1 + e^(βx))/β;  dx = g·(βx > threshold ? 1 : e^(βx)/(e^(βx) + 1))
internal readonly struct SoftplusOp(double beta, double threshold) : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T bx = x * Pointwise.C<T>(beta);
        return bx > Pointwise.C<T>(threshold) ? x : Pointwise.Log1p(T.Exp(bx)) / Pointwise.C<T>(beta);
    }

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T bx = x * Pointwise.C<T>(beta);
        if (bx > Pointwise.C<T>(threshold)) return g;
        T z = T.Exp(bx);
        return g * z / (z + T.One);
    }
}

// y = x·tanh(softplus(x));  dx = g·(tanh(sp) + x·σ(x)·(1 − tanh²(sp)))
internal readonly struct MishOp : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x * T.Tanh(Pointwise.Log1p(T.Exp(x)));

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sigmoid = T.One / (T.One + T.Exp(-x));
        T t = T.Tanh(Pointwise.Log1p(T.Exp(x)));
        return g * (t + x * sigmoid * (T.One - t * t));
    }
}

// y = min(max(x, lo), hi);  dx = g where lo < x < hi, else 0 (PyTorch: the bounds themselves get 0)
internal readonly struct HardtanhOp(double lo, double hi) : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.IsNaN(x) ? x : x < Pointwise.C<T>(lo) ? Pointwise.C<T>(lo) : x > Pointwise.C<T>(hi) ? Pointwise.C<T>(hi) : x;

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> =>
        x <= Pointwise.C<T>(lo) || x >= Pointwise.C<T>(hi) ? T.Zero : g;
}

// y = x·relu6(x + 3)/6;  dx = g·(x < −3 ? 0 : x ≤ 3 ? x/3 + ½ : 1)  (PyTorch's branches, boundaries included)
internal readonly struct HardswishOp : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        x * T.Min(T.Max(x + Pointwise.C<T>(3), T.Zero), Pointwise.C<T>(6)) / Pointwise.C<T>(6);

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> =>
        x < Pointwise.C<T>(-3) ? T.Zero : x <= Pointwise.C<T>(3) ? g * (x / Pointwise.C<T>(3) + Pointwise.C<T>(0.5)) : g;
}

// y = relu6(x + 3)/6;  dx = g/6 where −3 < x < 3, else 0
internal readonly struct HardsigmoidOp : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        T.Min(T.Max(x + Pointwise.C<T>(3), T.Zero), Pointwise.C<T>(6)) / Pointwise.C<T>(6);

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> =>
        x > Pointwise.C<T>(-3) && x < Pointwise.C<T>(3) ? g / Pointwise.C<T>(6) : T.Zero;
}

// y = x/(1 + |x|);  dx = g/(1 + |x|)²
internal readonly struct SoftsignOp : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => x / (T.One + T.Abs(x));

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T d = T.One + T.Abs(x);
        return g / (d * d);
    }
}

// y = log(1 + x);  dx = g/(1 + x)
internal readonly struct Log1pOp : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => Pointwise.Log1p(x);

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => g / (T.One + x);
}

// y = eˣ − 1;  dx = g·(y + 1)
internal readonly struct Expm1Op : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => Pointwise.Expm1(x);

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => g * (y + T.One);
}

/// <summary>PReLU over (outer, channels, inner) contiguous data; a single weight is channels = 1 with every element on it.</summary>
internal static class PreluKernels
{
    // y = x > 0 ? x : w[c]·x
    public static void Forward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, int channels, int inner, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < x.Length; i++)
        {
            T v = x[i];
            y[i] = v > T.Zero ? v : w[channels == 1 ? 0 : i / inner % channels] * v;
        }
    }

    // dx = x > 0 ? g : w[c]·g;  dw[c] = Σ (x > 0 ? 0 : x·g), summed in element order (deterministic)
    public static void Backward<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> g, int channels, int inner, Span<T> dx, Span<T> dw) where T : unmanaged, IFloatingPointIeee754<T>
    {
        dw.Clear();
        for (int i = 0; i < x.Length; i++)
        {
            int c = channels == 1 ? 0 : i / inner % channels;
            T v = x[i];
            if (!dx.IsEmpty) dx[i] = v > T.Zero ? g[i] : w[c] * g[i];
            if (!(v > T.Zero)) dw[c] += v * g[i];
        }
    }
}

// a p-norm's terms and gradient: y = (Σ|x|^p)^(1/p), dx = g·sgn(x)·|x|^(p−1)/y^(p−1), 0 where x = 0 or y = 0 (PyTorch's
// subgradient); p = ∞: y = max|x|, dx = g·sgn(x) at the maxima (g already divided by their count), else 0
internal readonly struct NormOp(double p) : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> =>
        p == 1 || double.IsInfinity(p) ? T.Abs(x) : p == 2 ? x * x : p == 0 ? (x != T.Zero ? T.One : T.Zero) : T.Pow(T.Abs(x), Pointwise.C<T>(p));

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (p == 0 || x == T.Zero || (y == T.Zero && !double.IsInfinity(p))) return T.Zero;
        T signedG = x > T.Zero ? g : -g;
        if (double.IsInfinity(p)) return T.Abs(x) == y ? signedG : T.Zero;
        if (p == 1) return signedG;
        if (p == 2) return g * x / y;
        T pm1 = Pointwise.C<T>(p - 1);
        return signedG * T.Pow(T.Abs(x), pm1) / T.Pow(y, pm1);
    }
}

// 1 where |x| is its slice's maximum (minimum) y, else 0: the count the ±∞-norm splits its gradient by
internal readonly struct NormTiesOp : IPointwise
{
    public T Forward<T>(T x) where T : unmanaged, IFloatingPointIeee754<T> => T.Abs(x);

    public T Backward<T>(T x, T y, T g) where T : unmanaged, IFloatingPointIeee754<T> => T.Abs(x) == y ? T.One : T.Zero;
}
