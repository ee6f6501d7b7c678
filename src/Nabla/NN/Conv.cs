using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// 2-D convolution layer as torch.nn.Conv2d, initialised as PyTorch (kaiming_uniform with a = √5: weight and bias
/// uniform in ±1/√fan_in, fan_in = C_in/groups·kH·kW). Shape: (N, C_in, H, W) → (N, C_out, H_out, W_out).
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer. <paramref name="padding"/> is an int, a pair, "valid" or "same"; stride and dilation default to 1.</summary>
    public Conv2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, ConvPadding? padding = null, Size2? dilation = null,
        int groups = 1, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
    {
        ConvModules.Check("Conv2d", inChannels, outChannels, kernelSize, groups);
        (InChannels, OutChannels, KernelSize, Groups) = (inChannels, outChannels, kernelSize, groups);
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        if (Padding.Mode is not (null or "valid" or "same")) throw new ArgumentException($"Conv2d: padding must be an int, a pair, \"valid\" or \"same\", got \"{Padding.Mode}\".");
        if (Padding.Mode == "same" && (Stride.H != 1 || Stride.W != 1)) throw new ArgumentException($"Conv2d: padding=\"same\" is not supported for strided convolutions (stride {Stride}), as in PyTorch.");
        double bound = 1 / Math.Sqrt(inChannels / groups * kernelSize.H * kernelSize.W);
        Weight = RegisterParameter("weight", new Parameter(Tensor.Uniform([outChannels, inChannels / groups, kernelSize.H, kernelSize.W], -bound, bound, dtype, generator)))!;
        Bias = RegisterParameter("bias", bias ? new Parameter(Tensor.Uniform([outChannels], -bound, bound, dtype, generator)) : null);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>(kH, kW).</summary>
    public Size2 KernelSize { get; }

    /// <summary>Stride.</summary>
    public Size2 Stride { get; }

    /// <summary>Padding (zeros).</summary>
    public ConvPadding Padding { get; }

    /// <summary>Dilation.</summary>
    public Size2 Dilation { get; }

    /// <summary>Groups: C_in and C_out split into this many independent convolutions (C_in for depthwise).</summary>
    public int Groups { get; }

    /// <summary>Weight. Shape: (C_out, C_in/groups, kH, kW).</summary>
    public Parameter Weight { get; }

    /// <summary>Bias, or null. Shape: (C_out).</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Padding.Mode is string mode
        ? Tensor.Conv2d(input, Weight, Bias, Stride.Tuple, mode, Dilation.Tuple, Groups)
        : Tensor.Conv2d(input, Weight, Bias, Stride.Tuple, (Padding.H, Padding.W), Dilation.Tuple, Groups);

    /// <inheritdoc/>
    protected override string ExtraRepr() => ConvModules.Repr(InChannels, OutChannels, KernelSize.ToString(), Stride.ToString(), Padding.ToString(), Dilation.ToString(), Groups, Bias is not null);
}

/// <summary>
/// 1-D convolution layer as torch.nn.Conv1d (PyTorch's initialisation). Shape: (N, C_in, L) → (N, C_out, L_out).
/// </summary>
public sealed class Conv1d : Module
{
    /// <summary>Creates the layer. <paramref name="padding"/> is an int, "valid" or "same".</summary>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, ConvPadding? padding = null, int dilation = 1,
        int groups = 1, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
    {
        ConvModules.Check("Conv1d", inChannels, outChannels, kernelSize, groups);
        if (stride < 1 || dilation < 1) throw new ArgumentException($"Conv1d: stride ({stride}) and dilation ({dilation}) must be positive.");
        var pad = padding ?? 0;
        if (pad.Mode is null && pad.H != pad.W) throw new ArgumentException($"Conv1d: padding must be one int, got a pair {pad}.");
        if (pad.Mode is not (null or "valid" or "same")) throw new ArgumentException($"Conv1d: padding must be an int, \"valid\" or \"same\", got \"{pad.Mode}\".");
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, pad, dilation, groups);
        double bound = 1 / Math.Sqrt(inChannels / groups * kernelSize);
        Weight = RegisterParameter("weight", new Parameter(Tensor.Uniform([outChannels, inChannels / groups, kernelSize], -bound, bound, dtype, generator)))!;
        Bias = RegisterParameter("bias", bias ? new Parameter(Tensor.Uniform([outChannels], -bound, bound, dtype, generator)) : null);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel size.</summary>
    public int KernelSize { get; }

    /// <summary>Stride.</summary>
    public int Stride { get; }

    /// <summary>Padding (zeros).</summary>
    public ConvPadding Padding { get; }

