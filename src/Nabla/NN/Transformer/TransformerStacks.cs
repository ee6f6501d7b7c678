namespace Nabla.NN;

/// <summary>
/// A stack of <c>numLayers</c> encoder layers, PyTorch's <c>nn.TransformerEncoder</c>: deep copies of the given layer
/// (so they start from the same values), then an optional final norm. Keys: <c>layers.0.self_attn.in_proj_weight</c>, ...,
/// <c>norm.weight</c>. Shape: as <see cref="TransformerEncoderLayer"/>.
/// </summary>
public sealed class TransformerEncoder : Module
{
    /// <summary>Stacks <paramref name="numLayers"/> copies of <paramref name="encoderLayer"/> (the layer itself is not used).</summary>
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, int numLayers, Module? norm = null)
    {
        ArgumentNullException.ThrowIfNull(encoderLayer);
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), $"TransformerEncoder: num_layers must be positive, got {numLayers}.");
        Layers = RegisterModule("layers", new ModuleList());
        for (int i = 0; i < numLayers; i++) Layers.Add(encoderLayer.Copy());
        if (norm is not null) Norm = RegisterModule("norm", norm);
    }

    /// <summary>The layers (each a <see cref="TransformerEncoderLayer"/>).</summary>
    public ModuleList Layers { get; }

    /// <summary>The final norm, or null.</summary>
    public Module? Norm { get; }

    /// <summary>The number of layers.</summary>
    public int NumLayers => Layers.Count;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>Runs every layer with the same masks (see <see cref="TransformerEncoderLayer.Forward(Tensor, Tensor?, Tensor?, bool)"/>), then the norm.</summary>
    public Tensor Forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask = null, bool isCausal = false)
    {
        var x = src;
        foreach (TransformerEncoderLayer layer in Layers) x = layer.Forward(x, mask, srcKeyPaddingMask, isCausal);
        return Norm is null ? x : Norm.Forward(x);
    }
}

/// <summary>
/// A stack of <c>numLayers</c> decoder layers, PyTorch's <c>nn.TransformerDecoder</c>: deep copies of the given layer,
/// then an optional final norm. Keys: <c>layers.0.multihead_attn.in_proj_weight</c>, ..., <c>norm.weight</c>.
/// Shape: as <see cref="TransformerDecoderLayer"/>.
/// </summary>
public sealed class TransformerDecoder : Module
{
    /// <summary>Stacks <paramref name="numLayers"/> copies of <paramref name="decoderLayer"/> (the layer itself is not used).</summary>
    public TransformerDecoder(TransformerDecoderLayer decoderLayer, int numLayers, Module? norm = null)
    {
        ArgumentNullException.ThrowIfNull(decoderLayer);
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), $"TransformerDecoder: num_layers must be positive, got {numLayers}.");
        Layers = RegisterModule("layers", new ModuleList());
        for (int i = 0; i < numLayers; i++) Layers.Add(decoderLayer.Copy());
        if (norm is not null) Norm = RegisterModule("norm", norm);
    }

    /// <summary>The layers (each a <see cref="TransformerDecoderLayer"/>).</summary>
    public ModuleList Layers { get; }

    /// <summary>The final norm, or null.</summary>
    public Module? Norm { get; }

    /// <summary>The number of layers.</summary>
    public int NumLayers => Layers.Count;

    /// <summary>Not defined: a decoder needs the memory too (use the overload with memory).</summary>
    public override Tensor Forward(Tensor input) =>
        throw new NotSupportedException("TransformerDecoder: Forward needs the target and the memory: call Forward(tgt, memory, ...).");

    /// <summary>Runs every layer with the same memory and masks (see <see cref="TransformerDecoderLayer"/>), then the norm.</summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false)
    {
        var x = tgt;
        foreach (TransformerDecoderLayer layer in Layers)
            x = layer.Forward(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal);
        return Norm is null ? x : Norm.Forward(x);
    }
}
