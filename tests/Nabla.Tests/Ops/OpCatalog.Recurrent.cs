using Nabla.NN;

namespace Nabla.Tests.Ops;

// The op-catalog entries of the recurrent layers, embedding, clipping. Every RNN/LSTM/GRU option combination
// (1 and 2 layers, one or both directions, with and without an initial state, with and without uneven lengths)
// runs through the multi-layer function the modules call (RNNBase.Functional), the weights as gradcheck inputs;
// sizes are tiny (T = 3, B = 3, I = 2, H = 2) so the whole family checks in seconds. The cases return the outputs
// (y, h_n[, c_n]) separately, so gradcheck checks a loss of y alone, of h_n alone, of c_n alone and of all of them.
public static partial class OpCatalog
{
    private static IEnumerable<OpCase> RecurrentCases()
    {
        var list = new List<OpCase>();
        (RecurrentMode Mode, string Name)[] modes =
            [(RecurrentMode.RnnTanh, "rnn_tanh"), (RecurrentMode.RnnRelu, "rnn_relu"), (RecurrentMode.Lstm, "lstm"), (RecurrentMode.Gru, "gru")];
        foreach (var (mode, mname) in modes)
            foreach (int layers in new[] { 1, 2 })
                foreach (bool bidir in new[] { false, true })
                    foreach (bool state in new[] { false, true })
                        foreach (bool uneven in new[] { false, true })
                            list.Add(RecurrentCase($"{mname}_l{layers}{(bidir ? "_bidir" : "")}{(state ? "_h0" : "")}{(uneven ? "_lengths" : "")}",
                                mode, layers, bidir, state, uneven ? [3, 1, 2] : null));
        // the remaining options, each where it matters most
        list.Add(RecurrentCase("lstm_l2_bidir_h0_lengths_batch_first", RecurrentMode.Lstm, 2, true, true, [2, 3, 1], batchFirst: true));
        list.Add(RecurrentCase("gru_l1_batch_first_lengths", RecurrentMode.Gru, 1, false, true, [1, 3, 2], batchFirst: true));
        list.Add(RecurrentCase("rnn_tanh_l2_batch_first", RecurrentMode.RnnTanh, 2, true, false, null, batchFirst: true));
        list.Add(RecurrentCase("lstm_l2_no_bias", RecurrentMode.Lstm, 2, true, true, [3, 2, 2], bias: false));
        list.Add(RecurrentCase("gru_l2_no_bias", RecurrentMode.Gru, 2, false, true, null, bias: false));
        list.Add(RecurrentCase("rnn_relu_l1_no_bias", RecurrentMode.RnnRelu, 1, true, true, null, bias: false));
        list.Add(RecurrentCase("lstm_l2_dropout", RecurrentMode.Lstm, 2, true, true, [3, 1, 2], dropout: 0.4));
        list.Add(RecurrentCase("gru_l2_dropout", RecurrentMode.Gru, 2, false, false, null, dropout: 0.5));
        list.Add(RecurrentCase("lstm_unbatched", RecurrentMode.Lstm, 2, true, true, null, unbatched: true));
        list.Add(RecurrentCase("gru_unbatched_batch_first", RecurrentMode.Gru, 1, true, false, null, batchFirst: true, unbatched: true));
        list.Add(RecurrentCase("lstm_long_sequence", RecurrentMode.Lstm, 1, false, true, [7, 12, 4], steps: 12));

        // ---- cells: one step, the state as an input ----
        foreach (var (mode, mname) in modes)
        {
            list.Add(CellCase(mname + "_cell", mode, batched: true, bias: true));
            list.Add(CellCase(mname + "_cell_unbatched_no_bias", mode, batched: false, bias: false));
        }
        // a cell unrolled by hand: the residual of h sums over its two successors (the next step and the loss)
        list.Add(new OpCase("lstm_cell_unrolled_3_steps", g => [Randn(g, 3, 2, 2), Randn(g, 8, 2), Randn(g, 8, 2), Randn(g, 8), Randn(g, 8)], x =>
        {
            Tensor h = Tensor.Zeros([2, 2], x[0].DType), c = h;
            var outs = new List<Tensor>();
            for (int t = 0; t < 3; t++)
            {
                Tensor? cn;
                (_, h, cn) = Tensor.RecurrentLayer(RecurrentMode.Lstm, x[0].Narrow(0, t, 1), x[1], x[2], x[3], x[4], h, c);
                c = cn!;
                outs.Add(h * (t + 1.0));
            }
            return Tensor.Cat([.. outs, c], 0);
        }));

        // ---- LSTM with projections (proj_size 2 < hidden 3): the composed path; gradients for the input and both states,
        // bidirectional with uneven lengths (masked steps) ----
        list.Add(new OpCase("lstm_proj_bidirectional_lengths", g => [Randn(g, 3, 2, 4), Randn(g, 2, 2, 2), Randn(g, 2, 2, 3)], x =>
        {
            var lstm = new LSTM(4, 3, bidirectional: true, projSize: 2, dtype: x[0].DType, generator: new Generator(5));
            var r = lstm.Forward(x[0], (x[1], x[2]), [3, 2]);
            return [r.Output, r.HN, r.CN];
        }));
        list.Add(new OpCase("lstm_proj_2layers_batch_first", g => [Randn(g, 2, 3, 4)], x =>
            new LSTM(4, 3, numLayers: 2, batchFirst: true, projSize: 1, dtype: x[0].DType, generator: new Generator(6)).Forward(x[0])));

        // ---- embedding ----
        list.Add(new OpCase("embedding_repeated_indices", g => [Randn(g, 5, 3)], x => Tensor.Embedding(x[0], Index([4, 0, 4, 2, 4, 1], 2, 3))));
        // padding_idx's row gets no gradient by definition (PyTorch's rule), so these cases zero the outputs that read
        // it: then the numerical derivative of that row is 0 too, and the other rows are checked as usual
        list.Add(new OpCase("embedding_padding_idx", g => [Randn(g, 5, 3)], x =>
            Tensor.Embedding(x[0], Index([1, 0, 3, 0, 1]), paddingIdx: 0) * Index([1, 0, 1, 0, 1], 5, 1).To(x[0].DType) * Tensor.Arange(1, 4, 1, x[0].DType)));
        list.Add(new OpCase("embedding_padding_idx_negative_0d_index", g => [Randn(g, 4, 2)], x =>
            Tensor.Cat([Tensor.Embedding(x[0], Index([2]).Reshape(), paddingIdx: -1), (Tensor.Embedding(x[0], Index([3, 1]), paddingIdx: -1) * Index([0, 1], 2, 1).To(x[0].DType)).Flatten()], 0)));
        // scale_grad_by_freq divides by the count by design (not the derivative): distinct indices here, counts 1; max_norm above every row's norm
        list.Add(new OpCase("embedding_scale_grad_by_freq_distinct_max_norm_inactive", g => [Randn(g, 5, 3)], x =>
            Tensor.Embedding(x[0], Index([4, 0, 2, 1], 2, 2), maxNorm: 100, normType: 1, scaleGradByFreq: true)));
        list.Add(new OpCase("embedding_into_lstm", g => [Randn(g, 6, 2), Randn(g, 8, 2), Randn(g, 8, 2), Randn(g, 8), Randn(g, 8)], x =>
        {
            var tokens = Index([5, 1, 0, 2, 5, 0], 3, 2);
            var emb = Tensor.Embedding(x[0], tokens);
            var (y, hn, cn) = RNNBase.Functional("LSTM", RecurrentMode.Lstm, emb, [x[1], x[2], x[3], x[4]], 1, false, false, 0, true, null, null, [3, 1]);
            return Tensor.Cat([y.Flatten(), hn.Flatten(), cn!.Flatten()], 0);
        }));
        return list;
    }

