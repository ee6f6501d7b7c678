namespace Nabla;

/// <summary>Which cell a recurrent layer runs (PyTorch's <c>mode</c> of RNNBase).</summary>
public enum RecurrentMode
{
    /// <summary>Elman RNN with tanh: h' = tanh(W_ih x + b_ih + W_hh h + b_hh). One gate block.</summary>
    RnnTanh,

    /// <summary>Elman RNN with ReLU. One gate block.</summary>
    RnnRelu,

    /// <summary>LSTM, gate blocks i, f, g, o (PyTorch's order).</summary>
    Lstm,

    /// <summary>GRU, gate blocks r, z, n (PyTorch's order).</summary>
    Gru,
}
