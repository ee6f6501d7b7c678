using Nabla.NN;

namespace Nabla.Onnx.Export;

// The ONNX form of each Nabla module Onnx.Export knows. Each emitter gets the module, its input value and its output
// for the sample input (already computed by Nabla), adds nodes and returns the name of its output value.
internal static partial class ModuleExporters
{
    public static OnnxValue Emit(OnnxExportContext c, Module m, OnnxValue x)
    {
        Tensor y = m.Forward(x.Sample);
        string name = m switch
        {
            Linear l => Linear(c, l, x),
            Conv2d conv => Conv2d(c, conv, x),
            Conv1d conv => Conv1d(c, conv, x),
            ConvTranspose2d conv => ConvTranspose2d(c, conv, x),
            MaxPool2d p => Pool(c, "MaxPool", x, [p.KernelSize.H, p.KernelSize.W], [p.Stride.H, p.Stride.W], [p.Padding.H, p.Padding.W], [p.Dilation.H, p.Dilation.W], p.CeilMode, true),
            MaxPool1d p => Pool(c, "MaxPool", x, [p.KernelSize], [p.Stride], [p.Padding], [p.Dilation], p.CeilMode, true),
            AvgPool2d p => AvgPool2d(c, p, x),
            AvgPool1d p => Pool(c, "AveragePool", x, [p.KernelSize], [p.Stride], [p.Padding], null, p.CeilMode, p.CountIncludePad),
            AdaptiveAvgPool2d p => AdaptivePool(c, "AveragePool", x, p.OutputSize),
            AdaptiveMaxPool2d p => AdaptivePool(c, "MaxPool", x, p.OutputSize),
            GlobalAvgPool2d => c.Node("Flatten", [c.Node("GlobalAveragePool", [x.Name])], ("axis", 1L)),
            Embedding e => Embedding(c, e, x),
            BatchNormBase bn => BatchNorm(c, bn, x),
            InstanceNormBase inorm => InstanceNorm(c, inorm, x),
            LayerNorm ln => LayerNorm(c, ln, x),
            GroupNorm gn => GroupNorm(c, gn, x),
            RMSNorm rms => RmsNorm(c, rms, x),
            RNNBase rnn => Recurrent(c, rnn, x),
            Flatten f => Flatten(c, f, x),
            Unflatten u => Unflatten(c, u, x),
            TransformerEncoderLayer t => EncoderLayer(c, t, x, isCausal: false).Name,
            TransformerEncoder t => EncoderStack(c, t, x, isCausal: false).Name,
            MultiheadAttention a => SelfAttentionModule(c, a, x),
            Dropout or Dropout2d => x.Name,   // identity at inference
            _ => Activation(c, m, x) ?? throw Unsupported(c, m),
        };
        return new OnnxValue(name, y);
    }

    internal static NotSupportedException Unsupported(OnnxExportContext c, Module m) => new(
        $"Onnx.Export: {m.GetType().Name} at {c.Path} has no ONNX form. Exported: Sequential, Linear, Conv1d, Conv2d, ConvTranspose2d, MaxPool1d/2d, " +
        "AvgPool1d/2d, AdaptiveAvg/MaxPool2d (output dividing the input), GlobalAvgPool2d, Embedding, BatchNorm1d/2d, InstanceNorm1d/2d, LayerNorm, " +
        "GroupNorm, RMSNorm, RNN, LSTM, GRU, MultiheadAttention (self-attention), TransformerEncoderLayer, TransformerEncoder, Flatten, Unflatten, Dropout, " +
        "and the activations; a model class of your own can implement IOnnxExportable.");

    /// <summary>The initializer name for a parameter: its state-dict key.</summary>
    internal static string Key(OnnxExportContext c, string parameter) => c.Path == "(model)" ? parameter : c.Path + "." + parameter;

    private static string Linear(OnnxExportContext c, Linear l, OnnxValue x)
    {
        string w = c.Initializer(l.Weight, Key(c, "weight"));
        if (x.Sample.Rank == 2)
        {
            // Gemm: y = x·Wᵀ + b
            return l.Bias is null
                ? c.Node("Gemm", [x.Name, w], ("transB", 1L))
                : c.Node("Gemm", [x.Name, w, c.Initializer(l.Bias, Key(c, "bias"))], ("transB", 1L));
        }
        string y = c.Node("MatMul", [x.Name, c.Node("Transpose", [w], ("perm", new long[] { 1, 0 }))]);
        return l.Bias is null ? y : c.Node("Add", [y, c.Initializer(l.Bias, Key(c, "bias"))]);
    }

    private static (long[] Begin, long[] End) ConvPads(ConvPadding p, int[] kernel, int[] dilation)
    {
        int n = kernel.Length;
        var begin = new long[n];
        var end = new long[n];
        for (int i = 0; i < n; i++)
        {
            if (p.Mode == "same")
            {
                // PyTorch: total d·(k − 1), the odd one on the right
                int total = dilation[i] * (kernel[i] - 1);
                begin[i] = total / 2;
                end[i] = total - total / 2;
            }
            else if (p.Mode is null) begin[i] = end[i] = n == 2 ? (i == 0 ? p.H : p.W) : p.H;
        }
        return (begin, end);
    }

    private static string Conv(OnnxExportContext c, OnnxValue x, Parameter weight, Parameter? bias, int[] kernel, int[] stride, (long[] Begin, long[] End) pads, int[] dilation, int groups)
    {
        var inputs = new List<string> { x.Name, c.Initializer(weight, Key(c, "weight")) };
        if (bias is not null) inputs.Add(c.Initializer(bias, Key(c, "bias")));
        return c.Node("Conv", inputs, ("kernel_shape", kernel), ("strides", stride), ("pads", pads.Begin.Concat(pads.End).ToArray()),
            ("dilations", dilation), ("group", (long)groups));
    }

