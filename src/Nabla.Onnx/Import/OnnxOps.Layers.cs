namespace Nabla.Onnx.Import;

// Linear algebra, convolution, pooling, normalisation and recurrent operators.
internal static partial class OnnxOps
{
    // Y = α·A'·B' + β·C, with A' = Aᵀ when transA, B' = Bᵀ when transB
    private static Tensor Gemm(OnnxNode n)
    {
        var a = n.X(0);
        var b = n.X(1);
        if (n.Int("transA", 0) != 0) a = a.Transpose(0, 1);
        double alpha = n.Float("alpha", 1), beta = n.Float("beta", 1);
        Tensor y = n.Int("transB", 0) != 0 && alpha == 1 && n.Optional(2) is { } c1 && beta == 1 && c1.T.Rank == 1
            ? Tensor.Linear(a, b, c1.T.To(DType.Float32))   // the fused x·Wᵀ + b
            : Tensor.MatMul(a, n.Int("transB", 0) != 0 ? b.Transpose(0, 1) : b) * alpha + (n.Optional(2) is { } c ? c.T.To(DType.Float32) * beta : Tensor.Scalar(0));
        return y;
    }

    private static void RefuseAutoPad(OnnxNode n) =>
        n.Refuse(n.Str("auto_pad", "NOTSET") is not ("NOTSET" or "VALID" or ""), $"auto_pad={n.Str("auto_pad", "")} (write explicit pads)");

    // pads [x1_begin, x2_begin, …, x1_end, x2_end, …]
    private static (int[] Begin, int[] End) Pads(OnnxNode n, int spatial)
    {
        long[] p = n.Str("auto_pad", "NOTSET") == "VALID" ? new long[2 * spatial] : n.Ints("pads") ?? new long[2 * spatial];
        if (p.Length != 2 * spatial) throw new ArgumentException($"pads has {p.Length} values for {spatial} spatial dims.");
        return (p[..spatial].Select(v => (int)v).ToArray(), p[spatial..].Select(v => (int)v).ToArray());
    }

    private static int[] IntsOr(OnnxNode n, string name, int count, int fallback) =>
        n.Ints(name)?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(fallback, count).ToArray();

    // constant padding of dims first.. (ONNX's begin and end pads for each)
    private static Tensor PadConstant(Tensor x, int[] begin, int[] end, int first = 2, double value = 0)
    {
        for (int i = 0; i < begin.Length; i++)
        {
            int dim = first + i;
            if (begin[i] < 0 || end[i] < 0) throw new NotSupportedException("negative pads (cropping) are not supported.");
            var parts = new List<Tensor>();
            if (begin[i] > 0) { var s = x.Shape.ToArray(); s[dim] = begin[i]; parts.Add(Tensor.Full(s, value, x.DType)); }
            parts.Add(x);
            if (end[i] > 0) { var s = x.Shape.ToArray(); s[dim] = end[i]; parts.Add(Tensor.Full(s, value, x.DType)); }
            if (parts.Count > 1) x = Tensor.Cat(parts, dim);
        }
        return x;
    }

    private static Tensor PadZeros(Tensor x, int[] begin, int[] end) => PadConstant(x, begin, end);

    // Pad (opset 11+): pads [x1_begin, …, x1_end, …] over every axis (or the axes input), constant mode
    private static OnnxValueData Pad(OnnxNode n)
    {
        n.Refuse(n.Str("mode", "constant") != "constant", "mode=" + n.Str("mode", ""));
        var x = n.In(0);
        long[] pads = n.In(1).Longs();
        double value = n.Optional(2)?.T.Item() ?? 0;
        int r = x.T.Rank;
        long[] axes = n.Optional(3)?.Longs().Select(a => a < 0 ? a + r : a).ToArray() ?? Enumerable.Range(0, r).Select(a => (long)a).ToArray();
        int k = axes.Length;
        if (pads.Length != 2 * k) throw new ArgumentException($"pads has {pads.Length} values for {k} axes.");
        int[] begin = new int[r], end = new int[r];
        for (int i = 0; i < k; i++) { begin[axes[i]] = (int)pads[i]; end[axes[i]] = (int)pads[k + i]; }
        return x with { T = PadConstant(x.T, begin, end, 0, value) };
    }

