using System.Numerics;
using Nabla.Autograd;

namespace Nabla;

// One direction of one recurrent layer over a whole sequence, fused: the input projection of all steps is one GEMM,
// each step is one GEMM (h·W_hhᵀ) plus a fused pointwise kernel (Kernels/Recurrent*.cs), and the backward walks the
// steps in reverse, adding to the residual of each hidden state what its two successors send back (the next step
// and this step's output), the text's ∇fJ = Σk ∂J/∂hk·∂hk/∂f, then computes dW_ih, dW_hh, db and dx as three GEMMs
// over all steps at once.
public partial class Tensor
{
    /// <summary>The number of gate blocks (1 RNN, 4 LSTM, 3 GRU): weight_ih has gates·hidden_size rows.</summary>
    public static int GateCount(RecurrentMode mode) => mode switch { RecurrentMode.Lstm => 4, RecurrentMode.Gru => 3, _ => 1 };

    /// <summary>
    /// One direction of one recurrent layer over a whole sequence (the fused op under <c>RNN</c>, <c>LSTM</c>,
    /// <c>GRU</c> and their cells). Returns three tensors of one graph node: the output sequence (zero where t ≥ the
    /// sample's length), always time-major, the final hidden state h_n and, for LSTM, the final cell state c_n (null
    /// otherwise). A loss may use any of them; the ones it does not use send back no residual.
    /// Shape: input (T, B, I), or (B, T, I) when <paramref name="batchFirst"/>; weightIh (G·H, I); weightHh (G·H, H);
    /// biases (G·H); h0 and c0 (B, H) → output (T, B, H), h_n and c_n (B, H) (G = <see cref="GateCount"/>).
    /// </summary>
    /// <param name="mode">The cell.</param>
    /// <param name="input">The sequence.</param>
    /// <param name="weightIh">Input-to-hidden weights, gate blocks stacked as PyTorch's <c>weight_ih_l0</c>.</param>
    /// <param name="weightHh">Hidden-to-hidden weights, as <c>weight_hh_l0</c>.</param>
    /// <param name="biasIh">Input bias (<c>bias_ih_l0</c>), or null.</param>
    /// <param name="biasHh">Hidden bias (<c>bias_hh_l0</c>), or null.</param>
    /// <param name="h0">Initial hidden state.</param>
    /// <param name="c0">Initial cell state: required for LSTM, null otherwise.</param>
    /// <param name="lengths">Valid steps of each sample (1..T), or null for all T: the state stops changing after a
    /// sample's last step (before its first one when <paramref name="reverse"/>), so padding never reaches h_n, c_n or
    /// the gradients.</param>
    /// <param name="reverse">Process the steps from last to first (the backward direction of a bidirectional layer).</param>
    /// <param name="batchFirst">The input is (B, T, I).</param>
    public static (Tensor Output, Tensor HN, Tensor? CN) RecurrentLayer(RecurrentMode mode, Tensor input, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor h0, Tensor? c0 = null, int[]? lengths = null, bool reverse = false, bool batchFirst = false) =>
        RecurrentLayerNamed(nameof(RecurrentLayer), mode, input, weightIh, weightHh, biasIh, biasHh, h0, c0, lengths, reverse, batchFirst);

