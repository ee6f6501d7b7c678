using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Convolution, the text's first exercise. Forward: y[n,o] = b[o] + Σ_c w[o,c] ⋆ x[n,c] (cross-correlation).
// Backward, each its own kernel: dx = convᵀ(dy, w) (residual passed back), dw[o,c] = Σ_n dy[n,o] ⋆ x[n,c],
// db[o] = Σ_n,p dy[n,o,p] (parameter gradients). See docs/convolution-and-pooling.md.
public partial class Tensor
{
    /// <summary>
    /// 2-D convolution (cross-correlation) as torch.nn.functional.conv2d. Shape: input (N, C_in, H, W) or
    /// (C_in, H, W), weight (C_out, C_in/groups, kH, kW), bias (C_out) → (N, C_out, H_out, W_out) with
    /// H_out = ⌊(H + 2·padding − dilation·(kH − 1) − 1)/stride⌋ + 1.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>2-D convolution with per-dimension (height, width) stride, padding and dilation. Shape: see the int overload.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding, (int H, int W) dilation, int groups = 1) =>
        ConvNd("Conv2d", 2, input, weight, bias, stride, (padding.H, padding.W, padding.H, padding.W), dilation, groups);

    /// <summary>2-D convolution with padding "valid" (none) or "same" (output size = input size; stride 1 only). Shape: see the int overload.</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride, string padding, (int H, int W) dilation, int groups = 1)
    {
        var pad = ConvPaddingFromMode("Conv2d", padding, weight.Rank == 4 ? weight._shape[2] : 1, weight.Rank == 4 ? weight._shape[3] : 1, stride, dilation);
        return ConvNd("Conv2d", 2, input, weight, bias, stride, pad, dilation, groups);
    }

    /// <summary>1-D convolution as torch.nn.functional.conv1d. Shape: input (N, C_in, L) or (C_in, L), weight (C_out, C_in/groups, k), bias (C_out) → (N, C_out, L_out).</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        ConvNd("Conv1d", 1, input, weight, bias, (1, stride), (0, padding, 0, padding), (1, dilation), groups);

    /// <summary>1-D convolution with padding "valid" or "same". Shape: see the int overload.</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias, int stride, string padding, int dilation = 1, int groups = 1)
    {
        var pad = ConvPaddingFromMode("Conv1d", padding, 1, weight.Rank == 3 ? weight._shape[2] : 1, (1, stride), (1, dilation));
        return ConvNd("Conv1d", 1, input, weight, bias, (1, stride), pad, (1, dilation), groups);
    }

    // 'valid' = no padding; 'same' = total d·(k−1) per dim, the odd one on the bottom/right (as PyTorch)
    internal static (int Top, int Left, int Bottom, int Right) ConvPaddingFromMode(string op, string mode, int kh, int kw, (int H, int W) stride, (int H, int W) dilation)
    {
        if (mode == "valid") return (0, 0, 0, 0);
        if (mode != "same") throw new ArgumentException($"{op}: padding must be an integer, a pair, \"valid\" or \"same\", got \"{mode}\".");
        if (stride.H != 1 || stride.W != 1)
            throw new ArgumentException($"{op}: padding=\"same\" is not supported for strided convolutions (stride {stride.H}x{stride.W}), as in PyTorch.");
        int th = dilation.H * (kh - 1), tw = dilation.W * (kw - 1);
        return (th / 2, tw / 2, th - th / 2, tw - tw / 2);
    }

    private static string Dims(int dims, (int H, int W) v) => dims == 1 ? $"{v.W}" : $"{v.H}x{v.W}";

