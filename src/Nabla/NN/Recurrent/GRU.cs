namespace Nabla.NN;

/// <summary>
/// Gated recurrent unit, PyTorch's <c>nn.GRU</c>: r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise,
/// n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = (1 − z)·n + z·h. Parameters as <see cref="LSTM"/> with 3H rows,
/// gate blocks r, z, n. Shape: as <see cref="LSTM"/>, without c.
/// </summary>
public sealed class GRU : RNNBase
{
    /// <summary>Creates the layers (PyTorch's arguments).</summary>
    public GRU(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, DType dtype = DType.Float32, Generator? generator = null)
        : base("GRU", RecurrentMode.Gru, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, generator)
    {
    }

    /// <summary>Runs the sequence from <paramref name="h0"/> (null for zeros); <paramref name="lengths"/> as <see cref="LSTM.Forward(Tensor, ValueTuple{Tensor, Tensor}?, int[])"/>.</summary>
    public RecurrentOutput Forward(Tensor input, Tensor? h0, int[]? lengths = null)
    {
        var (y, h, _) = Run(input, h0, null, lengths);
        return new RecurrentOutput(y, h);
    }
}