    /// <summary>Dilation.</summary>
    public int Dilation { get; }

    /// <summary>Groups.</summary>
    public int Groups { get; }

    /// <summary>Weight. Shape: (C_out, C_in/groups, k).</summary>
    public Parameter Weight { get; }

    /// <summary>Bias, or null. Shape: (C_out).</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Padding.Mode is string mode
        ? Tensor.Conv1d(input, Weight, Bias, Stride, mode, Dilation, Groups)
        : Tensor.Conv1d(input, Weight, Bias, Stride, Padding.W, Dilation, Groups);

    /// <inheritdoc/>
    protected override string ExtraRepr() => ConvModules.Repr(InChannels, OutChannels, $"({KernelSize},)", $"({Stride},)",
        Padding.Mode is null ? $"({Padding.W},)" : Padding.ToString(), $"({Dilation},)", Groups, Bias is not null);
}

/// <summary>
/// 2-D transposed convolution layer as torch.nn.ConvTranspose2d (PyTorch's initialisation, fan_in from the weight's
/// dim 1: C_out/groups·kH·kW). Shape: (N, C_in, H, W) → (N, C_out, H_out, W_out),
/// H_out = (H − 1)·stride − 2·padding + dilation·(kH − 1) + output_padding + 1.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>Creates the layer.</summary>
    public ConvTranspose2d(int inChannels, int outChannels, Size2 kernelSize, Size2? stride = null, Size2? padding = null, Size2? outputPadding = null,
        int groups = 1, bool bias = true, Size2? dilation = null, DType dtype = DType.Float32, Generator? generator = null)
    {
        ConvModules.Check("ConvTranspose2d", inChannels, outChannels, kernelSize, groups);
        (InChannels, OutChannels, KernelSize, Groups) = (inChannels, outChannels, kernelSize, groups);
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        OutputPadding = outputPadding ?? 0;
        Dilation = dilation ?? 1;
        double bound = 1 / Math.Sqrt(outChannels / groups * kernelSize.H * kernelSize.W);
        Weight = RegisterParameter("weight", new Parameter(Tensor.Uniform([inChannels, outChannels / groups, kernelSize.H, kernelSize.W], -bound, bound, dtype, generator)))!;
        Bias = RegisterParameter("bias", bias ? new Parameter(Tensor.Uniform([outChannels], -bound, bound, dtype, generator)) : null);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>(kH, kW).</summary>
    public Size2 KernelSize { get; }

    /// <summary>Stride.</summary>
    public Size2 Stride { get; }

    /// <summary>Padding removed from each side of the output.</summary>
    public Size2 Padding { get; }

    /// <summary>Extra rows/columns added on the bottom/right of the output.</summary>
    public Size2 OutputPadding { get; }

    /// <summary>Dilation.</summary>
    public Size2 Dilation { get; }

    /// <summary>Groups.</summary>
    public int Groups { get; }

    /// <summary>Weight. Shape: (C_in, C_out/groups, kH, kW).</summary>
    public Parameter Weight { get; }

    /// <summary>Bias, or null. Shape: (C_out).</summary>
    public Parameter? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        Tensor.ConvTranspose2d(input, Weight, Bias, Stride.Tuple, Padding.Tuple, OutputPadding.Tuple, Groups, Dilation.Tuple);

    /// <inheritdoc/>
    protected override string ExtraRepr() => ConvModules.Repr(InChannels, OutChannels, KernelSize.ToString(), Stride.ToString(), Padding.ToString(), Dilation.ToString(), Groups, Bias is not null)
        + string.Create(CultureInfo.InvariantCulture, $", output_padding={OutputPadding}");
}

internal static class ConvModules
{
    public static void Check(string op, int cin, int cout, Size2 k, int groups)
    {
        if (cin <= 0 || cout <= 0 || k.H <= 0 || k.W <= 0 || groups <= 0)
            throw new ArgumentOutOfRangeException(nameof(cin), $"{op}: in_channels ({cin}), out_channels ({cout}), kernel_size {k} and groups ({groups}) must be positive.");
        if (cin % groups != 0 || cout % groups != 0)
            throw new ArgumentException($"{op}: in_channels ({cin}) and out_channels ({cout}) must both be divisible by groups ({groups}).");
    }

    public static string Repr(int cin, int cout, string k, string s, string p, string d, int groups, bool bias) =>
        string.Create(CultureInfo.InvariantCulture, $"{cin}, {cout}, kernel_size={k}, stride={s}, padding={p}, dilation={d}, groups={groups}, bias={(bias ? "True" : "False")}");
}