    // The modules call this one so that errors name them (LSTM, GRUCell, ...).
    internal static (Tensor Output, Tensor HN, Tensor? CN) RecurrentLayerNamed(string op, RecurrentMode mode, Tensor input, Tensor weightIh, Tensor weightHh, Tensor? biasIh, Tensor? biasHh,
        Tensor h0, Tensor? c0, int[]? lengths, bool reverse, bool batchFirst)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weightIh);
        ArgumentNullException.ThrowIfNull(weightHh);
        ArgumentNullException.ThrowIfNull(h0);
        int gates = GateCount(mode);
        if (input.Rank != 3)
            throw new ArgumentException($"{op}: expected a 3-D input {(batchFirst ? "(B, T, input_size)" : "(T, B, input_size)")}, got shape {ShapeUtil.Format(input._shape)}.");
        int steps = batchFirst ? input._shape[1] : input._shape[0], batch = batchFirst ? input._shape[0] : input._shape[1], inF = input._shape[2];
        if (weightHh.Rank != 2 || weightHh._shape[0] % gates != 0 || weightHh._shape[0] != gates * weightHh._shape[1])
            throw new ArgumentException($"{op}: weight_hh must be ({gates}·hidden_size, hidden_size), got {ShapeUtil.Format(weightHh._shape)}.");
        int hidden = weightHh._shape[1], gh = gates * hidden;
        if (weightIh.Rank != 2 || weightIh._shape[0] != gh || weightIh._shape[1] != inF)
            throw new ArgumentException($"{op}: weight_ih must be [{gh}, {inF}] for input of shape {ShapeUtil.Format(input._shape)}, got {ShapeUtil.Format(weightIh._shape)}.");
        foreach (var (b, name) in new[] { (biasIh, "bias_ih"), (biasHh, "bias_hh") })
            if (b is not null && (b.Rank != 1 || b._shape[0] != gh))
                throw new ArgumentException($"{op}: {name} must be [{gh}], got {ShapeUtil.Format(b._shape)}.");
        if (h0.Rank != 2 || h0._shape[0] != batch || h0._shape[1] != hidden)
            throw new ArgumentException($"{op}: expected h0 of shape [{batch}, {hidden}], got {ShapeUtil.Format(h0._shape)}.");
        if (mode == RecurrentMode.Lstm)
        {
            if (c0 is null) throw new ArgumentException($"{op}: an LSTM layer needs c0.");
            if (c0.Rank != 2 || c0._shape[0] != batch || c0._shape[1] != hidden)
                throw new ArgumentException($"{op}: expected c0 of shape [{batch}, {hidden}], got {ShapeUtil.Format(c0._shape)}.");
        }
        else if (c0 is not null) throw new ArgumentException($"{op}: c0 is only for LSTM, not {mode}.");
        if (steps == 0) throw new ArgumentException($"{op}: the sequence is empty (input shape {ShapeUtil.Format(input._shape)}).");
        CheckLengths(op, lengths, batch, steps, input);

        var all = new List<Tensor> { input, weightIh, weightHh };
        if (biasIh is not null) all.Add(biasIh);
        if (biasHh is not null) all.Add(biasHh);
        all.Add(h0);
        if (c0 is not null) all.Add(c0);
        foreach (var t in all) CheckSameDType(op, input, t);
        bool save = GradMode.IsEnabled && all.Any(t => t.RequiresGrad);

        var run = DTypeDispatch.Run<MakeRun, IRecurrentRun>(op, input.DType,
            new MakeRun(mode, steps, batch, inF, hidden, reverse, batchFirst, lengths?.ToArray(), save));
        var (y, hn, cn) = run.Forward(input.Detach().Contiguous(), weightIh.Detach().Contiguous(), weightHh.Detach().Contiguous(),
            biasIh?.Detach().Contiguous(), biasHh?.Detach().Contiguous(), h0.Detach().Contiguous(), c0?.Detach().Contiguous());
        if (!save) return (y, hn, cn);
        var inputs = all.ToArray();
        Tensor[] outputs = cn is null ? [y, hn] : [y, hn, cn];
        Engine.Record(outputs, mode + "LayerBackward", inputs, g =>
        {
            var needs = inputs.Select(t => t.RequiresGrad).ToArray();
            var dense = new Tensor?[3];
            for (int i = 0; i < g.Length; i++) dense[i] = g[i]?.Contiguous();
            var grads = run.Backward(dense[0], dense[1], dense[2], needs[0], needs[1], needs[2],
                biasIh is { RequiresGrad: true }, biasHh is { RequiresGrad: true }, h0.RequiresGrad, c0 is { RequiresGrad: true });
            // a dense copy made here is used up (a residual of a view, e.g. a batch-first output's transpose)
            for (int i = 0; i < g.Length; i++)
                if (dense[i] is { } d && !ReferenceEquals(d, g[i])) StoragePool.Recycle(d);
            // grads: dx, dWih, dWhh, dbih, dbhh, dh0, dc0 → the inputs present
            var list = new List<Tensor?> { grads[0], grads[1], grads[2] };
            if (biasIh is not null) list.Add(grads[3]);
            if (biasHh is not null) list.Add(grads[4]);
            list.Add(grads[5]);
            if (c0 is not null) list.Add(grads[6]);
            return [.. list];
        }, firstOrderOnly: true);
        if (y.GradFn is { } node) node.OnFree = run.Release;
        return (y, hn, cn);
    }

    /// <summary>Checks per-sample lengths: one per sample, each in 1..steps; errors name the op and shapes.</summary>
    internal static void CheckLengths(string op, int[]? lengths, int batch, int steps, Tensor input)
    {
        if (lengths is null) return;
        if (lengths.Length != batch)
            throw new ArgumentException($"{op}: got {lengths.Length} lengths for a batch of {batch} (input shape {ShapeUtil.Format(input._shape)}).");
        for (int b = 0; b < batch; b++)
        {
            if (lengths[b] > steps)
                throw new ArgumentException($"{op}: lengths[{b}] = {lengths[b]} is longer than the sequence ({steps} steps; input shape {ShapeUtil.Format(input._shape)}).");
            if (lengths[b] < 1)
                throw new ArgumentException($"{op}: lengths[{b}] = {lengths[b]}; every length must be at least 1.");
        }
    }

    private readonly record struct MakeRun(RecurrentMode Mode, int Steps, int Batch, int InF, int Hidden, bool Reverse, bool BatchFirst, int[]? Lengths, bool Save)
        : IFloatFunc<IRecurrentRun>
    {
        public IRecurrentRun Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            new RecurrentRun<T>(Mode, Steps, Batch, InF, Hidden, Reverse, BatchFirst, Lengths, Save);
    }
}