    /// <summary>Checks the arguments, builds the geometry and runs the convolution; 1-D is the H = 1 case.</summary>
    private static Tensor ConvNd(string op, int dims, Tensor input, Tensor weight, Tensor? bias, (int H, int W) stride,
        (int Top, int Left, int Bottom, int Right) pad, (int H, int W) dilation, int groups)
    {
        int rank = dims + 2;
        if (input.Rank == rank - 1 && weight.Rank == rank)
            return ConvNd(op, dims, input.Unsqueeze(0), weight, bias, stride, pad, dilation, groups).Squeeze(0);
        string shapes = dims == 1 ? "(N, C_in, L)" : "(N, C_in, H, W)";
        if (input.Rank != rank) throw new ArgumentException($"{op}: expected input of shape {shapes} or without the batch dim, got {ShapeUtil.Format(input._shape)}.");
        if (weight.Rank != rank) throw new ArgumentException($"{op}: expected a {rank}-D weight (C_out, C_in/groups, {(dims == 1 ? "k" : "kH, kW")}), got {ShapeUtil.Format(weight._shape)}.");
        if (stride.H < 1 || stride.W < 1 || dilation.H < 1 || dilation.W < 1 || groups < 1 || pad.Top < 0 || pad.Left < 0 || pad.Bottom < 0 || pad.Right < 0)
            throw new ArgumentException($"{op}: stride ({Dims(dims, stride)}), dilation ({Dims(dims, dilation)}) and groups ({groups}) must be positive and padding non-negative ({Dims(dims, (pad.Top, pad.Left))}).");
        CheckSameDType(op, input, weight);
        if (bias is not null) CheckSameDType(op, input, bias);
        int n = input._shape[0], c = input._shape[1], h = dims == 1 ? 1 : input._shape[2], w = input._shape[^1];
        int o = weight._shape[0], kh = dims == 1 ? 1 : weight._shape[2], kw = weight._shape[^1];
        if (c % groups != 0 || o % groups != 0)
            throw new ArgumentException($"{op}: in_channels ({c}) and out_channels ({o}) must both be divisible by groups ({groups}).");
        if (weight._shape[1] * groups != c)
            throw new ArgumentException($"{op}: the input has {c} channels but the weight {ShapeUtil.Format(weight._shape)} with groups={groups} expects {weight._shape[1] * groups}.");
        if (bias is not null && (bias.Rank != 1 || bias._shape[0] != o))
            throw new ArgumentException($"{op}: expected bias of shape [{o}], got {ShapeUtil.Format(bias._shape)}.");
        int oh = ConvGeometry.OutSize(h, pad.Top + pad.Bottom, kh, stride.H, dilation.H);
        int ow = ConvGeometry.OutSize(w, pad.Left + pad.Right, kw, stride.W, dilation.W);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"{op}: the kernel {Dims(dims, (kh, kw))} (dilation {Dims(dims, dilation)}, effective {Dims(dims, (dilation.H * (kh - 1) + 1, dilation.W * (kw - 1) + 1))}) with padding {Dims(dims, (pad.Top + pad.Bottom, pad.Left + pad.Right))} in total and stride {Dims(dims, stride)} does not fit the input of shape {ShapeUtil.Format(input._shape)}: the output size would be {Dims(dims, (oh, ow))}.");
        var geo = new ConvGeometry(n, c, h, w, o, kh, kw, stride.H, stride.W, pad.Top, pad.Left, dilation.H, dilation.W, groups, oh, ow);
        int[] outShape = dims == 1 ? [n, o, ow] : [n, o, oh, ow];
        return ConvCore(op, input, weight, bias, geo, outShape);
    }

    internal static Memory<T> Mem<T>(Tensor t) => new(t.Buffer<T>(), t._offset, t.Numel);

    private static Tensor ConvCore(string op, Tensor input, Tensor weight, Tensor? bias, ConvGeometry geo, int[] outShape)
    {
        var x = input.Detach().Contiguous();
        var wt = weight.Detach().Contiguous();
        var b = bias?.Detach().Contiguous();
        var y = Uninitialized(input.DType, outShape);
        DTypeDispatch.Run(op, input.DType, new ConvForward(geo, x, wt, b, y));
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Engine.Record(y, op + "Backward", inputs, g =>
        {
            // under createGraph the input's gradient is a recorded ConvTranspose2d (so a gradient penalty ‖∇ₓD‖² can be
            // differentiated) and the bias's a recorded sum; the weight's stays a kernel that refuses double backward
            var graphPadding = GradMode.IsEnabled ? TransposedOutputPadding(geo) : null;
            var gc = g.Contiguous();
            Tensor? dx = null, dw = null, db = null;
            if (input.RequiresGrad && graphPadding is { } outPad)
            {
                var g4 = outShape.Length == 3 ? g.Unsqueeze(2) : g;
                var w4 = weight.Rank == 3 ? weight.Unsqueeze(2) : weight;
                dx = ConvTranspose2d(g4, w4, null, (geo.SH, geo.SW), (geo.PH, geo.PW), outPad, geo.Groups, (geo.DH, geo.DW));
                if (outShape.Length == 3) dx = dx.Squeeze(2);
            }
            else if (input.RequiresGrad)
            {
                dx = Uninitialized(input.DType, input._shape.ToArray());
                DTypeDispatch.Run(op, input.DType, new ConvBackwardData(geo, gc, wt, dx));
            }
            if (weight.RequiresGrad)
            {
                dw = Uninitialized(input.DType, weight._shape.ToArray());
                DTypeDispatch.Run(op, input.DType, new ConvBackwardWeight(geo, x, gc, dw));
            }
            if (bias is { RequiresGrad: true } && graphPadding is not null) db = g.Sum(outShape.Length == 3 ? [0, 2] : [0, 2, 3]);
            else if (bias is { RequiresGrad: true })
            {
                db = Uninitialized(input.DType, [geo.O]);
                DTypeDispatch.Run(op, input.DType, new ConvBiasGrad(geo.N, geo.O, geo.P, gc, db));
            }
            if (GradMode.IsEnabled)
            {
                // the kernel-made gradients under createGraph: usable, but refusing a second differentiation
                Tensor[] deps = [.. inputs.Where(t => t.RequiresGrad), .. g.RequiresGrad ? new[] { g } : []];
                const string kernels = "its backward runs in fused kernels outside the graph (under createGraph only the input's gradient is composed, when the padding is symmetric), so this gradient cannot be differentiated again";
                if (dw is not null) dw = Engine.Refusing(dw, op, kernels, deps);
                if (graphPadding is null)
                {
                    if (dx is not null) dx = Engine.Refusing(dx, op, kernels, deps);
                    if (db is not null) db = Engine.Refusing(db, op, kernels, deps);
                }
            }
            return bias is null ? [dx, dw] : [dx, dw, db];
        });
    }

    // The output padding that makes ConvTranspose2d (stride, padding PH/PW, dilation) give back the input's size, or
    // null when none is valid (asymmetric padding such as "same" with an even kernel).
    private static (int H, int W)? TransposedOutputPadding(ConvGeometry g)
    {
        int oph = g.H - ((g.OH - 1) * g.SH - 2 * g.PH + g.DH * (g.KH - 1) + 1);
        int opw = g.W - ((g.OW - 1) * g.SW - 2 * g.PW + g.DW * (g.KW - 1) + 1);
        bool ok = oph >= 0 && opw >= 0 && (oph < g.SH || oph < g.DH) && (opw < g.SW || opw < g.DW);
        return ok ? (oph, opw) : null;
    }

    // the typed kernel calls, dispatched on the dtype (DTypeDispatch); ConvTranspose2d runs them with the roles swapped
    private readonly struct ConvForward(ConvGeometry g, Tensor x, Tensor w, Tensor? b, Tensor y) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Conv.Forward(g, Mem<T>(x), Mem<T>(w), b is null ? default : Mem<T>(b), Mem<T>(y));
    }

    private readonly struct ConvBackwardData(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Conv.BackwardData(g, Mem<T>(dy), Mem<T>(w), Mem<T>(dx));
    }

    private readonly struct ConvBackwardWeight(ConvGeometry g, Tensor x, Tensor dy, Tensor dw) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Conv.BackwardWeight(g, Mem<T>(x), Mem<T>(dy), Mem<T>(dw));
    }

    private readonly struct ConvBiasGrad(int n, int channels, int pixels, Tensor dy, Tensor db) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Conv.BiasGrad(n, channels, pixels, dy.Span<T>(), db.Span<T>());
    }
}
