using Nabla.NN;

namespace Nabla.Onnx.Export;

// Activations and other pointwise modules: one ONNX op where ONNX has it at the opset written, else its formula.
internal static partial class ModuleExporters
{
    private static string? Activation(OnnxExportContext c, Module m, OnnxValue x)
    {
        string v = x.Name;
        return m switch
        {
            ReLU => c.Node("Relu", [v]),
            LeakyReLU l => c.Node("LeakyRelu", [v], ("alpha", l.NegativeSlope)),
            Sigmoid => c.Node("Sigmoid", [v]),
            Tanh => c.Node("Tanh", [v]),
            GELU g => Gelu(c, v, g.Approximate),
            SiLU => c.Node("Mul", [v, c.Node("Sigmoid", [v])]),
            Softmax s => c.Node("Softmax", [v], ("axis", (long)s.Dim)),
            LogSoftmax s => c.Node("LogSoftmax", [v], ("axis", (long)s.Dim)),
            ELU e => c.Node("Elu", [v], ("alpha", e.Alpha)),
            SELU => c.Node("Selu", [v]),   // ONNX's default alpha and gamma are PyTorch's constants
            CELU e => c.Node("Celu", [v], ("alpha", e.Alpha)),
            Softplus s => Softplus(c, v, s.Beta, s.Threshold),
            Mish => c.Opset >= 18 ? c.Node("Mish", [v]) : c.Node("Mul", [v, c.Node("Tanh", [c.Node("Softplus", [v])])]),
            Hardtanh h => c.Node("Clip", [v, c.Scalar(h.MinVal, "min"), c.Scalar(h.MaxVal, "max")]),
            Hardswish => c.Opset >= 14 ? c.Node("HardSwish", [v]) : c.Node("Mul", [v, c.Node("HardSigmoid", [v], ("alpha", 1.0 / 6), ("beta", 0.5))]),
            Hardsigmoid => c.Node("HardSigmoid", [v], ("alpha", 1.0 / 6), ("beta", 0.5)),
            Softsign => c.Node("Softsign", [v]),
            PReLU p => PRelu(c, p, x),
            GLU g => Glu(c, g, x),
            _ => null,
        };
    }

    // none: x·Φ(x) = ½x(1 + erf(x/√2)); tanh: ½x(1 + tanh(√(2/π)(x + 0.044715x³))); Gelu itself from opset 20
    private static string Gelu(OnnxExportContext c, string v, string approximate)
    {
        if (c.Opset >= 20) return c.Node("Gelu", [v], ("approximate", approximate));
        string inner = approximate == "tanh"
            ? c.Node("Tanh", [c.Node("Mul", [c.Scalar(Math.Sqrt(2 / Math.PI), "k"),
                c.Node("Add", [v, c.Node("Mul", [c.Scalar(0.044715, "c"), c.Node("Mul", [v, c.Node("Mul", [v, v])])])])])])
            : c.Node("Erf", [c.Node("Div", [v, c.Scalar(Math.Sqrt(2), "sqrt2")])]);
        return c.Node("Mul", [c.Node("Mul", [v, c.Scalar(0.5, "half")]), c.Node("Add", [inner, c.Scalar(1, "one")])]);
    }

    // PyTorch: log(1 + exp(βx))/β, and x itself where βx > threshold
    private static string Softplus(OnnxExportContext c, string v, double beta, double threshold)
    {
        string bx = beta == 1 ? v : c.Node("Mul", [v, c.Scalar(beta, "beta")]);
        string sp = c.Node("Softplus", [bx]);
        if (beta != 1) sp = c.Node("Div", [sp, c.Scalar(beta, "beta")]);
        return c.Node("Where", [c.Node("Greater", [bx, c.Scalar(threshold, "threshold")]), v, sp]);
    }

    private static string PRelu(OnnxExportContext c, PReLU p, OnnxValue x)
    {
        // the slope broadcasts over dim 1 (channels): (C, 1, …, 1) for rank ≥ 3, (C) for (N, C)
        int r = x.Sample.Rank;
        Tensor slope = p.NumParameters == 1 || r < 3 ? p.Weight : p.Weight.Reshape([p.NumParameters, .. Enumerable.Repeat(1, r - 2)]);
        return c.Node("PRelu", [x.Name, c.Initializer(slope, Key(c, "weight"))]);
    }

    private static string Glu(OnnxExportContext c, GLU g, OnnxValue x)
    {
        int r = x.Sample.Rank, d = g.Dim < 0 ? g.Dim + r : g.Dim, half = x.Sample.Size(d) / 2;
        var parts = c.Node("Split", [x.Name, c.Int64s(half, half)], 2, ("axis", (long)d));
        return c.Node("Mul", [parts[0], c.Node("Sigmoid", [parts[1]])]);
    }
}
