using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// A lookup table of learnable vectors, PyTorch's <c>nn.Embedding</c>: parameter <c>weight</c> (N, D) initialised
/// from N(0, 1), the row padding_idx zeroed and never updated (it receives no gradient). max_norm
/// is not supported. Indices are integer-valued tensors (as class targets). Shape: (*) → (*, D).
/// </summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null, DType dtype = DType.Float32, Generator? generator = null)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numEmbeddings), $"Embedding: num_embeddings and embedding_dim must be positive, got {numEmbeddings} and {embeddingDim}.");
        if (paddingIdx is int p)
        {
            if (p < -numEmbeddings || p >= numEmbeddings)
                throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"Embedding: padding_idx {p} is out of range for {numEmbeddings} embeddings.");
            paddingIdx = p < 0 ? p + numEmbeddings : p;
        }
        (NumEmbeddings, EmbeddingDim, PaddingIdx) = (numEmbeddings, embeddingDim, paddingIdx);
        var w = Tensor.Randn([numEmbeddings, embeddingDim], dtype, generator);
        if (paddingIdx is int pad) w.Narrow(0, pad, 1).CopyFrom(Tensor.Zeros([1, embeddingDim], dtype));
        Weight = RegisterParameter("weight", new Parameter(w))!;
    }

    /// <summary>Rows of the table.</summary>
    public int NumEmbeddings { get; }

    /// <summary>Features of each row.</summary>
    public int EmbeddingDim { get; }

    /// <summary>The row that gets no gradient (normalised to non-negative), or null.</summary>
    public int? PaddingIdx { get; }

    /// <summary>The table. Shape: (num_embeddings, embedding_dim).</summary>
    public Parameter Weight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.Embedding(Weight, input, PaddingIdx);

    /// <inheritdoc/>
    protected override string ExtraRepr() =>
        string.Create(CultureInfo.InvariantCulture, $"{NumEmbeddings}, {EmbeddingDim}{(PaddingIdx is int p ? $", padding_idx={p}" : "")}");
}