    /// <summary>Inputs: x, then per layer and direction w_ih, w_hh (, b_ih, b_hh), then h0 (, c0) when <paramref name="state"/>.</summary>
    private static OpCase RecurrentCase(string name, RecurrentMode mode, int layers, bool bidir, bool state, int[]? lengths,
        bool batchFirst = false, bool bias = true, double dropout = 0, bool unbatched = false, int steps = 3)
    {
        const int batchSize = 3, inF = 2, hidden = 2;
        int dirs = bidir ? 2 : 1, gh = Tensor.GateCount(mode) * hidden, batch = unbatched ? 1 : batchSize;
        bool lstm = mode == RecurrentMode.Lstm;
        int[] xShape = unbatched ? [steps, inF] : batchFirst ? [batch, steps, inF] : [steps, batch, inF];
        int[] sShape = unbatched ? [layers * dirs, hidden] : [layers * dirs, batch, hidden];
        return new OpCase(name, g =>
        {
            var inputs = new List<Tensor> { Randn(g, xShape) };
            for (int l = 0; l < layers; l++)
                for (int d = 0; d < dirs; d++)
                {
                    inputs.Add(Randn(g, gh, l == 0 ? inF : hidden * dirs));
                    inputs.Add(Randn(g, gh, hidden));
                    if (bias) { inputs.Add(Randn(g, gh)); inputs.Add(Randn(g, gh)); }
                }
            if (state) { inputs.Add(Randn(g, sShape)); if (lstm) inputs.Add(Randn(g, sShape)); }
            return [.. inputs];
        }, x =>
        {
            int k = 1;
            var weights = new List<Tensor?>();
            for (int i = 0; i < layers * dirs; i++)
            {
                weights.Add(x[k++]);
                weights.Add(x[k++]);
                weights.Add(bias ? x[k++] : null);
                weights.Add(bias ? x[k++] : null);
            }
            Tensor? h0 = state ? x[k++] : null, c0 = state && lstm ? x[k++] : null;
            // a fresh generator per call: the same dropout mask in every forward of the check
            var (y, hn, cn) = RNNBase.Functional(mode.ToString(), mode, x[0], weights, layers, bidir, batchFirst, dropout, training: true,
                h0, c0, lengths, new Generator(7));
            return cn is null ? [y, hn] : [y, hn, cn];
        });
    }

