using System.Globalization;

namespace Nabla.NN;

// LSTM with projections (PyTorch's proj_size P > 0): per step the LSTM cell with a P-feature hidden state,
// gates = W_ih·x + b_ih + W_hh·h + b_hh (W_hh is 4H x P), c' = f·c + i·g, h' = W_hr·(o·tanh(c')) (W_hr is P x H).
// Composed from the graph's ops (Linear, Sigmoid, Tanh, products), so the backward is theirs; the fused kernels
// keep serving P = 0 unchanged. A sample past its length keeps its states and outputs zeros, as a packed sequence.
public abstract partial class RNNBase
{
    private readonly List<Parameter> _proj = [];

    /// <summary>Features of the projected hidden state (LSTM's proj_size; 0 = no projection, the hidden state has <see cref="HiddenSize"/> features).</summary>
    public int ProjSize { get; }

    // registers weight_hr_l{k}[_reverse] (P, H) after the layer's biases, as PyTorch orders them
    private void AddProjection(string sfx, double bound, DType dtype, Generator? generator) =>
        _proj.Add(RegisterParameter("weight_hr" + sfx, new Parameter(Tensor.Uniform([ProjSize, HiddenSize], -bound, bound, dtype, generator)))!);

    private static void CheckProjSize(string name, RecurrentMode mode, int projSize, int hiddenSize)
    {
        if (projSize == 0) return;
        if (mode != RecurrentMode.Lstm) throw new ArgumentException($"{name}: proj_size is only supported by LSTM, got {projSize}.");
        if (projSize < 0) throw new ArgumentOutOfRangeException(nameof(projSize), $"{name}: proj_size must be ≥ 0 (0 disables projections), got {projSize}.");
        if (projSize >= hiddenSize) throw new ArgumentOutOfRangeException(nameof(projSize), $"{name}: proj_size ({projSize}) must be smaller than hidden_size ({hiddenSize}).");
    }

    /// <summary>The layers with projections. Shape: input as <see cref="Functional"/>; h0 (L·D, B, P), c0 (L·D, B, H) → output (T, B, D·P), h_n (L·D, B, P), c_n (L·D, B, H).</summary>
    private (Tensor Output, Tensor HN, Tensor CN) RunProjected(Tensor input, Tensor? h0, Tensor? c0, int[]? lengths)
    {
        ArgumentNullException.ThrowIfNull(input);
        string name = _name;
        int dirs = Bidirectional ? 2 : 1, h = HiddenSize, p = ProjSize, layers = NumLayers;
        if (input.Rank is not (2 or 3))
            throw new ArgumentException($"{name}: expected a 3-D input {(BatchFirst ? "(batch, seq, input_size)" : "(seq, batch, input_size)")} or a 2-D unbatched input (seq, input_size), got shape {ShapeUtil.Format(input.Shape)}.");
        if (input.Size(-1) != InputSize)
            throw new ArgumentException($"{name}: input.size(-1) must equal input_size = {InputSize}, got {input.Size(-1)} (input shape {ShapeUtil.Format(input.Shape)}).");
        bool unbatched = input.Rank == 2;
        var x = unbatched ? input.Unsqueeze(BatchFirst ? 0 : 1) : input;
        if (BatchFirst) x = x.Transpose(0, 1);
        int steps = x.Size(0), batch = x.Size(1);
        if (steps == 0) throw new ArgumentException($"{name}: the sequence is empty (input shape {ShapeUtil.Format(input.Shape)}).");
        Tensor.CheckLengths(name, lengths, batch, steps, input);
        Tensor State(Tensor? s, string what, int features)
        {
            int[] shape = unbatched ? [layers * dirs, features] : [layers * dirs, batch, features];
            if (s is null) return Tensor.Zeros([layers * dirs, batch, features], input.DType);
            if (!ShapeUtil.SameShape(s.Shape, shape))
                throw new ArgumentException($"{name}: expected {what} of shape {ShapeUtil.Format(shape)} (num_layers·num_directions, {(unbatched ? "" : "batch, ")}{(what == "h0" ? "proj_size" : "hidden_size")}) for input of shape {ShapeUtil.Format(input.Shape)}, got {ShapeUtil.Format(s.Shape)}.");
            return unbatched ? s.Unsqueeze(1) : s;
        }
        var h0All = State(h0, "h0", p);
        var c0All = State(c0, "c0", h);
        // mask[t]: (B, 1), 1 while step t is inside the sample
        var masks = lengths is null ? null : Enumerable.Range(0, steps)
            .Select(t => Tensor.FromArray(lengths.Select(len => t < len ? 1.0 : 0.0).ToArray(), [batch, 1]).To(input.DType)).ToArray();

        var layerInput = x;
        var hn = new List<Tensor>();
        var cn = new List<Tensor>();
        for (int l = 0; l < layers; l++)
        {
            var outs = new List<Tensor>(dirs);
            for (int d = 0; d < dirs; d++)
            {
                int k = l * dirs + d;
                Tensor wih = _flat[4 * k]!, whh = _flat[4 * k + 1]!, whr = _proj[k];
                Tensor? bih = _flat[4 * k + 2], bhh = _flat[4 * k + 3];
                var ht = h0All.Select(0, k);
                var ct = c0All.Select(0, k);
                var ys = new Tensor[steps];
                for (int s = 0; s < steps; s++)
                {
                    int t = d == 0 ? s : steps - 1 - s;
                    var gates = Tensor.Linear(layerInput.Select(0, t), wih, bih) + Tensor.Linear(ht, whh, bhh);
                    var i = gates.Narrow(1, 0, h).Sigmoid();
                    var f = gates.Narrow(1, h, h).Sigmoid();
                    var g = gates.Narrow(1, 2 * h, h).Tanh();
                    var o = gates.Narrow(1, 3 * h, h).Sigmoid();
                    var c2 = f * ct + i * g;
                    var h2 = Tensor.Linear(o * c2.Tanh(), whr);
                    if (masks is null)
                    {
                        (ht, ct, ys[t]) = (h2, c2, h2);
                        continue;
                    }
                    var m = masks[t];
                    ys[t] = h2 * m;
                    ht = ys[t] + ht * (1.0 - m);
                    ct = c2 * m + ct * (1.0 - m);
                }
                outs.Add(Tensor.Stack(ys, 0));
                hn.Add(ht);
                cn.Add(ct);
            }
            layerInput = dirs == 1 ? outs[0] : Tensor.Cat(outs, -1);
            if (Dropout > 0 && Training && l < layers - 1) layerInput = DropoutMask(layerInput, Dropout, DropoutGenerator ?? Generator.Default);
        }
        var output = BatchFirst ? layerInput.Transpose(0, 1) : layerInput;
        var hN = Tensor.Stack(hn, 0);
        var cN = Tensor.Stack(cn, 0);
        if (unbatched)
        {
            output = output.Squeeze(BatchFirst ? 0 : 1);
            hN = hN.Squeeze(1);
            cN = cN.Squeeze(1);
        }
        return (output, hN, cN);
    }

    private string ProjRepr() => ProjSize > 0 ? string.Create(CultureInfo.InvariantCulture, $", proj_size={ProjSize}") : "";
}