    private static Tensor Conv(OnnxNode n)
    {
        RefuseAutoPad(n);
        var x = n.X(0);
        var w = n.X(1);
        var b = n.Optional(2)?.T;
        int spatial = x.Rank - 2;
        n.Refuse(spatial is not (1 or 2), $"{spatial} spatial dims (1-D and 2-D convolutions are supported)");
        var (pb, pe) = Pads(n, spatial);
        int[] stride = IntsOr(n, "strides", spatial, 1), dil = IntsOr(n, "dilations", spatial, 1);
        int groups = (int)n.Int("group", 1);
        if (!pb.SequenceEqual(pe))
        {
            x = PadZeros(x, pb.Zip(pe, (a, c) => a - Math.Min(a, c)).ToArray(), pb.Zip(pe, (a, c) => c - Math.Min(a, c)).ToArray());
            pb = pb.Zip(pe, Math.Min).ToArray();
        }
        return spatial == 1
            ? Tensor.Conv1d(x, w, b, stride[0], pb[0], dil[0], groups)
            : Tensor.Conv2d(x, w, b, (stride[0], stride[1]), (pb[0], pb[1]), (dil[0], dil[1]), groups);
    }

    private static Tensor ConvTranspose(OnnxNode n)
    {
        RefuseAutoPad(n);
        var x = n.X(0);
        n.Refuse(x.Rank != 4, "input of rank " + x.Rank + " (2-D transposed convolutions are supported)");
        n.Refuse(n.Has("output_shape"), "output_shape (write pads and output_padding)");
        var (pb, pe) = Pads(n, 2);
        n.Refuse(!pb.SequenceEqual(pe), "asymmetric pads");
        int[] stride = IntsOr(n, "strides", 2, 1), dil = IntsOr(n, "dilations", 2, 1), op = IntsOr(n, "output_padding", 2, 0);
        return Tensor.ConvTranspose2d(x, n.X(1), n.Optional(2)?.T, (stride[0], stride[1]), (pb[0], pb[1]), (op[0], op[1]), (int)n.Int("group", 1), (dil[0], dil[1]));
    }

    private static Tensor Pool(OnnxNode n, bool max)
    {
        RefuseAutoPad(n);
        var x = n.X(0);
        int spatial = x.Rank - 2;
        n.Refuse(spatial is not (1 or 2), $"{spatial} spatial dims (1-D and 2-D pooling are supported)");
        int[] k = IntsOr(n, "kernel_shape", spatial, 1), s = IntsOr(n, "strides", spatial, 1), d = IntsOr(n, "dilations", spatial, 1);
        var (pb, pe) = Pads(n, spatial);
        n.Refuse(!pb.SequenceEqual(pe), "asymmetric pads");
        bool ceil = n.Int("ceil_mode", 0) != 0;
        if (max)
        {
            return spatial == 1
                ? x.MaxPool1d(k[0], s[0], pb[0], d[0], ceil)
                : x.MaxPool2d((k[0], k[1]), (s[0], s[1]), (pb[0], pb[1]), (d[0], d[1]), ceil);
        }
        n.Refuse(d.Any(v => v != 1), "dilations");
        bool countPad = n.Int("count_include_pad", 0) != 0;
        return spatial == 1
            ? x.Unsqueeze(2).AvgPool2d((1, k[0]), (1, s[0]), (0, pb[0]), ceil, countPad).Squeeze(2)
            : x.AvgPool2d((k[0], k[1]), (s[0], s[1]), (pb[0], pb[1]), ceil, countPad);
    }

    private static Tensor GlobalMax(Tensor x)
    {
        var y = x;
        for (int d = x.Rank - 1; d >= 2; d--) y = y.Max(d, keepDim: true).Values;
        return y;
    }

    private static Tensor BatchNorm(OnnxNode n)
    {
        n.Refuse(n.Int("training_mode", 0) != 0, "training_mode=1");
        return Tensor.BatchNorm(n.X(0), n.X(3), n.X(4), n.X(1), n.X(2), training: false, eps: n.Float("epsilon", 1e-5f));
    }

    private static int[] TrailingShape(Tensor x, long axis)
    {
        int a = (int)(axis < 0 ? axis + x.Rank : axis);
        return x.Shape[a..].ToArray();
    }

    private static Tensor LayerNorm(OnnxNode n)
    {
        var x = n.X(0);
        int[] ns = TrailingShape(x, n.Int("axis", -1));
        var scale = n.X(1);
        var bias = n.Optional(2)?.T;
        double eps = n.Float("epsilon", 1e-5f);
        if (scale.Shape.SequenceEqual(ns) && (bias is null || bias.Shape.SequenceEqual(ns))) return Tensor.LayerNorm(x, ns, scale, bias, eps);
        var y = Tensor.LayerNorm(x, ns, null, null, eps) * scale;   // a scale or bias that broadcasts
        return bias is null ? y : y + bias;
    }

    private static Tensor RmsNorm(OnnxNode n)
    {
        var x = n.X(0);
        int[] ns = TrailingShape(x, n.Int("axis", -1));
        var scale = n.X(1);
        double eps = n.Float("epsilon", 1e-5f);
        return scale.Shape.SequenceEqual(ns) ? Tensor.RmsNorm(x, ns, scale, eps) : Tensor.RmsNorm(x, ns, null, eps) * scale;
    }

