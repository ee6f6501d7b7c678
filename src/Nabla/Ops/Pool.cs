using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Pooling, the text's second exercise. Max: y = max over the window, and the residual goes back to the arg-max
// position only (dx[argmax] += dy). Average: y = Σ window / divisor, dx[window] += dy / divisor. No parameters.
public partial class Tensor
{
    /// <summary>
    /// 2-D max pooling as torch.nn.functional.max_pool2d. Shape: (N, C, H, W) or (C, H, W) → (N, C, H_out, W_out),
    /// H_out = ⌊ or ⌈(H + 2·padding − dilation·(kH − 1) − 1)/stride⌉ + 1. The stride defaults to the kernel size.
    /// </summary>
    public Tensor MaxPool2d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        MaxPool2d((kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>2-D max pooling with per-dimension (height, width) arguments. Shape: see the int overload.</summary>
    public Tensor MaxPool2d((int H, int W) kernelSize, (int H, int W)? stride, (int H, int W) padding, (int H, int W) dilation, bool ceilMode = false) =>
        PoolNd("MaxPool2d", 2, kernelSize, stride ?? kernelSize, padding, dilation, ceilMode, max: true, countIncludePad: true, 0);

    /// <summary>1-D max pooling as torch.nn.functional.max_pool1d. Shape: (N, C, L) or (C, L) → (N, C, L_out).</summary>
    public Tensor MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        PoolNd("MaxPool1d", 1, (1, kernelSize), (1, stride ?? kernelSize), (0, padding), (1, dilation), ceilMode, max: true, countIncludePad: true, 0);

    /// <summary>
    /// 2-D average pooling as torch.nn.functional.avg_pool2d. Shape: (N, C, H, W) or (C, H, W) → (N, C, H_out, W_out).
    /// With <paramref name="countIncludePad"/> the divisor counts padding zeros (but not the part of a ceil-mode
    /// window past the padding), otherwise only input pixels; a non-null <paramref name="divisorOverride"/> (any
    /// non-zero int, as PyTorch) replaces the divisor of every window.
    /// </summary>
    public Tensor AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) =>
        AvgPool2d((kernelSize, kernelSize), stride is int s ? (s, s) : null, (padding, padding), ceilMode, countIncludePad, divisorOverride);

    /// <summary>2-D average pooling with per-dimension (height, width) arguments. Shape: see the int overload.</summary>
    public Tensor AvgPool2d((int H, int W) kernelSize, (int H, int W)? stride, (int H, int W) padding, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) =>
        PoolNd("AvgPool2d", 2, kernelSize, stride ?? kernelSize, padding, (1, 1), ceilMode, max: false, countIncludePad, CheckDivisor("AvgPool2d", divisorOverride));

    /// <summary>
    /// 1-D average pooling as torch.nn.functional.avg_pool1d; the stride defaults to the kernel size and the divisor
    /// follows <see cref="AvgPool2d(int, int?, int, bool, bool, int?)"/>. Shape: (N, C, L) or (C, L) → (N, C, L_out).
    /// </summary>
    public Tensor AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        PoolNd("AvgPool1d", 1, (1, kernelSize), (1, stride ?? kernelSize), (0, padding), (1, 1), ceilMode, max: false, countIncludePad, 0);

    private static int CheckDivisor(string op, int? divisorOverride) => divisorOverride switch
    {
        null => 0,
        0 => throw new ArgumentException($"{op}: divisor_override must be non-zero (null for the window size), got 0."),
        int v => v,
    };

    private Tensor PoolNd(string op, int dims, (int H, int W) k, (int H, int W) s, (int H, int W) p, (int H, int W) d, bool ceilMode, bool max, bool countIncludePad, int divisorOverride)
    {
        string D((int H, int W) v) => dims == 1 ? $"{v.W}" : $"{v.H}x{v.W}";
        if (Rank != dims + 1 && Rank != dims + 2)
            throw new ArgumentException($"{op}: expected input of shape {(dims == 1 ? "(N, C, L) or (C, L)" : "(N, C, H, W) or (C, H, W)")}, got {ShapeUtil.Format(_shape)}.");
        if (k.H < 1 || k.W < 1 || s.H < 1 || s.W < 1 || d.H < 1 || d.W < 1 || p.H < 0 || p.W < 0)
            throw new ArgumentException($"{op}: kernel_size ({D(k)}), stride ({D(s)}) and dilation ({D(d)}) must be positive and padding ({D(p)}) non-negative.");
        if (p.H > k.H / 2 || p.W > k.W / 2)
            throw new ArgumentException($"{op}: padding ({D(p)}) must be at most half the kernel size ({D(k)}), as in PyTorch.");
        int h = dims == 1 ? 1 : _shape[^2], w = _shape[^1];
        int oh = PoolGeometry.OutSize(h, k.H, s.H, p.H, d.H, ceilMode), ow = PoolGeometry.OutSize(w, k.W, s.W, p.W, d.W, ceilMode);
        if (oh < 1 || ow < 1)
            throw new ArgumentException($"{op}: the kernel {D(k)} (dilation {D(d)}) with padding {D(p)}, stride {D(s)} and ceil_mode={ceilMode} does not fit the input of shape {ShapeUtil.Format(_shape)}: the output size would be {D((oh, ow))}.");
        int planes = h * w == 0 ? 0 : Numel / (h * w);
        var geo = new PoolGeometry(planes, h, w, k.H, k.W, s.H, s.W, p.H, p.W, d.H, d.W, oh, ow);
        var outShape = _shape.ToArray();
        outShape[^1] = ow;
        if (dims == 2) outShape[^2] = oh;
        var x = Detach().Contiguous();
        var y = Uninitialized(DType, outShape);
        var input = this;
        if (max)
        {
            // every entry is written; pooled, as only the backward reads it
            var idx = StoragePool.Rent<int>(planes * geo.P) ?? GC.AllocateUninitializedArray<int>(planes * geo.P);
            DTypeDispatch.Run(op, DType, new MaxPoolForward(geo, x, y, idx));
            // saves only the arg-max positions
            var recorded = Engine.Record(y, op + "Backward", [this], g =>
            {
                var gc = g.Contiguous();
                var dx = Uninitialized(input.DType, input._shape.ToArray());   // the kernel writes every entry
                DTypeDispatch.Run(op, dx.DType, new MaxPoolWindowBackward(geo, gc, idx, dx));
                return [dx];
            }, firstOrderOnly: true);
            if (recorded.GradFn is { } node) node.ReleaseAfterBackward(idx);
            else StoragePool.Return(idx);   // no graph: nothing reads it again
            return recorded;
        }
        DTypeDispatch.Run(op, DType, new AvgPoolForward(geo, countIncludePad, divisorOverride, x, y));
        return Engine.Record(y, op + "Backward", [this], g =>
        {
            var gc = g.Contiguous();
            var dx = Empty(input.DType, input._shape.ToArray());
            DTypeDispatch.Run(op, dx.DType, new AvgPoolBackward(geo, countIncludePad, divisorOverride, gc, dx));
            return [dx];
        }, firstOrderOnly: true);
    }

    /// <summary>
    /// Adaptive average pooling to (outH, outW): window i covers [⌊i·H/outH⌋, ⌈(i+1)·H/outH⌉). (1, 1) is global
    /// average pooling. Shape: (N, C, H, W) or (C, H, W) → (N, C, outH, outW).
    /// </summary>
    public Tensor AdaptiveAvgPool2d(int outH, int outW) => AdaptivePool("AdaptiveAvgPool2d", outH, outW, max: false);

    /// <summary>Adaptive max pooling to (outH, outW); the residual goes to each window's arg-max. Shape: (N, C, H, W) or (C, H, W) → (N, C, outH, outW).</summary>
    public Tensor AdaptiveMaxPool2d(int outH, int outW) => AdaptivePool("AdaptiveMaxPool2d", outH, outW, max: true);

    private Tensor AdaptivePool(string op, int oh, int ow, bool max)
    {
        if (Rank is not (3 or 4)) throw new ArgumentException($"{op}: expected input of shape (N, C, H, W) or (C, H, W), got {ShapeUtil.Format(_shape)}.");
        if (oh < 1 || ow < 1) throw new ArgumentException($"{op}: output size must be positive, got {oh}x{ow}.");
        int h = _shape[^2], w = _shape[^1];
        if (h < 1 || w < 1) throw new ArgumentException($"{op}: the input of shape {ShapeUtil.Format(_shape)} has an empty spatial dim; nothing to pool into {oh}x{ow}.");
        int planes = Numel / (h * w);
        var outShape = _shape.ToArray();
        outShape[^2] = oh;
        outShape[^1] = ow;
        var x = Detach().Contiguous();
        var y = Uninitialized(DType, outShape);
        var input = this;
        if (max)
        {
            var idx = new int[planes * oh * ow];
            DTypeDispatch.Run(op, DType, new AdaptivePoolForward(planes, h, w, oh, ow, x, y, idx));
            return Engine.Record(y, op + "Backward", [this], g =>
            {
                var gc = g.Contiguous();
                var dx = Uninitialized(input.DType, input._shape.ToArray());   // the kernel clears each plane before scattering
                DTypeDispatch.Run(op, dx.DType, new MaxPoolBackward(planes, h * w, oh * ow, gc, idx, dx));
                return [dx];
            }, firstOrderOnly: true);
        }
        DTypeDispatch.Run(op, DType, new AdaptivePoolForward(planes, h, w, oh, ow, x, y, null));
        return Engine.Record(y, op + "Backward", [this], g =>
        {
            var gc = g.Contiguous();
            var dx = Empty(input.DType, input._shape.ToArray());
            DTypeDispatch.Run(op, dx.DType, new AdaptiveAvgPoolBackward(planes, h, w, oh, ow, gc, dx));
            return [dx];
        }, firstOrderOnly: true);
    }

    // the typed kernel calls, dispatched on the dtype (DTypeDispatch); idx receives the arg-max positions
    private readonly struct MaxPoolForward(PoolGeometry g, Tensor x, Tensor y, int[] idx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Pool.MaxForward(g, Mem<T>(x), Mem<T>(y), idx);
    }

    private readonly struct MaxPoolWindowBackward(PoolGeometry g, Tensor dy, int[] idx, Tensor dx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Pool.MaxBackward(g, Mem<T>(dy), idx, Mem<T>(dx));
    }

    private readonly struct MaxPoolBackward(int planes, int inPixels, int outPixels, Tensor dy, int[] idx, Tensor dx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Pool.MaxBackward(planes, inPixels, outPixels, Mem<T>(dy), idx, Mem<T>(dx));
    }

    private readonly struct AvgPoolForward(PoolGeometry g, bool countIncludePad, int divisorOverride, Tensor x, Tensor y) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Pool.AvgForward(g, countIncludePad, divisorOverride, Mem<T>(x), Mem<T>(y));
    }

    private readonly struct AvgPoolBackward(PoolGeometry g, bool countIncludePad, int divisorOverride, Tensor dy, Tensor dx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Pool.AvgBackward(g, countIncludePad, divisorOverride, Mem<T>(dy), Mem<T>(dx));
    }

    // max pooling when idx is given, else average
    private readonly struct AdaptivePoolForward(int planes, int h, int w, int oh, int ow, Tensor x, Tensor y, int[]? idx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (idx is null) Pool.AdaptiveAvgForward(planes, h, w, oh, ow, Mem<T>(x), Mem<T>(y));
            else Pool.AdaptiveMaxForward(planes, h, w, oh, ow, Mem<T>(x), Mem<T>(y), idx);
        }
    }

    private readonly struct AdaptiveAvgPoolBackward(int planes, int h, int w, int oh, int ow, Tensor dy, Tensor dx) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> => Pool.AdaptiveAvgBackward(planes, h, w, oh, ow, Mem<T>(dy), Mem<T>(dx));
    }
}
