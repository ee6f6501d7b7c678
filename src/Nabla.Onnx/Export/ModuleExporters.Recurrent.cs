using Nabla.NN;

namespace Nabla.Onnx.Export;

// RNN/LSTM/GRU: one ONNX node per layer, both directions in it. ONNX stacks the gate blocks in another order than
// PyTorch (LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h, with linear_before_reset=1 as PyTorch computes n) and wants
// W (D, G·H, I), R (D, G·H, H), B (D, 2·G·H) = concat(b_ih, b_hh); Y comes out (T, D, B, H) and is brought back to
// (T, B, D·H) by Transpose + Reshape. batch_first is a Transpose on each side.
internal static partial class ModuleExporters
{
    // ONNX block k holds PyTorch block Order[k]
    private static int[] GateOrder(RecurrentMode mode) => mode switch
    {
        RecurrentMode.Lstm => [0, 3, 1, 2],
        RecurrentMode.Gru => [1, 0, 2],
        _ => [0],
    };

    private static Tensor Reorder(Tensor w, int[] order, int hidden) =>
        Tensor.Cat(order.Select(b => w.Narrow(0, b * hidden, hidden)).ToList(), 0);

    private static string Recurrent(OnnxExportContext c, RNNBase m, OnnxValue x)
    {
        string op = m.GetType().Name;
        if (x.Sample.Rank != 3)
            throw new NotSupportedException($"Onnx.Export: {op} at {c.Path} exports for batched input (3-D, {(m.BatchFirst ? "(B, T, I)" : "(T, B, I)")}), got shape ({string.Join(", ", x.Sample.Shape.ToArray())}).");
        if (m.ProjSize > 0)
            throw new NotSupportedException($"Onnx.Export: {op} at {c.Path} has proj_size={m.ProjSize}; ONNX's LSTM has no projection.");
        int dirs = m.Bidirectional ? 2 : 1, h = m.HiddenSize;
        int[] order = GateOrder(m.Mode);
        string onnxOp = m.Mode switch { RecurrentMode.Lstm => "LSTM", RecurrentMode.Gru => "GRU", _ => "RNN" };
        var w = m.FlatWeights;
        string v = m.BatchFirst ? c.Node("Transpose", [x.Name], ("perm", new long[] { 1, 0, 2 })) : x.Name;
        for (int l = 0; l < m.NumLayers; l++)
        {
            string sfx = $"_l{l}";
            var ws = new List<Tensor>();
            var rs = new List<Tensor>();
            var bs = new List<Tensor>();
            for (int d = 0; d < dirs; d++)
            {
                int k = 4 * (l * dirs + d);
                ws.Add(Reorder(w[k]!, order, h).Unsqueeze(0));
                rs.Add(Reorder(w[k + 1]!, order, h).Unsqueeze(0));
                if (m.Bias) bs.Add(Tensor.Cat([Reorder(w[k + 2]!, order, h), Reorder(w[k + 3]!, order, h)], 0).Unsqueeze(0));
            }
            var inputs = new List<string>
            {
                v,
                c.Initializer(Tensor.Cat(ws, 0), Key(c, "W" + sfx)),
                c.Initializer(Tensor.Cat(rs, 0), Key(c, "R" + sfx)),
            };
            if (m.Bias) inputs.Add(c.Initializer(Tensor.Cat(bs, 0), Key(c, "B" + sfx)));
            var attrs = new List<(string, object)> { ("hidden_size", (long)h), ("direction", m.Bidirectional ? "bidirectional" : "forward") };
            if (m.Mode == RecurrentMode.Gru) attrs.Add(("linear_before_reset", 1L));
            if (m.Mode is RecurrentMode.RnnTanh or RecurrentMode.RnnRelu)
                attrs.Add(("activations", Enumerable.Repeat(m.Mode == RecurrentMode.RnnRelu ? "Relu" : "Tanh", dirs).ToArray()));
            string y = c.Node(onnxOp, inputs, [.. attrs]);                                          // (T, D, B, H)
            string t = c.Node("Transpose", [y], ("perm", new long[] { 0, 2, 1, 3 }));                // (T, B, D, H)
            v = c.Node("Reshape", [t, c.Int64s(0, 0, -1)]);                                          // (T, B, D·H)
        }
        return m.BatchFirst ? c.Node("Transpose", [v], ("perm", new long[] { 1, 0, 2 })) : v;
    }
}
