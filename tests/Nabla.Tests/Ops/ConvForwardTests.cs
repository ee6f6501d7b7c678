using Nabla.NN;

namespace Nabla.Tests.Ops;

/// <summary>Conv forward results against independent plain loops written here (not the library's reference kernels).</summary>
public class ConvForwardTests
{
    private static Tensor R(Generator g, params int[] shape) => Tensor.Randn(shape, DType.Float64, g);

    // y[n,o,i,j] = b[o] + Σ w[o,c,a,b]·xpad[n, grp·Cg + c, i·sh + a·dh − pt, j·sw + b·dw − pl]
    private static double[] NaiveConv(Tensor x, Tensor w, Tensor? b, int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, int groups, out int[] shape)
    {
        int n = x.Size(0), c = x.Size(1), h = x.Size(2), wd = x.Size(3), o = w.Size(0), cg = w.Size(1), kh = w.Size(2), kw = w.Size(3);
        int oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1, ow = (wd + pl + pr - dw * (kw - 1) - 1) / sw + 1;
        shape = [n, o, oh, ow];
        var y = new double[n * o * oh * ow];
        int og = o / groups;
        for (int i0 = 0; i0 < n; i0++)
            for (int oc = 0; oc < o; oc++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double s = b is null ? 0 : b[oc];
                        for (int ci = 0; ci < cg; ci++)
                            for (int a = 0; a < kh; a++)
                                for (int bb = 0; bb < kw; bb++)
                                {
                                    int r = i * sh + a * dh - pt, q = j * sw + bb * dw - pl;
                                    if (r < 0 || r >= h || q < 0 || q >= wd) continue;
                                    s += w[oc, ci, a, bb] * x[i0, oc / og * cg + ci, r, q];
                                }
                        y[((i0 * o + oc) * oh + i) * ow + j] = s;
                    }
        _ = c;
        return y;
    }

