using System.Numerics;

namespace Nabla.Kernels;

// The plain reference loops of the convolution kernels: the definition, one multiply-add at a time.
internal static partial class Conv
{
    /// <summary>y[n,o,oh,ow] = b[o] + Σ_c,kh,kw w[o,c,kh,kw]·x[n, grp·Cg + c, oh·SH − PH + kh·DH, ow·SW − PW + kw·DW].</summary>
    public static void ForwardReference<T>(in ConvGeometry g, ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y) where T : INumberBase<T>
    {
        for (int n = 0; n < g.N; n++)
            for (int o = 0; o < g.O; o++)
            {
                int grp = o / g.Og;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                    {
                        T s = b.IsEmpty ? T.Zero : b[o];
                        for (int c = 0; c < g.Cg; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    s += w[((o * g.Cg + c) * g.KH + kh) * g.KW + kw] * x[((n * g.C + grp * g.Cg + c) * g.H + ih) * g.W + iw];
                                }
                        y[((n * g.O + o) * g.OH + oh) * g.OW + ow] = s;
                    }
            }
    }

    /// <summary>dx[n, c, ih, iw] = Σ over every (o, oh, ow, kh, kw) that read it of w·dy (dx overwritten).</summary>
    public static void BackwardDataReference<T>(in ConvGeometry g, ReadOnlySpan<T> dy, ReadOnlySpan<T> w, Span<T> dx) where T : INumberBase<T>
    {
        dx.Slice(0, g.N * g.C * g.HW).Clear();
        for (int n = 0; n < g.N; n++)
            for (int o = 0; o < g.O; o++)
            {
                int grp = o / g.Og;
                for (int oh = 0; oh < g.OH; oh++)
                    for (int ow = 0; ow < g.OW; ow++)
                        for (int c = 0; c < g.Cg; c++)
                            for (int kh = 0; kh < g.KH; kh++)
                                for (int kw = 0; kw < g.KW; kw++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    dx[((n * g.C + grp * g.Cg + c) * g.H + ih) * g.W + iw] += w[((o * g.Cg + c) * g.KH + kh) * g.KW + kw] * dy[((n * g.O + o) * g.OH + oh) * g.OW + ow];
                                }
            }
    }

    /// <summary>dw[o, c, kh, kw] = Σ_n,oh,ow dy[n, o, oh, ow]·x[n, grp·Cg + c, ih, iw] (dw overwritten).</summary>
    public static void BackwardWeightReference<T>(in ConvGeometry g, ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dw) where T : INumberBase<T>
    {
        for (int o = 0; o < g.O; o++)
        {
            int grp = o / g.Og;
            for (int c = 0; c < g.Cg; c++)
                for (int kh = 0; kh < g.KH; kh++)
                    for (int kw = 0; kw < g.KW; kw++)
                    {
                        T s = T.Zero;
                        for (int n = 0; n < g.N; n++)
                            for (int oh = 0; oh < g.OH; oh++)
                                for (int ow = 0; ow < g.OW; ow++)
                                {
                                    int ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
                                    if ((uint)ih >= (uint)g.H || (uint)iw >= (uint)g.W) continue;
                                    s += dy[((n * g.O + o) * g.OH + oh) * g.OW + ow] * x[((n * g.C + grp * g.Cg + c) * g.H + ih) * g.W + iw];
                                }
                        dw[((o * g.Cg + c) * g.KH + kh) * g.KW + kw] = s;
                    }
        }
    }
}
