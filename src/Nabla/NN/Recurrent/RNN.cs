namespace Nabla.NN;

/// <summary>
/// Elman recurrent network, PyTorch's <c>nn.RNN</c>: h' = act(W_ih x + b_ih + W_hh h + b_hh) with act tanh or relu.
/// Parameters as <see cref="LSTM"/> with H rows. Shape: as <see cref="LSTM"/>, without c.
/// </summary>
public sealed class RNN : RNNBase
{
    /// <summary>Creates the layers; <paramref name="nonlinearity"/> is "tanh" or "relu".</summary>
    public RNN(int inputSize, int hiddenSize, int numLayers = 1, string nonlinearity = "tanh", bool bias = true, bool batchFirst = false,
        double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32, Generator? generator = null)
        : base("RNN", ModeOf(nonlinearity), inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, generator)
    {
    }

    internal static RecurrentMode ModeOf(string nonlinearity) => nonlinearity switch
    {
        "tanh" => RecurrentMode.RnnTanh,
        "relu" => RecurrentMode.RnnRelu,
        _ => throw new ArgumentException($"RNN: nonlinearity must be \"tanh\" or \"relu\", got \"{nonlinearity}\"."),
    };

    /// <summary>Runs the sequence from <paramref name="h0"/> (null for zeros); <paramref name="lengths"/> as <see cref="LSTM.Forward(Tensor, ValueTuple{Tensor, Tensor}?, int[])"/>.</summary>
    public RecurrentOutput Forward(Tensor input, Tensor? h0, int[]? lengths = null)
    {
        var (y, h, _) = Run(input, h0, null, lengths);
        return new RecurrentOutput(y, h);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => base.ExtraRepr() + (Mode == RecurrentMode.RnnRelu ? ", nonlinearity='relu'" : "");
}
