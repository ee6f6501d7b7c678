using Nabla.NN;

namespace Nabla.Onnx.Export;

// Normalisation layers. ONNX's BatchNormalization momentum is PyTorch's 1 − momentum (the weight of the old running
// value); it only matters for training, but is written as ONNX defines it.
internal static partial class ModuleExporters
{
    private static string Ones(OnnxExportContext c, int n, string key) => c.Initializer(Tensor.Ones(n), Key(c, key));

    private static string Zeros(OnnxExportContext c, int n, string key) => c.Initializer(Tensor.Zeros(n), Key(c, key));

    private static string BatchNorm(OnnxExportContext c, BatchNormBase bn, OnnxValue x)
    {
        if (bn.RunningMean is null || bn.RunningVar is null)
            throw new NotSupportedException($"Onnx.Export: {bn.GetType().Name} at {c.Path} has track_running_stats=false, so it normalises by each batch's statistics even in eval mode; ONNX's BatchNormalization needs running statistics.");
        return BatchNormNode(c, x, bn.NumFeatures, bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar, bn.Eps, bn.Momentum);
    }

    private static string BatchNormNode(OnnxExportContext c, OnnxValue x, int features, Parameter? weight, Parameter? bias, Tensor mean, Tensor var, double eps, double? momentum)
    {
        string scale = weight is null ? Ones(c, features, "weight") : c.Initializer(weight, Key(c, "weight"));
        string b = bias is null ? Zeros(c, features, "bias") : c.Initializer(bias, Key(c, "bias"));
        return c.Node("BatchNormalization", [x.Name, scale, b, c.Initializer(mean, Key(c, "running_mean")), c.Initializer(var, Key(c, "running_var"))],
            ("epsilon", eps), ("momentum", 1 - (momentum ?? 0.1)));
    }

    private static string InstanceNorm(OnnxExportContext c, InstanceNormBase m, OnnxValue x)
    {
        int rank = m is InstanceNorm1d ? 3 : 4;
        if (x.Sample.Rank != rank)
            throw new NotSupportedException($"Onnx.Export: {m.GetType().Name} at {c.Path} exports for batched input of rank {rank}, got shape ({string.Join(", ", x.Sample.Shape.ToArray())}).");
        if (m.TrackRunningStats && m.RunningMean is not null && m.RunningVar is not null)
            return BatchNormNode(c, x, m.NumFeatures, m.Weight, m.Bias, m.RunningMean, m.RunningVar, m.Eps, m.Momentum);   // eval with running stats
        string scale = m.Weight is null ? Ones(c, m.NumFeatures, "weight") : c.Initializer(m.Weight, Key(c, "weight"));
        string b = m.Bias is null ? Zeros(c, m.NumFeatures, "bias") : c.Initializer(m.Bias, Key(c, "bias"));
        return c.Node("InstanceNormalization", [x.Name, scale, b], ("epsilon", m.Eps));
    }

    private static long[] LastAxes(int rank, int count) => Enumerable.Range(rank - count, count).Select(a => (long)a).ToArray();

    private static string LayerNorm(OnnxExportContext c, LayerNorm ln, OnnxValue x)
    {
        int k = ln.NormalizedShape.Count, r = x.Sample.Rank;
        int[] shape = [.. ln.NormalizedShape];
        if (c.Opset >= 17)
        {
            string scale = ln.Weight is null ? c.Initializer(Tensor.Ones(shape), Key(c, "weight")) : c.Initializer(ln.Weight, Key(c, "weight"));
            var inputs = new List<string> { x.Name, scale };
            if (ln.Bias is not null) inputs.Add(c.Initializer(ln.Bias, Key(c, "bias")));
            return c.Node("LayerNormalization", inputs, ("axis", (long)-k), ("epsilon", ln.Eps));
        }
        // before opset 17: (x − μ) / √(σ² + ε) · w + b, the mean and biased variance over the last k axes
        long[] axes = LastAxes(r, k);
        string d = c.Node("Sub", [x.Name, c.ReduceMean(x.Name, axes)]);
        string var = c.ReduceMean(c.Node("Mul", [d, d]), axes);
        string y = c.Node("Div", [d, c.Node("Sqrt", [c.Node("Add", [var, c.Scalar(ln.Eps, "eps")])])]);
        if (ln.Weight is not null) y = c.Node("Mul", [y, c.Initializer(ln.Weight, Key(c, "weight"))]);
        if (ln.Bias is not null) y = c.Node("Add", [y, c.Initializer(ln.Bias, Key(c, "bias"))]);
        return y;
    }

    // GroupNormalization-18 normalises per group but scales per group, and was deprecated in opset 21 for that; this
    // is PyTorch's own form: Reshape (N, G, −1) → InstanceNormalization (no affine) → Reshape back → ·w + b per channel.
    private static string GroupNorm(OnnxExportContext c, GroupNorm gn, OnnxValue x)
    {
        int r = x.Sample.Rank;
        string grouped = c.Node("Reshape", [x.Name, c.Int64s(0, gn.NumGroups, -1)]);
        string normed = c.Node("InstanceNormalization", [grouped, Ones(c, gn.NumGroups, "group_scale"), Zeros(c, gn.NumGroups, "group_bias")], ("epsilon", gn.Eps));
        string y = c.Node("Reshape", [normed, c.Node("Shape", [x.Name])]);
        int[] perChannel = [gn.NumChannels, .. Enumerable.Repeat(1, r - 2)];
        if (gn.Weight is not null) y = c.Node("Mul", [y, c.Initializer(gn.Weight.Reshape(perChannel), Key(c, "weight"))]);
        if (gn.Bias is not null) y = c.Node("Add", [y, c.Initializer(gn.Bias.Reshape(perChannel), Key(c, "bias"))]);
        return y;
    }

    private static string RmsNorm(OnnxExportContext c, RMSNorm m, OnnxValue x)
    {
        int k = m.NormalizedShape.Count, r = x.Sample.Rank;
        int[] shape = [.. m.NormalizedShape];
        double eps = m.Eps ?? 1.1920928955078125e-07;   // torch.finfo(float32).eps
        if (c.Opset >= 23)
        {
            string scale = m.Weight is null ? c.Initializer(Tensor.Ones(shape), Key(c, "weight")) : c.Initializer(m.Weight, Key(c, "weight"));
            return c.Node("RMSNormalization", [x.Name, scale], ("axis", (long)-k), ("epsilon", eps));
        }
        // before opset 23: x / √(mean(x²) + ε) · w
        string ms = c.ReduceMean(c.Node("Mul", [x.Name, x.Name]), LastAxes(r, k));
        string y = c.Node("Div", [x.Name, c.Node("Sqrt", [c.Node("Add", [ms, c.Scalar(eps, "eps")])])]);
        return m.Weight is null ? y : c.Node("Mul", [y, c.Initializer(m.Weight, Key(c, "weight"))]);
    }
}
