using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// The window arithmetic of a 2-D pooling over Planes = N·C planes of H x W: output (oh, ow) covers input rows
/// oh·SH − PH + kh·DH for kh in [0, KH) (and the same for columns); positions outside the input are skipped.
/// </summary>
public readonly record struct PoolGeometry(int Planes, int H, int W, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW, int OH, int OW)
{
    /// <summary>Output pixels per plane.</summary>
    public int P => OH * OW;

    /// <summary>Input pixels per plane.</summary>
    public int HW => H * W;

    /// <summary>
    /// PyTorch's pooling output size: ⌊ or ⌈(in + 2·pad − dil·(k − 1) − 1)/stride⌉ + 1, and with ceil_mode the last
    /// window must start inside the input or its left padding.
    /// </summary>
    public static int OutSize(int input, int kernel, int stride, int pad, int dilation, bool ceilMode)
    {
        long num = input + 2L * pad - (long)dilation * (kernel - 1) - 1;
        long o = (ceilMode ? (long)Math.Ceiling(num / (double)stride) : (long)Math.Floor(num / (double)stride)) + 1;
        if (ceilMode && (o - 1) * stride >= input + pad) o--;
        return (int)o;
    }
}

/// <summary>Max, average and adaptive pooling kernels, forward and backward, one (n, c) plane per part.</summary>
internal static class Pool
{
    private static void RunPlanes(int planes, long work, Action<int> body)
    {
        if (planes >= 2 && work >= 1L << 15) Threading.For(planes, body);
        else for (int i = 0; i < planes; i++) body(i);
    }