    private static void AssertClose(double[] expected, Tensor actual, double tol = 1e-10)
    {
        var a = actual.ToDoubleArray();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - expected[i]) <= tol * (1 + Math.Abs(expected[i])), $"element {i}: {a[i]} vs {expected[i]}");
    }

    public static IEnumerable<object[]> Configs() => new int[][]
    {
        // n, c, h, w, o, kh, kw, stride, pad, dilation, groups, bias(0/1)
        [2, 3, 9, 8, 4, 3, 3, 1, 1, 1, 1, 1],
        [1, 4, 10, 11, 6, 3, 5, 2, 2, 1, 2, 0],
        [3, 6, 7, 7, 6, 3, 3, 1, 1, 1, 6, 1],     // depthwise
        [2, 3, 8, 8, 12, 3, 3, 2, 1, 1, 3, 1],    // depthwise, multiplier 4, strided
        [1, 5, 6, 9, 7, 1, 1, 1, 0, 1, 1, 1],     // pointwise
        [2, 2, 13, 12, 3, 3, 3, 1, 3, 3, 1, 0],   // dilated
        [1, 1, 28, 28, 6, 5, 5, 1, 2, 1, 1, 1],   // LeNet conv1
        [2, 20, 9, 9, 40, 3, 3, 1, 1, 1, 1, 1],   // GEMM path, odd sizes
        [1, 3, 11, 13, 5, 4, 2, 3, 1, 2, 1, 1],
    }.Select(r => r.Cast<object>().ToArray());

    [Theory]
    [MemberData(nameof(Configs))]
    public void Conv2dMatchesPlainLoops(int n, int c, int h, int w, int o, int kh, int kw, int s, int p, int d, int groups, int bias)
    {
        var g = new Generator(5);
        var x = R(g, n, c, h, w);
        var wt = R(g, o, c / groups, kh, kw);
        var b = bias == 1 ? R(g, o) : null;
        var expected = NaiveConv(x, wt, b, s, s, p, p, p, p, d, d, groups, out var shape);
        var y = Tensor.Conv2d(x, wt, b, s, p, d, groups);
        Assert.Equal(shape, y.Shape.ToArray());
        AssertClose(expected, y);
        // float32 runs the same kernels
        var y32 = Tensor.Conv2d(x.To(DType.Float32), wt.To(DType.Float32), b?.To(DType.Float32), s, p, d, groups);
        AssertClose(expected, y32, 1e-4);
    }

    [Fact]
    public void SamePaddingWithAnEvenKernelPadsTheExtraOnTheBottomRight()
    {
        var g = new Generator(2);
        var x = R(g, 1, 2, 5, 6);
        var w = R(g, 3, 2, 2, 4);
        var expected = NaiveConv(x, w, null, 1, 1, 0, 1, 1, 2, 1, 1, 1, out var shape);
        var y = Tensor.Conv2d(x, w, null, (1, 1), "same", (1, 1));
        Assert.Equal([1, 3, 5, 6], y.Shape.ToArray());
        Assert.Equal(shape, y.Shape.ToArray());
        AssertClose(expected, y);
    }

    [Fact]
    public void HandComputedConvolution()
    {
        // x = 1..9 in a 3x3 image, w = [[1, 0], [0, -1]]: y[i,j] = x[i,j] − x[i+1,j+1] = −4 everywhere, plus bias 0.5
        var x = Tensor.Arange(1, 10).Reshape(1, 1, 3, 3);
        var w = Tensor.FromArray([1f, 0, 0, -1], 1, 1, 2, 2);
        var y = Tensor.Conv2d(x, w, Tensor.FromArray([0.5f]));
        Assert.Equal([-3.5f, -3.5f, -3.5f, -3.5f], y.ToArray());
    }

    [Fact]
    public void Conv1dIsConv2dWithHeightOne()
    {
        var g = new Generator(3);
        var x = R(g, 2, 4, 11);
        var w = R(g, 6, 2, 3);
        var b = R(g, 6);
        var y = Tensor.Conv1d(x, w, b, stride: 2, padding: 2, dilation: 2, groups: 2);
        var expected = NaiveConv(x.Unsqueeze(2), w.Unsqueeze(2), b, 1, 2, 0, 2, 0, 2, 1, 2, 2, out var shape);
        Assert.Equal([shape[0], shape[1], shape[3]], y.Shape.ToArray());
        AssertClose(expected, y);
    }

    [Fact]
    public void ConvTranspose2dMatchesScatterDefinition()
    {
        // y[n, grp·Cog + co, i·s − p + a·d, j·s − p + b·d] += x[n, ci, i, j]·w[ci, co, a, b]
        var g = new Generator(4);
        int n = 2, cin = 4, h = 3, wd = 4, cog = 3, groups = 2, k = 3, s = 2, p = 1, op = 1, d = 1;
        var x = R(g, n, cin, h, wd);
        var w = R(g, cin, cog, k, k);
        var b = R(g, cog * groups);
        int oh = (h - 1) * s - 2 * p + d * (k - 1) + op + 1, ow = (wd - 1) * s - 2 * p + d * (k - 1) + op + 1;
        var y = new double[n * cog * groups * oh * ow];
        int cig = cin / groups;
        for (int i0 = 0; i0 < n; i0++)
            for (int ci = 0; ci < cin; ci++)
                for (int co = 0; co < cog; co++)
                    for (int i = 0; i < h; i++)
                        for (int j = 0; j < wd; j++)
                            for (int a = 0; a < k; a++)
                                for (int bb = 0; bb < k; bb++)
                                {
                                    int r = i * s - p + a * d, q = j * s - p + bb * d;
                                    if (r < 0 || r >= oh || q < 0 || q >= ow) continue;
                                    int oc = ci / cig * cog + co;
                                    y[((i0 * cog * groups + oc) * oh + r) * ow + q] += x[i0, ci, i, j] * w[ci, co, a, bb];
                                }
        for (int i = 0; i < y.Length; i++) y[i] += b[i / (oh * ow) % (cog * groups)];
        var actual = Tensor.ConvTranspose2d(x, w, b, s, p, op, groups, d);
        Assert.Equal([n, cog * groups, oh, ow], actual.Shape.ToArray());
        AssertClose(y, actual);
    }

    [Fact]
    public void ConvTransposeUndoesTheShapeOfAStridedConv()
    {
        var conv = new Conv2d(3, 8, 3, stride: 2, padding: 1, generator: new Generator(1));
        var up = new ConvTranspose2d(8, 3, 3, stride: 2, padding: 1, outputPadding: 1, generator: new Generator(1));
        var x = Tensor.Randn([2, 3, 16, 16]);
        Assert.Equal([2, 3, 16, 16], up.Forward(conv.Forward(x)).Shape.ToArray());
    }
}
