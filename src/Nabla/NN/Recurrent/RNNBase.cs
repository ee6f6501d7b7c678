using System.Globalization;

namespace Nabla.NN;

/// <summary>What <see cref="RNN"/> and <see cref="GRU"/> return: the output sequence and the final hidden state.</summary>
/// <param name="Output">Shape: (T, B, D·H), or (B, T, D·H) with batch_first, or (T, D·H) unbatched; zero past each sample's length.</param>
/// <param name="HN">The final hidden state of every layer and direction. Shape: (num_layers·D, B, H), or (num_layers·D, H) unbatched.</param>
public sealed record RecurrentOutput(Tensor Output, Tensor HN);

/// <summary>What <see cref="LSTM"/> returns: the output sequence and the final hidden and cell states.</summary>
/// <param name="Output">Shape: (T, B, D·H), or (B, T, D·H) with batch_first, or (T, D·H) unbatched; zero past each sample's length.</param>
/// <param name="HN">The final hidden states. Shape: (num_layers·D, B, H), or (num_layers·D, H) unbatched.</param>
/// <param name="CN">The final cell states, same shape as <paramref name="HN"/>.</param>
public sealed record LstmOutput(Tensor Output, Tensor HN, Tensor CN);

/// <summary>
/// The common part of <see cref="RNN"/>, <see cref="LSTM"/> and <see cref="GRU"/> (PyTorch's RNNBase): stacked
/// layers, optionally bidirectional, with PyTorch's parameter names (<c>weight_ih_l0</c>, <c>weight_hh_l0</c>,
/// <c>bias_ih_l0</c>, <c>bias_hh_l0</c>, <c>_reverse</c> for the backward direction), gate order and initialisation
/// (every weight and bias uniform in ±1/√hidden_size), so a PyTorch state dict loads unchanged. Each layer and
/// direction runs the fused <see cref="Tensor.RecurrentLayer"/>. The one-argument <see cref="Forward(Tensor)"/>
/// returns the output sequence so the module composes in <see cref="Sequential"/>.
/// </summary>
public abstract partial class RNNBase : Module
{
    private readonly List<Parameter?> _flat = [];
    private readonly string _name;