    /// <summary>y = max over each window; idx = the arg-max's position in its plane (first one on ties, NaN wins, as PyTorch).</summary>
    public static void MaxForward<T>(PoolGeometry g, ReadOnlyMemory<T> x, Memory<T> y, int[] idx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && PoolFast.Supports(g))
        {
            RunPlanes(g.Planes, (long)g.Planes * g.P * 4, pl => PoolFast.Max2x2Plane(g,
                System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x.Span.Slice(pl * g.HW, g.HW)),
                System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(y.Span.Slice(pl * g.P, g.P)), idx.AsSpan(pl * g.P, g.P)));
            return;
        }
        MaxForwardGeneral(g, x, y, idx);
    }

    /// <summary>The general max pooling loop (any window, padding, dilation); the reference of the 2x2 fast path.</summary>
    public static void MaxForwardGeneral<T>(PoolGeometry g, ReadOnlyMemory<T> x, Memory<T> y, int[] idx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RunPlanes(g.Planes, (long)g.Planes * g.P * g.KH * g.KW, pl =>
        {
            var xs = x.Span.Slice(pl * g.HW, g.HW);
            var ys = y.Span.Slice(pl * g.P, g.P);
            var ids = idx.AsSpan(pl * g.P, g.P);
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    T best = T.NegativeInfinity;
                    int bi = -1;
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        int ih = oh * g.SH - g.PH + kh * g.DH;
                        if ((uint)ih >= (uint)g.H) continue;
                        for (int kw = 0; kw < g.KW; kw++)
                        {
                            int iw = ow * g.SW - g.PW + kw * g.DW;
                            if ((uint)iw >= (uint)g.W) continue;
                            T v = xs[ih * g.W + iw];
                            if (v > best || T.IsNaN(v) || bi < 0)
                            {
                                best = v;
                                bi = ih * g.W + iw;
                                if (T.IsNaN(v)) goto done;
                            }
                        }
                    }
                done:
                    ys[oh * g.OW + ow] = best;
                    ids[oh * g.OW + ow] = bi;
                }
        });
    }

    /// <summary>
    /// dx = each output's residual at its arg-max (idx) and zero elsewhere: the 2x2 fast path where it applies and its
    /// rows fill at least half a vector, else <see cref="MaxBackward{T}(int, int, int, ReadOnlyMemory{T}, int[], Memory{T})"/>.
    /// Measured (Zen 5, 2 threads, per call): 2048 planes of 32x32 288 → 124 µs, 4096 of 16x16 134 → 119 µs, LeNet's
    /// 384 of 28x28 43 → 23 µs; its 1024 planes of 10x10 (5 outputs a row) 17 → 21 µs, so they keep the scatter.
    /// </summary>
    public static void MaxBackward<T>(PoolGeometry g, ReadOnlyMemory<T> dy, int[] idx, Memory<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && PoolFast.Supports(g) && g.OW >= 8)
        {
            RunPlanes(g.Planes, (long)g.Planes * g.HW, pl => PoolFast.Max2x2PlaneBackward(g,
                System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(dy.Span.Slice(pl * g.P, g.P)), idx.AsSpan(pl * g.P, g.P),
                System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(dx.Span.Slice(pl * g.HW, g.HW))));
            return;
        }
        MaxBackward(g.Planes, g.HW, g.P, dy, idx, dx);
    }

    /// <summary>dx[idx] += dy: the residual goes to the arg-max position of each window (dx overwritten). Shared by the adaptive max pool.</summary>
    public static void MaxBackward<T>(int planes, int inPixels, int outPixels, ReadOnlyMemory<T> dy, int[] idx, Memory<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RunPlanes(planes, (long)planes * (inPixels + outPixels), pl =>
        {
            var dxs = dx.Span.Slice(pl * inPixels, inPixels);
            var gys = dy.Span.Slice(pl * outPixels, outPixels);
            var ids = idx.AsSpan(pl * outPixels, outPixels);
            dxs.Clear();
            for (int i = 0; i < outPixels; i++)
                if (ids[i] >= 0) dxs[ids[i]] += gys[i];
        });
    }

    // PyTorch's divisor: divisor_override when non-zero, else the window clipped to the padded input (count_include_pad)
    // or to the input itself
    private static (int H0, int H1, int W0, int W1, int Div) AvgWindow(in PoolGeometry g, int oh, int ow, bool countIncludePad, int divisorOverride)
    {
        int h0 = oh * g.SH - g.PH, w0 = ow * g.SW - g.PW;
        int h1 = Math.Min(h0 + g.KH, g.H + g.PH), w1 = Math.Min(w0 + g.KW, g.W + g.PW);
        int size = (h1 - h0) * (w1 - w0);
        h0 = Math.Max(h0, 0);
        w0 = Math.Max(w0, 0);
        h1 = Math.Min(h1, g.H);
        w1 = Math.Min(w1, g.W);
        return (h0, h1, w0, w1, divisorOverride != 0 ? divisorOverride : countIncludePad ? size : (h1 - h0) * (w1 - w0));
    }

    /// <summary>y = Σ window / divisor (see <see cref="AvgWindow"/>; <paramref name="divisorOverride"/> 0 = none); a window with no input pixel and divisor 0 gives 0.</summary>
    public static void AvgForward<T>(PoolGeometry g, bool countIncludePad, int divisorOverride, ReadOnlyMemory<T> x, Memory<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RunPlanes(g.Planes, (long)g.Planes * g.P * g.KH * g.KW, pl =>
        {
            var xs = x.Span.Slice(pl * g.HW, g.HW);
            var ys = y.Span.Slice(pl * g.P, g.P);
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    var (h0, h1, w0, w1, div) = AvgWindow(g, oh, ow, countIncludePad, divisorOverride);
                    T s = T.Zero;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) s += xs[ih * g.W + iw];
                    ys[oh * g.OW + ow] = div != 0 ? s / T.CreateTruncating(div) : T.Zero;
                }
        });
    }

    /// <summary>dx[window] += dy / divisor (dx overwritten).</summary>
    public static void AvgBackward<T>(PoolGeometry g, bool countIncludePad, int divisorOverride, ReadOnlyMemory<T> dy, Memory<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RunPlanes(g.Planes, (long)g.Planes * g.P * g.KH * g.KW, pl =>
        {
            var dxs = dx.Span.Slice(pl * g.HW, g.HW);
            var gys = dy.Span.Slice(pl * g.P, g.P);
            dxs.Clear();
            for (int oh = 0; oh < g.OH; oh++)
                for (int ow = 0; ow < g.OW; ow++)
                {
                    var (h0, h1, w0, w1, div) = AvgWindow(g, oh, ow, countIncludePad, divisorOverride);
                    if (div == 0) continue;   // no input pixel in the window
                    T v = gys[oh * g.OW + ow] / T.CreateTruncating(div);
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) dxs[ih * g.W + iw] += v;
                }
        });
    }

    /// <summary>Adaptive window i of n over a dim of size len: [⌊i·len/n⌋, ⌈(i+1)·len/n⌉).</summary>
    public static (int Start, int End) AdaptiveRange(int i, int n, int len) => ((int)((long)i * len / n), (int)(((long)(i + 1) * len + n - 1) / n));

    /// <summary>Adaptive average pooling of planes of H x W to OH x OW (1 x 1 is global average pooling).</summary>
    public static void AdaptiveAvgForward<T>(int planes, int h, int w, int oh, int ow, ReadOnlyMemory<T> x, Memory<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RunPlanes(planes, (long)planes * h * w, pl =>
        {
            var xs = x.Span.Slice(pl * h * w, h * w);
            var ys = y.Span.Slice(pl * oh * ow, oh * ow);
            if (oh == 1 && ow == 1)
            {
                ys[0] = TensorPrimitives.Sum(xs) / T.CreateTruncating(h * w);
                return;
            }
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1) = AdaptiveRange(i, oh, h);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1) = AdaptiveRange(j, ow, w);
                    T s = T.Zero;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) s += xs[ih * w + iw];
                    ys[i * ow + j] = s / T.CreateTruncating((h1 - h0) * (w1 - w0));
                }
            }
        });
    }

    /// <summary>dx[window] += dy / window size (dx overwritten).</summary>
    public static void AdaptiveAvgBackward<T>(int planes, int h, int w, int oh, int ow, ReadOnlyMemory<T> dy, Memory<T> dx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RunPlanes(planes, (long)planes * h * w, pl =>
        {
            var dxs = dx.Span.Slice(pl * h * w, h * w);
            var gys = dy.Span.Slice(pl * oh * ow, oh * ow);
            if (oh == 1 && ow == 1)
            {
                dxs.Fill(gys[0] / T.CreateTruncating(h * w));
                return;
            }
            dxs.Clear();
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1) = AdaptiveRange(i, oh, h);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1) = AdaptiveRange(j, ow, w);
                    T v = gys[i * ow + j] / T.CreateTruncating((h1 - h0) * (w1 - w0));
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) dxs[ih * w + iw] += v;
                }
            }
        });
    }

    /// <summary>Adaptive max pooling: y = max over each adaptive window, idx = its arg-max (backward: <see cref="MaxBackward{T}(int, int, int, ReadOnlyMemory{T}, int[], Memory{T})"/>).</summary>
    public static void AdaptiveMaxForward<T>(int planes, int h, int w, int oh, int ow, ReadOnlyMemory<T> x, Memory<T> y, int[] idx) where T : unmanaged, IFloatingPointIeee754<T>
    {
        RunPlanes(planes, (long)planes * h * w, pl =>
        {
            var xs = x.Span.Slice(pl * h * w, h * w);
            var ys = y.Span.Slice(pl * oh * ow, oh * ow);
            var ids = idx.AsSpan(pl * oh * ow, oh * ow);
            for (int i = 0; i < oh; i++)
            {
                var (h0, h1) = AdaptiveRange(i, oh, h);
                for (int j = 0; j < ow; j++)
                {
                    var (w0, w1) = AdaptiveRange(j, ow, w);
                    T best = T.NegativeInfinity;
                    int bi = -1;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++)
                        {
                            T v = xs[ih * w + iw];
                            if (bi < 0 || v > best || (T.IsNaN(v) && !T.IsNaN(best)))
                            {
                                best = v;
                                bi = ih * w + iw;
                            }
                        }
                    ys[i * ow + j] = best;
                    ids[i * ow + j] = bi;
                }
            }
        });
    }
}
