using System.Globalization;

namespace Nabla.NN;

/// <summary>2-D max pooling as torch.nn.MaxPool2d; the stride defaults to the kernel size. Shape: (N, C, H, W) → (N, C, H_out, W_out).</summary>
public sealed class MaxPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? dilation = null, bool ceilMode = false) : Module
{
    /// <summary>(kH, kW).</summary>
    public Size2 KernelSize { get; } = kernelSize;

    /// <summary>Stride (default: the kernel size).</summary>
    public Size2 Stride { get; } = stride ?? kernelSize;

    /// <summary>Implicit −∞ padding on each side (at most half the kernel).</summary>
    public Size2 Padding { get; } = padding ?? 0;

    /// <summary>Spacing between window elements.</summary>
    public Size2 Dilation { get; } = dilation ?? 1;

    /// <summary>Round the output size up (windows may run past the input's right/bottom edge).</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.MaxPool2d(KernelSize.Tuple, Stride.Tuple, Padding.Tuple, Dilation.Tuple, CeilMode);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceil_mode={(CeilMode ? "True" : "False")}";
}

/// <summary>1-D max pooling as torch.nn.MaxPool1d. Shape: (N, C, L) → (N, C, L_out).</summary>
public sealed class MaxPool1d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) : Module
{
    /// <summary>Kernel size.</summary>
    public int KernelSize { get; } = kernelSize;

    /// <summary>Stride (default: the kernel size).</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Implicit −∞ padding on each side.</summary>
    public int Padding { get; } = padding;

    /// <summary>Spacing between window elements.</summary>
    public int Dilation { get; } = dilation;

    /// <summary>Round the output size up.</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.MaxPool1d(KernelSize, Stride, Padding, Dilation, CeilMode);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}, dilation={Dilation}, ceil_mode={(CeilMode ? "True" : "False")}");
}

/// <summary>
/// 2-D average pooling as torch.nn.AvgPool2d; <paramref name="divisorOverride"/> (non-zero) replaces every window's
/// divisor. Shape: (N, C, H, W) → (N, C, H_out, W_out).
/// </summary>
public sealed class AvgPool2d(Size2 kernelSize, Size2? stride = null, Size2? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null) : Module
{
    /// <summary>(kH, kW).</summary>
    public Size2 KernelSize { get; } = kernelSize;

    /// <summary>Stride (default: the kernel size).</summary>
    public Size2 Stride { get; } = stride ?? kernelSize;

    /// <summary>Zero padding on each side.</summary>
    public Size2 Padding { get; } = padding ?? 0;

    /// <summary>Round the output size up.</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <summary>Whether padding zeros count in the divisor.</summary>
    public bool CountIncludePad { get; } = countIncludePad;

    /// <summary>The divisor used for every window in place of its size, or null.</summary>
    public int? DivisorOverride { get; } = divisorOverride != 0 ? divisorOverride
        : throw new ArgumentException("AvgPool2d: divisor_override must be non-zero (null for the window size), got 0.");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.AvgPool2d(KernelSize.Tuple, Stride.Tuple, Padding.Tuple, CeilMode, CountIncludePad, DivisorOverride);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"kernel_size={KernelSize}, stride={Stride}, padding={Padding}, ceil_mode={(CeilMode ? "True" : "False")}, count_include_pad={(CountIncludePad ? "True" : "False")}";
}

/// <summary>1-D average pooling as torch.nn.AvgPool1d; the stride defaults to the kernel size. Shape: (N, C, L) → (N, C, L_out).</summary>
public sealed class AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true) : Module
{
    /// <summary>Kernel size.</summary>
    public int KernelSize { get; } = kernelSize;

    /// <summary>Stride (default: the kernel size).</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Zero padding on each side (at most half the kernel).</summary>
    public int Padding { get; } = padding;

    /// <summary>Round the output size up.</summary>
    public bool CeilMode { get; } = ceilMode;

    /// <summary>Whether padding zeros count in the divisor.</summary>
    public bool CountIncludePad { get; } = countIncludePad;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.AvgPool1d(KernelSize, Stride, Padding, CeilMode, CountIncludePad);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"kernel_size=({KernelSize},), stride=({Stride},), padding=({Padding},)");
}

/// <summary>Adaptive average pooling to a fixed output size as torch.nn.AdaptiveAvgPool2d; (1, 1) is global average pooling. Shape: (N, C, H, W) → (N, C, outH, outW).</summary>
public sealed class AdaptiveAvgPool2d(Size2 outputSize) : Module
{
    /// <summary>(outH, outW).</summary>
    public Size2 OutputSize { get; } = outputSize;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.AdaptiveAvgPool2d(OutputSize.H, OutputSize.W);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"output_size={OutputSize}";
}

/// <summary>Adaptive max pooling to a fixed output size as torch.nn.AdaptiveMaxPool2d. Shape: (N, C, H, W) → (N, C, outH, outW).</summary>
public sealed class AdaptiveMaxPool2d(Size2 outputSize) : Module
{
    /// <summary>(outH, outW).</summary>
    public Size2 OutputSize { get; } = outputSize;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => input.AdaptiveMaxPool2d(OutputSize.H, OutputSize.W);

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"output_size={OutputSize}";
}

/// <summary>Global average pooling: the mean of each channel, flattened. Shape: (N, C, H, W) → (N, C).</summary>
public sealed class GlobalAvgPool2d : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (input.Rank != 4) throw new ArgumentException($"GlobalAvgPool2d: expected input of shape (N, C, H, W), got {ShapeUtil.Format(input.Shape)}.");
        return input.AdaptiveAvgPool2d(1, 1).Flatten(1);
    }
}
