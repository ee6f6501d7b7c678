using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// The common part of the single-step cells (PyTorch's RNNCellBase): parameters <c>weight_ih</c> (G·H, I),
/// <c>weight_hh</c> (G·H, H), <c>bias_ih</c>, <c>bias_hh</c> (G·H), initialised uniform in ±1/√hidden_size. A step
/// runs the same fused kernels as the sequence modules, with T = 1.
/// </summary>
public abstract class RNNCellBase : Module
{
    private readonly string _name;

    /// <summary>Creates the parameters.</summary>
    private protected RNNCellBase(string name, RecurrentMode mode, int inputSize, int hiddenSize, bool bias, DType dtype, Generator? generator)
    {
        _name = name;
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"{name}: input_size and hidden_size must be positive, got {inputSize} and {hiddenSize}.");
        (Mode, InputSize, HiddenSize) = (mode, inputSize, hiddenSize);
        int gh = Tensor.GateCount(mode) * hiddenSize;
        double bound = 1 / Math.Sqrt(hiddenSize);
        WeightIh = RegisterParameter("weight_ih", new Parameter(Tensor.Uniform([gh, inputSize], -bound, bound, dtype, generator)))!;
        WeightHh = RegisterParameter("weight_hh", new Parameter(Tensor.Uniform([gh, hiddenSize], -bound, bound, dtype, generator)))!;
        BiasIh = RegisterParameter("bias_ih", bias ? new Parameter(Tensor.Uniform([gh], -bound, bound, dtype, generator)) : null);
        BiasHh = RegisterParameter("bias_hh", bias ? new Parameter(Tensor.Uniform([gh], -bound, bound, dtype, generator)) : null);
    }

    /// <summary>The cell.</summary>
    public RecurrentMode Mode { get; }

    /// <summary>Input features.</summary>
    public int InputSize { get; }

    /// <summary>Hidden features.</summary>
    public int HiddenSize { get; }

    /// <summary>Input-to-hidden weights. Shape: (G·H, I).</summary>
    public Parameter WeightIh { get; }

    /// <summary>Hidden-to-hidden weights. Shape: (G·H, H).</summary>
    public Parameter WeightHh { get; }

    /// <summary>Input bias or null. Shape: (G·H).</summary>
    public Parameter? BiasIh { get; }

    /// <summary>Hidden bias or null. Shape: (G·H).</summary>
    public Parameter? BiasHh { get; }

    /// <summary>One step: (h', c') from the input and the state (zeros when null); c only for LSTM.</summary>
    private protected (Tensor H, Tensor? C) Step(Tensor input, Tensor? h, Tensor? c)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is not (1 or 2))
            throw new ArgumentException($"{_name}: expected a 2-D input (batch, input_size) or a 1-D one (input_size), got shape {ShapeUtil.Format(input.Shape)}.");
        if (input.Size(-1) != InputSize)
            throw new ArgumentException($"{_name}: input.size(-1) must equal input_size = {InputSize}, got {input.Size(-1)} (input shape {ShapeUtil.Format(input.Shape)}).");
        bool unbatched = input.Rank == 1;
        var x = unbatched ? input.Unsqueeze(0) : input;
        int batch = x.Size(0);
        int[] stateShape = unbatched ? [HiddenSize] : [batch, HiddenSize];
        Tensor State(Tensor? s, string what)
        {
            if (s is null) return Tensor.Zeros([batch, HiddenSize], input.DType);
            if (!ShapeUtil.SameShape(s.Shape, stateShape))
                throw new ArgumentException($"{_name}: expected {what} of shape {ShapeUtil.Format(stateShape)} for input of shape {ShapeUtil.Format(input.Shape)}, got {ShapeUtil.Format(s.Shape)}.");
            return unbatched ? s.Unsqueeze(0) : s;
        }
        bool lstm = Mode == RecurrentMode.Lstm;
        // one step: h' is h_n (the output sequence, equal to it, is left unused)
        var (_, hNew, cNew) = Tensor.RecurrentLayerNamed(_name, Mode, x.Unsqueeze(0), WeightIh, WeightHh, BiasIh, BiasHh, State(h, "h"), lstm ? State(c, "c") : null, null, false, false);
        return unbatched ? (hNew.Squeeze(0), cNew?.Squeeze(0)) : (hNew, cNew);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"{InputSize}, {HiddenSize}{(BiasIh is null ? ", bias=False" : "")}");
}

/// <summary>
/// One LSTM step, PyTorch's <c>nn.LSTMCell</c>. Shape: input (B, I) or (I); h, c (B, H) or (H) → h', c' (same).
/// </summary>
public sealed class LSTMCell : RNNCellBase
{
    /// <summary>Creates the cell.</summary>
    public LSTMCell(int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
        : base("LSTMCell", RecurrentMode.Lstm, inputSize, hiddenSize, bias, dtype, generator)
    {
    }

    /// <summary>One step from <paramref name="state"/> (null: zeros).</summary>
    public (Tensor H, Tensor C) Forward(Tensor input, (Tensor H, Tensor C)? state)
    {
        var (h, c) = Step(input, state?.H, state?.C);
        return (h, c!);
    }

    /// <summary>h' of one step from zero state.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null).H;
}

/// <summary>One GRU step, PyTorch's <c>nn.GRUCell</c>. Shape: input (B, I) or (I); h (B, H) or (H) → h' (same).</summary>
public sealed class GRUCell : RNNCellBase
{
    /// <summary>Creates the cell.</summary>
    public GRUCell(int inputSize, int hiddenSize, bool bias = true, DType dtype = DType.Float32, Generator? generator = null)
        : base("GRUCell", RecurrentMode.Gru, inputSize, hiddenSize, bias, dtype, generator)
    {
    }

    /// <summary>One step from <paramref name="h"/> (null: zeros).</summary>
    public Tensor Forward(Tensor input, Tensor? h) => Step(input, h, null).H;

    /// <summary>h' of one step from zero state.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null);
}

/// <summary>
/// One Elman RNN step, PyTorch's <c>nn.RNNCell</c>: h' = act(W_ih x + b_ih + W_hh h + b_hh), act "tanh" or "relu".
/// Shape: input (B, I) or (I); h (B, H) or (H) → h' (same).
/// </summary>
public sealed class RNNCell : RNNCellBase
{
    /// <summary>Creates the cell.</summary>
    public RNNCell(int inputSize, int hiddenSize, bool bias = true, string nonlinearity = "tanh", DType dtype = DType.Float32, Generator? generator = null)
        : base("RNNCell", RNN.ModeOf(nonlinearity), inputSize, hiddenSize, bias, dtype, generator)
    {
    }

    /// <summary>One step from <paramref name="h"/> (null: zeros).</summary>
    public Tensor Forward(Tensor input, Tensor? h) => Step(input, h, null).H;

    /// <summary>h' of one step from zero state.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <inheritdoc/>
    protected override string ExtraRepr() => base.ExtraRepr() + (Mode == RecurrentMode.RnnRelu ? ", nonlinearity='relu'" : "");
}
