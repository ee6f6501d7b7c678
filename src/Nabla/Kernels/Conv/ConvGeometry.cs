namespace Nabla.Kernels;

/// <summary>
/// The shape arithmetic of one 2-D convolution: input (N, C, H, W), weight (O, C/groups, KH, KW), output
/// (N, O, OH, OW). Output pixel (oh, ow) reads input rows oh·SH − PH + kh·DH and columns ow·SW − PW + kw·DW;
/// positions outside the input are zeros. PH/PW are the top/left padding; OH/OW are given explicitly, so asymmetric
/// padding ('same' with an even kernel) needs nothing else. A 1-D convolution is the case H = KH = OH = 1.
/// </summary>
public readonly record struct ConvGeometry(int N, int C, int H, int W, int O, int KH, int KW, int SH, int SW,
    int PH, int PW, int DH, int DW, int Groups, int OH, int OW)
{
    /// <summary>Input channels per group.</summary>
    public int Cg => C / Groups;

    /// <summary>Output channels per group.</summary>
    public int Og => O / Groups;

    /// <summary>Rows of the im2col matrix: Cg·KH·KW (the GEMM's k).</summary>
    public int K => Cg * KH * KW;

    /// <summary>Output pixels per channel: OH·OW.</summary>
    public int P => OH * OW;

    /// <summary>Input pixels per channel: H·W.</summary>
    public int HW => H * W;

    /// <summary>True when the im2col matrix of a sample is its input itself (1x1 kernel, stride 1, no padding).</summary>
    public bool IsPointwise => KH == 1 && KW == 1 && SH == 1 && SW == 1 && PH == 0 && PW == 0 && OH == H && OW == W;

    /// <summary>The output size along one dim, floor((in + padTotal − dil·(k−1) − 1)/stride) + 1 (may be below 1).</summary>
    public static int OutSize(int input, int padTotal, int kernel, int stride, int dilation) =>
        (int)Math.Floor((input + padTotal - (long)dilation * (kernel - 1) - 1) / (double)stride) + 1;
}
