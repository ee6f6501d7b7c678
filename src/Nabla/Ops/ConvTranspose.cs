using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Transposed convolution: the input residual of a convolution run forward. With the convolution that maps the
// output y (N, C_out, H_out, W_out) to the input x (N, C_in, H, W) with this weight:
//   y = convᵀ(x, w) + b;   dx = conv(dy, w);   dw = Σ_n x_n ⋆ dy_n (the convolution's weight gradient);   db = Σ dy.
public partial class Tensor
{
    /// <summary>
    /// 2-D transposed convolution as torch.nn.functional.conv_transpose2d. Shape: input (N, C_in, H, W) or
    /// (C_in, H, W), weight (C_in, C_out/groups, kH, kW), bias (C_out) → (N, C_out, H_out, W_out) with
    /// H_out = (H − 1)·stride − 2·padding + dilation·(kH − 1) + output_padding + 1.
    /// </summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int outputPadding = 0, int groups = 1, int dilation = 1) =>
        ConvTranspose2d(input, weight, bias, (stride, stride), (padding, padding), (outputPadding, outputPadding), groups, (dilation, dilation));

    /// <summary>2-D transposed convolution with per-dimension (height, width) arguments. Shape: see the int overload.</summary>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) outputPadding, int groups, (int H, int W) dilation)
    {
        const string op = "ConvTranspose2d";
        if (input.Rank == 3 && weight.Rank == 4)
            return ConvTranspose2d(input.Unsqueeze(0), weight, bias, stride, padding, outputPadding, groups, dilation).Squeeze(0);
        if (input.Rank != 4) throw new ArgumentException($"{op}: expected input of shape (N, C_in, H, W) or (C_in, H, W), got {ShapeUtil.Format(input._shape)}.");
        if (weight.Rank != 4) throw new ArgumentException($"{op}: expected a 4-D weight (C_in, C_out/groups, kH, kW), got {ShapeUtil.Format(weight._shape)}.");
        if (stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1 || groups < 1 || padding.H < 0 || padding.W < 0 || outputPadding.H < 0 || outputPadding.W < 0)
            throw new ArgumentException($"{op}: stride ({stride.H}x{stride.W}), dilation ({dilation.H}x{dilation.W}) and groups ({groups}) must be positive, padding ({padding.H}x{padding.W}) and output_padding ({outputPadding.H}x{outputPadding.W}) non-negative.");
        if ((outputPadding.H >= stride.H && outputPadding.H >= dilation.H) || (outputPadding.W >= stride.W && outputPadding.W >= dilation.W))
            throw new ArgumentException($"{op}: output_padding ({outputPadding.H}x{outputPadding.W}) must be smaller than either stride ({stride.H}x{stride.W}) or dilation ({dilation.H}x{dilation.W}).");
        CheckSameDType(op, input, weight);
        if (bias is not null) CheckSameDType(op, input, bias);
        int n = input._shape[0], cin = input._shape[1], h = input._shape[2], w = input._shape[3];
        int kh = weight._shape[2], kw = weight._shape[3];
        if (weight._shape[0] != cin)
            throw new ArgumentException($"{op}: the input has {cin} channels but the weight {ShapeUtil.Format(weight._shape)} expects {weight._shape[0]} (weight is (C_in, C_out/groups, kH, kW)).");
        if (cin % groups != 0) throw new ArgumentException($"{op}: in_channels ({cin}) must be divisible by groups ({groups}).");
        int cout = weight._shape[1] * groups;
        if (bias is not null && (bias.Rank != 1 || bias._shape[0] != cout))
            throw new ArgumentException($"{op}: expected bias of shape [{cout}], got {ShapeUtil.Format(bias._shape)}.");
        int oh = (h - 1) * stride.H - 2 * padding.H + dilation.H * (kh - 1) + outputPadding.H + 1;
        int ow = (w - 1) * stride.W - 2 * padding.W + dilation.W * (kw - 1) + outputPadding.W + 1;
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"{op}: the kernel {kh}x{kw} (dilation {dilation.H}x{dilation.W}) with padding {padding.H}x{padding.W}, stride {stride.H}x{stride.W} and output_padding {outputPadding.H}x{outputPadding.W} gives an output size of {oh}x{ow} for the input of shape {ShapeUtil.Format(input._shape)}.");
        // the convolution from y (C_out channels, oh x ow) back to x (C_in channels, h x w)
        var geo = new ConvGeometry(n, cout, oh, ow, cin, kh, kw, stride.H, stride.W, padding.H, padding.W, dilation.H, dilation.W, groups, h, w);
        var x = input.Detach().Contiguous();
        var wt = weight.Detach().Contiguous();
        var b = bias?.Detach().Contiguous();
        var y = Empty(input.DType, [n, cout, oh, ow]);
        DTypeDispatch.Run(op, input.DType, new ConvTransposeForward(geo, x, wt, b, y));
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Engine.Record(y, op + "Backward", inputs, g =>
        {
            var gc = g.Contiguous();
            Tensor? dx = null, dw = null, db = null;
            if (input.RequiresGrad)
            {
                dx = Empty(input.DType, input._shape.ToArray());
                DTypeDispatch.Run(op, input.DType, new ConvForward(geo, gc, wt, null, dx));
            }
            if (weight.RequiresGrad)
            {
                dw = Empty(input.DType, weight._shape.ToArray());
                DTypeDispatch.Run(op, input.DType, new ConvBackwardWeight(geo, gc, x, dw));
            }
            if (bias is { RequiresGrad: true })
            {
                db = Empty(input.DType, [cout]);
                DTypeDispatch.Run(op, input.DType, new ConvBiasGrad(n, cout, oh * ow, gc, db));
            }
            return bias is null ? [dx, dw] : [dx, dw, db];
        }, firstOrderOnly: true);
    }

    private readonly struct ConvTransposeForward(ConvGeometry geo, Tensor x, Tensor wt, Tensor? b, Tensor y) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            Conv.BackwardData<T>(geo, Mem<T>(x), Mem<T>(wt), Mem<T>(y));
            if (b is null) return;
            var ys = y.Span<T>();
            var bs = b.Span<T>();
            for (int i = 0; i < geo.N; i++)
                for (int c = 0; c < geo.C; c++)
                    System.Numerics.Tensors.TensorPrimitives.Add(ys.Slice((i * geo.C + c) * geo.HW, geo.HW), bs[c], ys.Slice((i * geo.C + c) * geo.HW, geo.HW));
        }
    }
}