    private static OpCase CellCase(string name, RecurrentMode mode, bool batched, bool bias)
    {
        const int inF = 3, hidden = 2;
        int gh = Tensor.GateCount(mode) * hidden;
        bool lstm = mode == RecurrentMode.Lstm;
        return new OpCase(name, g =>
        {
            var inputs = new List<Tensor> { batched ? Randn(g, 2, inF) : Randn(g, inF), Randn(g, gh, inF), Randn(g, gh, hidden) };
            if (bias) { inputs.Add(Randn(g, gh)); inputs.Add(Randn(g, gh)); }
            inputs.Add(batched ? Randn(g, 2, hidden) : Randn(g, hidden));
            if (lstm) inputs.Add(batched ? Randn(g, 2, hidden) : Randn(g, hidden));
            return [.. inputs];
        }, x =>
        {
            // the cell modules run exactly this: the fused layer with T = 1, h' and c' its final states
            int k = 3;
            Tensor? bih = bias ? x[k++] : null, bhh = bias ? x[k++] : null;
            var h = x[k++];
            var c = lstm ? x[k] : null;
            var input = batched ? x[0] : x[0].Unsqueeze(0);
            if (!batched) { h = h.Unsqueeze(0); c = c?.Unsqueeze(0); }
            var (y, hn, cn) = Tensor.RecurrentLayer(mode, input.Unsqueeze(0), x[1], x[2], bih, bhh, h, c);
            return cn is null ? [y, hn] : [y, hn, cn];
        });
    }
}
