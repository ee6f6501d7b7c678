namespace Nabla.Onnx.Import;

// The ONNX operators Nabla runs, each as Nabla ops. Inference only; float32 data and int64 shapes/indices.
internal static partial class OnnxOps
{
    private static readonly Dictionary<string, Func<OnnxNode, OnnxValueData[]>> s_ops = new()
    {
        // elementwise
        ["Identity"] = n => [n.In(0)],
        ["Dropout"] = n => [n.In(0)],
        ["Add"] = n => [Binary(n, Tensor.Add)],
        ["Sub"] = n => [Binary(n, Tensor.Sub)],
        ["Mul"] = n => [Binary(n, Tensor.Mul)],
        ["Div"] = n => [Div(n)],
        ["Pow"] = n => [OnnxValueData.Float(Tensor.Pow(n.X(0), n.X(1).To(DType.Float32)))],
        ["Sqrt"] = n => [F(n.X().Sqrt())],
        ["Reciprocal"] = n => [F(1.0 / n.X())],
        ["Neg"] = n => [n.In(0) with { T = n.X().Neg() }],
        ["Abs"] = n => [n.In(0) with { T = n.X().Abs() }],
        ["Exp"] = n => [F(n.X().Exp())],
        ["Log"] = n => [F(n.X().Log())],
        ["Erf"] = n => [F(n.X().Erf())],
        ["Relu"] = n => [F(n.X().Relu())],
        ["LeakyRelu"] = n => [F(n.X().LeakyRelu(n.Float("alpha", 0.01f)))],
        ["Sigmoid"] = n => [F(n.X().Sigmoid())],
        ["Tanh"] = n => [F(n.X().Tanh())],
        ["Elu"] = n => [F(n.X().Elu(n.Float("alpha", 1f)))],
        ["Selu"] = n => [F(Selu(n))],
        ["Celu"] = n => [F(n.X().Celu(n.Float("alpha", 1f)))],
        ["Softplus"] = n => [F(n.X().Softplus(1, double.PositiveInfinity))],
        ["Softsign"] = n => [F(n.X().Softsign())],
        ["HardSigmoid"] = n => [F((n.X() * n.Float("alpha", 0.2f) + n.Float("beta", 0.5f)).Clamp(0, 1))],
        ["HardSwish"] = n => [F(n.X().Hardswish())],
        ["Mish"] = n => [F(n.X().Mish())],
        ["Gelu"] = n => [F(n.X().Gelu(n.Str("approximate", "none")))],
        ["PRelu"] = n => [F(PRelu(n.X(0), n.X(1)))],
        ["Clip"] = n => [F(Clip(n))],
        ["Softmax"] = n => [F(n.X().Softmax(Axis(n, -1)))],
        ["LogSoftmax"] = n => [F(n.X().LogSoftmax(Axis(n, -1)))],
        ["Greater"] = n => [OnnxValueData.Int(Tensor.Gt(n.X(0).To(DType.Float64), n.X(1).To(DType.Float64)))],
        ["Less"] = n => [OnnxValueData.Int(Tensor.Lt(n.X(0).To(DType.Float64), n.X(1).To(DType.Float64)))],
        ["Equal"] = n => [OnnxValueData.Int(Tensor.Eq(n.X(0).To(DType.Float64), n.X(1).To(DType.Float64)))],
        ["Where"] = n => [Where(n)],
        ["Cast"] = n => [Cast(n)],
        // linear algebra, convolution, pooling
        ["MatMul"] = n => [F(Tensor.MatMul(n.X(0), n.X(1)))],
        ["Gemm"] = n => [F(Gemm(n))],
        ["Conv"] = n => [F(Conv(n))],
        ["Pad"] = n => [Pad(n)],
        ["ConvTranspose"] = n => [F(ConvTranspose(n))],
        ["MaxPool"] = n => [F(Pool(n, max: true))],
        ["AveragePool"] = n => [F(Pool(n, max: false))],
        ["GlobalAveragePool"] = n => [F(n.X().Mean(Enumerable.Range(2, n.X().Rank - 2).ToArray(), keepDim: true))],
        ["GlobalMaxPool"] = n => [F(GlobalMax(n.X()))],
        // normalisation
        ["BatchNormalization"] = n => [F(BatchNorm(n))],
        ["InstanceNormalization"] = n => [F(Tensor.InstanceNorm(n.X(0), null, null, n.X(1), n.X(2), eps: n.Float("epsilon", 1e-5f)))],
        ["LayerNormalization"] = n => [F(LayerNorm(n))],
        ["RMSNormalization"] = n => [F(RmsNorm(n))],
        ["ReduceMean"] = n => [Reduce(n, mean: true)],
        ["ReduceSum"] = n => [Reduce(n, mean: false)],
        // recurrent
        ["LSTM"] = n => Recurrent(n, RecurrentMode.Lstm),
        ["GRU"] = n => Recurrent(n, RecurrentMode.Gru),
        ["RNN"] = n => Recurrent(n, RecurrentMode.RnnTanh),
        // shapes and indexing
        ["Gather"] = n => [Gather(n)],
        ["Flatten"] = n => [Flatten(n)],
        ["Reshape"] = n => [n.In(0) with { T = n.X().Reshape(ReshapeTarget(n.X(0), n.In(1).Longs(), n.Int("allowzero", 0) != 0)) }],
        ["Transpose"] = n => [n.In(0) with { T = n.X().Permute(n.Ints("perm") is { } p ? p.Select(v => (int)v).ToArray() : Enumerable.Range(0, n.X().Rank).Reverse().ToArray()).Contiguous() }],
        ["Squeeze"] = n => [n.In(0) with { T = Squeeze(n) }],
        ["Unsqueeze"] = n => [n.In(0) with { T = Unsqueeze(n) }],
        ["Concat"] = n => [Concat(n)],
        ["Split"] = Split,
        ["Slice"] = n => [n.In(0) with { T = Slice(n) }],
        ["Shape"] = n => [Shape(n)],
        ["Constant"] = n => [Constant(n)],
        ["ConstantOfShape"] = n => [ConstantOfShape(n)],
        ["Expand"] = n => [n.In(0) with { T = Expand(n.X(0), n.In(1).Ints()).Contiguous() }],
    };