    private static OnnxValueData Reduce(OnnxNode n, bool mean)
    {
        var x = n.In(0);
        long[]? axes = n.Optional(1)?.Longs() ?? n.Ints("axes");
        bool keep = n.Int("keepdims", 1) != 0;
        if (axes is null || axes.Length == 0)
        {
            if (n.Int("noop_with_empty_axes", 0) != 0) return x;
            axes = Enumerable.Range(0, x.T.Rank).Select(a => (long)a).ToArray();
        }
        int[] dims = axes.Select(a => (int)(a < 0 ? a + x.T.Rank : a)).ToArray();
        var y = mean ? x.T.Mean(dims, keep) : x.T.Sum(dims, keep);
        return x with { T = y };
    }

    // ONNX gate blocks back to PyTorch's: PyTorch block j is ONNX block Inverse[j] (LSTM i,o,f,c → i,f,g,o; GRU z,r,h → r,z,n)
    private static int[] OnnxBlockOf(RecurrentMode mode) => mode switch
    {
        RecurrentMode.Lstm => [0, 2, 3, 1],
        RecurrentMode.Gru => [1, 0, 2],
        _ => [0],
    };

    private static Tensor Blocks(Tensor w, int[] onnxBlockOf, int hidden) =>
        Tensor.Cat(onnxBlockOf.Select(k => w.Narrow(0, k * hidden, hidden)).ToList(), 0);

    private static OnnxValueData[] Recurrent(OnnxNode n, RecurrentMode mode)
    {
        n.Refuse(n.Int("layout", 0) != 0, "layout=1 (batch-first)");
        n.Refuse(n.Has("clip"), "clip");
        n.Refuse(n.Int("input_forget", 0) != 0, "input_forget=1");
        n.Refuse(mode == RecurrentMode.Lstm && n.Optional(7) is not null, "peepholes (input P)");
        n.Refuse(mode == RecurrentMode.Gru && n.Int("linear_before_reset", 0) != 1, "linear_before_reset=0 (Nabla computes PyTorch's GRU, linear_before_reset=1)");
        string direction = n.Str("direction", "forward");
        n.Refuse(direction is not ("forward" or "bidirectional" or "reverse"), "direction " + direction);
        int dirs = direction == "bidirectional" ? 2 : 1;
        var acts = n.Strings("activations");
        if (mode == RecurrentMode.RnnTanh && acts is { Length: > 0 })
        {
            n.Refuse(acts.Distinct().Count() != 1 || acts[0] is not ("Tanh" or "Relu"), "activations " + string.Join(",", acts));
            if (acts[0] == "Relu") mode = RecurrentMode.RnnRelu;
        }
        else if (acts is { Length: > 0 })
        {
            string[] standard = mode == RecurrentMode.Lstm ? ["Sigmoid", "Tanh", "Tanh"] : ["Sigmoid", "Tanh"];
            n.Refuse(!acts.SequenceEqual(Enumerable.Range(0, dirs).SelectMany(_ => standard)), "activations " + string.Join(",", acts));
        }
        var x = n.X(0);
        var w = n.X(1);
        var r = n.X(2);
        var b = n.Optional(3)?.T;
        int gates = Tensor.GateCount(mode), hidden = r.Size(2), gh = gates * hidden, steps = x.Size(0), batch = x.Size(1);
        int[]? lengths = n.Optional(4)?.Ints();
        if (lengths is not null && lengths.All(l => l == steps)) lengths = null;
        var h0 = n.Optional(5)?.T;
        var c0 = n.Optional(6)?.T;
        int[] order = OnnxBlockOf(mode);
        var ys = new List<Tensor>();
        var hs = new List<Tensor>();
        var cs = new List<Tensor>();
        for (int d = 0; d < dirs; d++)
        {
            var bd = b?.Select(0, d);
            var (y, h, c) = Tensor.RecurrentLayer(mode, x, Blocks(w.Select(0, d), order, hidden), Blocks(r.Select(0, d), order, hidden),
                bd is null ? null : Blocks(bd.Narrow(0, 0, gh), order, hidden), bd is null ? null : Blocks(bd.Narrow(0, gh, gh), order, hidden),
                h0?.Select(0, d) ?? Tensor.Zeros([batch, hidden]), mode == RecurrentMode.Lstm ? c0?.Select(0, d) ?? Tensor.Zeros([batch, hidden]) : null,
                lengths, reverse: direction == "reverse" || d == 1);
            ys.Add(y);
            hs.Add(h);
            if (c is not null) cs.Add(c);
        }
        var outs = new List<OnnxValueData> { F(Tensor.Stack(ys, 1)), F(Tensor.Stack(hs, 0)) };   // Y (T, D, B, H), Y_h (D, B, H)
        if (mode == RecurrentMode.Lstm) outs.Add(F(Tensor.Stack(cs, 0)));
        return [.. outs];
    }
}