    /// <summary>Creates the layers' parameters.</summary>
    protected RNNBase(string name, RecurrentMode mode, int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst,
        double dropout, bool bidirectional, DType dtype, Generator? generator, int projSize = 0)
    {
        _name = name;
        CheckProjSize(name, mode, projSize, hiddenSize);
        ProjSize = projSize;
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"{name}: input_size and hidden_size must be positive, got {inputSize} and {hiddenSize}.");
        if (numLayers < 1) throw new ArgumentOutOfRangeException(nameof(numLayers), $"{name}: num_layers must be at least 1, got {numLayers}.");
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), $"{name}: dropout must be in [0, 1], got {dropout.ToString(CultureInfo.InvariantCulture)}.");
        (Mode, InputSize, HiddenSize, NumLayers, Bias, BatchFirst, Dropout, Bidirectional) =
            (mode, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional);
        int gh = Tensor.GateCount(mode) * hiddenSize, dirs = bidirectional ? 2 : 1;
        double bound = 1 / Math.Sqrt(hiddenSize);
        for (int l = 0; l < numLayers; l++)
        {
            for (int d = 0; d < dirs; d++)
            {
                string sfx = string.Create(CultureInfo.InvariantCulture, $"_l{l}{(d == 1 ? "_reverse" : "")}");
                int real = projSize > 0 ? projSize : hiddenSize;   // features of h
                int inF = l == 0 ? inputSize : real * dirs;
                _flat.Add(RegisterParameter("weight_ih" + sfx, new Parameter(Tensor.Uniform([gh, inF], -bound, bound, dtype, generator))));
                _flat.Add(RegisterParameter("weight_hh" + sfx, new Parameter(Tensor.Uniform([gh, real], -bound, bound, dtype, generator))));
                _flat.Add(bias ? RegisterParameter("bias_ih" + sfx, new Parameter(Tensor.Uniform([gh], -bound, bound, dtype, generator))) : null);
                _flat.Add(bias ? RegisterParameter("bias_hh" + sfx, new Parameter(Tensor.Uniform([gh], -bound, bound, dtype, generator))) : null);
                if (projSize > 0) AddProjection(sfx, bound, dtype, generator);
            }
        }
    }

    /// <summary>The cell every layer runs.</summary>
    public RecurrentMode Mode { get; }

    /// <summary>Features of each input step.</summary>
    public int InputSize { get; }

    /// <summary>Features of the hidden state (per direction).</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked layers.</summary>
    public int NumLayers { get; }

    /// <summary>Whether the layers have biases.</summary>
    public bool Bias { get; }

    /// <summary>Whether input and output are (B, T, features) instead of (T, B, features).</summary>
    public bool BatchFirst { get; }

    /// <summary>Dropout probability on the outputs of every layer but the last, in training mode.</summary>
    public double Dropout { get; }

    /// <summary>Whether every layer also runs over the sequence backwards (outputs concatenated: D = 2).</summary>
    public bool Bidirectional { get; }

    /// <summary>The generator of the dropout masks (default: <see cref="Generator.Default"/>).</summary>
    public Generator? DropoutGenerator { get; set; }

    /// <summary>The parameters per layer and direction in PyTorch's order (w_ih, w_hh, b_ih, b_hh; null biases when bias=false); LSTM's projections w_hr are not among them.</summary>
    public IReadOnlyList<Parameter?> FlatWeights => _flat;

    /// <summary>Runs the layers; <paramref name="c0"/> only for LSTM.</summary>
    private protected (Tensor Output, Tensor HN, Tensor? CN) Run(Tensor input, Tensor? h0, Tensor? c0, int[]? lengths) => ProjSize > 0
        ? RunProjected(input, h0, c0, lengths)
        : Functional(_name, Mode, input, _flat, NumLayers, Bidirectional, BatchFirst, Dropout, Training, h0, c0, lengths, DropoutGenerator);

    /// <summary>The output sequence (the final states are dropped; use the typed Forward to get them).</summary>
    public override Tensor Forward(Tensor input) => Run(input, null, null, null).Output;

    /// <inheritdoc/>
    protected override string ExtraRepr()
    {
        var s = string.Create(CultureInfo.InvariantCulture, $"{InputSize}, {HiddenSize}");
        if (NumLayers != 1) s += string.Create(CultureInfo.InvariantCulture, $", num_layers={NumLayers}");
        if (!Bias) s += ", bias=False";
        if (BatchFirst) s += ", batch_first=True";
        if (Dropout != 0) s += string.Create(CultureInfo.InvariantCulture, $", dropout={Dropout}");
        if (Bidirectional) s += ", bidirectional=True";
        return s + ProjRepr();
    }

    /// <summary>
    /// The stacked, optionally bidirectional recurrent network as a function of its weights (what the modules run;
    /// usable directly, e.g. for gradcheck). Shape: input (T, B, I), (B, T, I) with <paramref name="batchFirst"/>, or
    /// (T, I) unbatched; h0 and c0 (L·D, B, H) or (L·D, H) → output (T, B, D·H) (same layout as the input), h_n and
    /// c_n (L·D, B, H).
    /// </summary>
    /// <param name="name">The module name used in errors.</param>
    /// <param name="mode">The cell.</param>
    /// <param name="input">The sequence.</param>
    /// <param name="weights">4·L·D tensors: per layer, per direction, w_ih, w_hh, b_ih, b_hh (biases may be null).</param>
    /// <param name="numLayers">L.</param>
    /// <param name="bidirectional">D = 2 when true.</param>
    /// <param name="batchFirst">Input and output are batch-first.</param>
    /// <param name="dropout">Dropout on every layer's output but the last, when <paramref name="training"/>.</param>
    /// <param name="training">Training mode (dropout active).</param>
    /// <param name="h0">Initial hidden states, or null for zeros.</param>
    /// <param name="c0">Initial cell states (LSTM), or null for zeros.</param>
    /// <param name="lengths">Valid steps per sample (1..T), or null: padding never reaches the final states or the gradients.</param>
    /// <param name="generator">Generator of the dropout masks.</param>
    public static (Tensor Output, Tensor HN, Tensor? CN) Functional(string name, RecurrentMode mode, Tensor input, IReadOnlyList<Tensor?> weights,
        int numLayers, bool bidirectional, bool batchFirst, double dropout, bool training, Tensor? h0, Tensor? c0, int[]? lengths,
        Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        int dirs = bidirectional ? 2 : 1;
        if (weights.Count != 4 * numLayers * dirs || weights[0] is null || weights[1] is null)
            throw new ArgumentException($"{name}: expected {4 * numLayers * dirs} weight slots (w_ih, w_hh, b_ih, b_hh per layer and direction), got {weights.Count}.");
        bool lstm = mode == RecurrentMode.Lstm;
        if (!lstm && c0 is not null) throw new ArgumentException($"{name}: c0 is only for LSTM.");
        int inputSize = weights[0]!.Size(1), hidden = weights[1]!.Size(1);
        if (input.Rank is not (2 or 3))
            throw new ArgumentException($"{name}: expected a 3-D input {(batchFirst ? "(batch, seq, input_size)" : "(seq, batch, input_size)")} or a 2-D unbatched input (seq, input_size), got shape {ShapeUtil.Format(input.Shape)}.");
        if (input.Size(-1) != inputSize)
            throw new ArgumentException($"{name}: input.size(-1) must equal input_size = {inputSize}, got {input.Size(-1)} (input shape {ShapeUtil.Format(input.Shape)}).");
        bool unbatched = input.Rank == 2;
        var x = unbatched ? input.Unsqueeze(batchFirst ? 0 : 1) : input;
        int steps = batchFirst ? x.Size(1) : x.Size(0), batch = batchFirst ? x.Size(0) : x.Size(1);
        if (steps == 0) throw new ArgumentException($"{name}: the sequence is empty (input shape {ShapeUtil.Format(input.Shape)}).");
        Tensor.CheckLengths(name, lengths, batch, steps, input);
        int[] stateShape = unbatched ? [numLayers * dirs, hidden] : [numLayers * dirs, batch, hidden];
        Tensor State(Tensor? s, string what)
        {
            if (s is null) return Tensor.Zeros([numLayers * dirs, batch, hidden], input.DType);
            if (!ShapeUtil.SameShape(s.Shape, stateShape))
                throw new ArgumentException($"{name}: expected {what} of shape {ShapeUtil.Format(stateShape)} (num_layers·num_directions, {(unbatched ? "" : "batch, ")}hidden_size) for input of shape {ShapeUtil.Format(input.Shape)}, got {ShapeUtil.Format(s.Shape)}.");
            return unbatched ? s.Unsqueeze(1) : s;
        }
        var h0All = State(h0, "h0");
        var c0All = lstm ? State(c0, "c0") : null;

        var layerInput = x;
        var hn = new List<Tensor>();
        var cn = new List<Tensor>();
        for (int l = 0; l < numLayers; l++)
        {
            var outs = new List<Tensor>(dirs);
            for (int d = 0; d < dirs; d++)
            {
                int k = l * dirs + d;
                var (y, h, c) = Tensor.RecurrentLayerNamed(name, mode, layerInput, weights[4 * k]!, weights[4 * k + 1]!, weights[4 * k + 2], weights[4 * k + 3],
                    h0All.Select(0, k), c0All?.Select(0, k), lengths, reverse: d == 1, batchFirst: l == 0 && batchFirst);
                outs.Add(y);
                hn.Add(h);
                if (c is not null) cn.Add(c);
            }
            layerInput = dirs == 1 ? outs[0] : Tensor.Cat(outs, -1);
            if (dropout > 0 && training && l < numLayers - 1) layerInput = DropoutMask(layerInput, dropout, generator ?? Generator.Default);
        }
        var output = batchFirst ? layerInput.Transpose(0, 1) : layerInput;
        var hN = Tensor.Stack(hn, 0);
        var cN = lstm ? Tensor.Stack(cn, 0) : null;
        if (unbatched)
        {
            output = output.Squeeze(batchFirst ? 0 : 1);
            hN = hN.Squeeze(1);
            cN = cN?.Squeeze(1);
        }
        return (output, hN, cN);
    }

    // x·m with m = 0 (probability p) or 1/(1 − p): inverted dropout, the mask a constant of the graph
    private static Tensor DropoutMask(Tensor x, double p, Generator generator)
    {
        var mask = Tensor.Zeros(x.Shape.ToArray(), x.DType);
        double keep = 1 / (1 - p);
        for (int i = 0; i < mask.Numel; i++) mask.SetFlat(i, generator.NextDouble() < p ? 0 : keep);
        return x * mask;
    }
}