    public static bool Supports(string opType) => s_ops.ContainsKey(opType);

    public static IEnumerable<string> Names => s_ops.Keys.Order(StringComparer.Ordinal);

    public static OnnxValueData[] Run(OnnxNode node) => s_ops[node.OpType](node);

    private static OnnxValueData F(Tensor t) => OnnxValueData.Float(t);

    private static int Axis(OnnxNode n, long fallback) => (int)n.Int("axis", fallback);

    // ints with ints stay ints (shape arithmetic); otherwise float32
    private static OnnxValueData Binary(OnnxNode n, Func<Tensor, Tensor, Tensor> op)
    {
        var a = n.In(0);
        var b = n.In(1);
        return a.IsInt && b.IsInt ? OnnxValueData.Int(op(a.T, b.T)) : F(op(a.T.To(DType.Float32), b.T.To(DType.Float32)));
    }

    private static OnnxValueData Div(OnnxNode n)
    {
        var a = n.In(0);
        var b = n.In(1);
        if (!(a.IsInt && b.IsInt)) return F(Tensor.Div(a.T.To(DType.Float32), b.T.To(DType.Float32)));
        var q = Tensor.Div(a.T, b.T);   // integer division truncates toward zero
        return OnnxValueData.Int(OnnxValueData.Make(q.ToDoubleArray().Select(Math.Truncate).ToArray(), q.Shape.ToArray()));
    }

    private static Tensor Selu(OnnxNode n)
    {
        float alpha = n.Float("alpha", 1.67326319217681884765625f), gamma = n.Float("gamma", 1.05070102214813232421875f);
        var x = n.X();
        n.Refuse(Math.Abs(alpha - 1.67326319217681884765625f) > 1e-6 || Math.Abs(gamma - 1.05070102214813232421875f) > 1e-6, $"alpha {alpha} and gamma {gamma} other than the standard SELU constants");
        return x.Selu();
    }

    // PRelu broadcasts the slope numpy-style
    private static Tensor PRelu(Tensor x, Tensor slope) => x.Relu() - (x.Neg().Relu() * slope);

    private static Tensor Clip(OnnxNode n)
    {
        double min = n.Optional(1) is { } lo ? lo.T.Item() : n.Has("min") ? n.Float("min", 0) : double.NegativeInfinity;
        double max = n.Optional(2) is { } hi ? hi.T.Item() : n.Has("max") ? n.Float("max", 0) : double.PositiveInfinity;
        return n.X().Clamp(min, max);
    }

    private static OnnxValueData Where(OnnxNode n)
    {
        var c = n.X(0).To(DType.Float64);
        var a = n.In(1);
        var b = n.In(2);
        bool isInt = a.IsInt && b.IsInt;
        var at = a.T.To(DType.Float64);
        var bt = b.T.To(DType.Float64);
        int[] shape = BroadcastShape(BroadcastShape(c.Shape.ToArray(), at.Shape.ToArray()), bt.Shape.ToArray());
        double[] cv = c.Expand(shape).Contiguous().ToDoubleArray(), av = at.Expand(shape).Contiguous().ToDoubleArray(), bv = bt.Expand(shape).Contiguous().ToDoubleArray();
        var r = new double[cv.Length];
        for (int i = 0; i < r.Length; i++) r[i] = cv[i] != 0 ? av[i] : bv[i];
        var t = OnnxValueData.Make(r, shape);
        return isInt ? OnnxValueData.Int(t) : F(t);
    }

    private static OnnxValueData Cast(OnnxNode n)
    {
        long to = n.Int("to", 1);
        var x = n.X();
        return to switch
        {
            1 or 10 or 11 => F(x),                                                                                        // float, float16, double → float32
            6 or 7 or 2 or 3 or 4 or 5 or 12 or 13 => OnnxValueData.Int(OnnxValueData.Make(x.ToDoubleArray().Select(Math.Truncate).ToArray(), x.Shape.ToArray())),
            9 => OnnxValueData.Int(OnnxValueData.Make(x.ToDoubleArray().Select(v => v != 0 ? 1.0 : 0.0).ToArray(), x.Shape.ToArray())),
            _ => throw new NotSupportedException($"Cast to ONNX type {to} is not supported."),
        };
    }

    internal static int[] BroadcastShape(int[] a, int[] b)
    {
        int r = Math.Max(a.Length, b.Length);
        var s = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1, db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1) throw new ArgumentException($"shapes ({string.Join(", ", a)}) and ({string.Join(", ", b)}) do not broadcast.");
            s[i] = da == 1 ? db : da;
        }
        return s;
    }

    private static Tensor Expand(Tensor x, int[] shape) => x.Expand(BroadcastShape(x.Shape.ToArray(), shape));
}
