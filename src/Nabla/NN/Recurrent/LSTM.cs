namespace Nabla.NN;

/// <summary>
/// Long short-term memory, PyTorch's <c>nn.LSTM</c>: per step i, f, g, o = σ, σ, tanh, σ of
/// W_ih·x + b_ih + W_hh·h + b_hh, c' = f·c + i·g, h' = o·tanh(c'). Parameters <c>weight_ih_l{k}</c> (4H, I),
/// <c>weight_hh_l{k}</c> (4H, H), <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c> (4H), <c>_reverse</c> for the backward
/// direction; gate blocks in PyTorch's order i, f, g, o. With proj_size P &gt; 0 the hidden state is projected,
/// h' = W_hr·(o·tanh(c')), with <c>weight_hr_l{k}</c> (P, H); <c>weight_hh_l{k}</c> is then (4H, P) and the layers
/// above the first take D·P features. Shape: input (T, B, I) or (B, T, I) with batch_first or (T, I) unbatched →
/// output (T, B, D·H') (same layout), h_n (num_layers·D, B, H'), c_n (num_layers·D, B, H), H' = P when P &gt; 0 else H.
/// </summary>
public sealed class LSTM : RNNBase
{
    /// <summary>Creates the layers (PyTorch's arguments; <paramref name="projSize"/> 0 disables projections, else 0 &lt; P &lt; hidden_size).</summary>
    public LSTM(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, int projSize = 0, DType dtype = DType.Float32, Generator? generator = null)
        : base("LSTM", RecurrentMode.Lstm, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, dtype, generator, projSize)
    {
    }

    /// <summary>
    /// Runs the sequence from <paramref name="state"/> (h0, c0; null for zeros). <paramref name="lengths"/> gives each
    /// sample's valid steps (1..T; null: all): outputs past it are zero and h_n, c_n are the states at its last step.
    /// </summary>
    public LstmOutput Forward(Tensor input, (Tensor H, Tensor C)? state, int[]? lengths = null)
    {
        var (y, h, c) = Run(input, state?.H, state?.C, lengths);
        return new LstmOutput(y, h, c!);
    }
}