    private static string Conv2d(OnnxExportContext c, Conv2d m, OnnxValue x)
    {
        int[] k = [m.KernelSize.H, m.KernelSize.W], d = [m.Dilation.H, m.Dilation.W];
        return Conv(c, x, m.Weight, m.Bias, k, [m.Stride.H, m.Stride.W], ConvPads(m.Padding, k, d), d, m.Groups);
    }

    private static string Conv1d(OnnxExportContext c, Conv1d m, OnnxValue x)
    {
        int[] k = [m.KernelSize], d = [m.Dilation];
        return Conv(c, x, m.Weight, m.Bias, k, [m.Stride], ConvPads(m.Padding, k, d), d, m.Groups);
    }

    private static string ConvTranspose2d(OnnxExportContext c, ConvTranspose2d m, OnnxValue x)
    {
        var inputs = new List<string> { x.Name, c.Initializer(m.Weight, Key(c, "weight")) };
        if (m.Bias is not null) inputs.Add(c.Initializer(m.Bias, Key(c, "bias")));
        return c.Node("ConvTranspose", inputs, ("kernel_shape", new[] { m.KernelSize.H, m.KernelSize.W }), ("strides", new[] { m.Stride.H, m.Stride.W }),
            ("pads", new[] { m.Padding.H, m.Padding.W, m.Padding.H, m.Padding.W }), ("output_padding", new[] { m.OutputPadding.H, m.OutputPadding.W }),
            ("dilations", new[] { m.Dilation.H, m.Dilation.W }), ("group", (long)m.Groups));
    }

    private static string Pool(OnnxExportContext c, string op, OnnxValue x, int[] kernel, int[] stride, int[] pad, int[]? dilation, bool ceil, bool countIncludePad)
    {
        var attrs = new List<(string, object)> { ("kernel_shape", kernel), ("strides", stride), ("pads", pad.Concat(pad).ToArray()) };
        if (dilation is not null) attrs.Add(("dilations", dilation));
        if (ceil) attrs.Add(("ceil_mode", 1L));
        if (op == "AveragePool" && countIncludePad) attrs.Add(("count_include_pad", 1L));
        return c.Node(op, [x.Name], [.. attrs]);
    }

    // divisor_override: sum / d = mean over the full window (count_include_pad, never clipped without ceil_mode) · k·k/d
    private static string AvgPool2d(OnnxExportContext c, AvgPool2d p, OnnxValue x)
    {
        int[] k = [p.KernelSize.H, p.KernelSize.W];
        if (p.DivisorOverride is not int d)
            return Pool(c, "AveragePool", x, k, [p.Stride.H, p.Stride.W], [p.Padding.H, p.Padding.W], null, p.CeilMode, p.CountIncludePad);
        if (p.CeilMode)
            throw new NotSupportedException($"Onnx.Export: AvgPool2d at {c.Path} has divisor_override with ceil_mode: its clipped last windows have no ONNX form.");
        string mean = Pool(c, "AveragePool", x, k, [p.Stride.H, p.Stride.W], [p.Padding.H, p.Padding.W], null, false, true);
        return c.Node("Mul", [mean, c.Scalar((double)(k[0] * k[1]) / d, "divisor")]);
    }

    private static string AdaptivePool(OnnxExportContext c, string op, OnnxValue x, Size2 output)
    {
        int h = x.Sample.Size(-2), w = x.Sample.Size(-1);
        if (output.H == 1 && output.W == 1) return c.Node(op == "MaxPool" ? "GlobalMaxPool" : "GlobalAveragePool", [x.Name]);
        if (h % output.H != 0 || w % output.W != 0)
            throw new NotSupportedException($"Onnx.Export: Adaptive{(op == "MaxPool" ? "Max" : "Avg")}Pool2d at {c.Path}: output size {output} does not divide the input's {h}x{w}, so its windows overlap unevenly and no ONNX pooling node computes it.");
        int[] k = [h / output.H, w / output.W];
        return c.Node(op, [x.Name], ("kernel_shape", k), ("strides", k));
    }

    private static string Embedding(OnnxExportContext c, Embedding e, OnnxValue x)
    {
        string idx = c.IsInt64(x.Name) ? x.Name : c.Node("Cast", [x.Name], ("to", 7L));   // 7: INT64
        return c.Node("Gather", [c.Initializer(e.Weight, Key(c, "weight")), idx], ("axis", 0L));
    }

    private static string Flatten(OnnxExportContext c, Flatten f, OnnxValue x)
    {
        int r = x.Sample.Rank;
        int s = f.StartDim < 0 ? f.StartDim + r : f.StartDim, e = f.EndDim < 0 ? f.EndDim + r : f.EndDim;
        if (s == 1 && e == r - 1) return c.Node("Flatten", [x.Name], ("axis", 1L));
        var shape = new List<long>();
        for (int i = 0; i < s; i++) shape.Add(0);           // 0: copy the input's size (keeps the batch dynamic)
        shape.Add(-1);
        for (int i = e + 1; i < r; i++) shape.Add(x.Sample.Size(i));
        return c.Node("Reshape", [x.Name, c.Int64s([.. shape])]);
    }

    private static string Unflatten(OnnxExportContext c, Unflatten u, OnnxValue x)
    {
        int r = x.Sample.Rank, d = u.Dim < 0 ? u.Dim + r : u.Dim;
        var shape = new List<long>();
        for (int i = 0; i < d; i++) shape.Add(0);
        shape.AddRange(u.Sizes.Select(v => (long)v));
        for (int i = d + 1; i < r; i++) shape.Add(x.Sample.Size(i));
        return c.Node("Reshape", [x.Name, c.Int64s([.. shape])]);
    }
}
