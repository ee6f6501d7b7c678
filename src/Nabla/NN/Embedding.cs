using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// A lookup table of learnable vectors, PyTorch's <c>nn.Embedding</c>: parameter <c>weight</c> (N, D) initialised
/// from N(0, 1), the row padding_idx zeroed and never updated (it receives no gradient). With max_norm, every row
/// looked up whose norm_type-norm exceeds max_norm is renormalised in place first; with scale_grad_by_freq, row
/// gradients are divided by the index's frequency in the batch (see <see cref="Tensor.Embedding"/>). Indices are
/// integer-valued tensors (as class targets). Shape: (*) → (*, D).
/// </summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table.</summary>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx = null, double? maxNorm = null, double normType = 2,
        bool scaleGradByFreq = false, DType dtype = DType.Float32, Generator? generator = null)
        : this(numEmbeddings, embeddingDim, paddingIdx, maxNorm, normType, scaleGradByFreq, null, dtype, generator) { }

    private Embedding(int numEmbeddings, int embeddingDim, int? paddingIdx, double? maxNorm, double normType, bool scaleGradByFreq,
        Parameter? weight, DType dtype, Generator? generator)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numEmbeddings), $"Embedding: num_embeddings and embedding_dim must be positive, got {numEmbeddings} and {embeddingDim}.");
        if (paddingIdx is int p)
        {
            if (p < -numEmbeddings || p >= numEmbeddings)
                throw new ArgumentOutOfRangeException(nameof(paddingIdx), $"Embedding: padding_idx {p} is out of range for {numEmbeddings} embeddings.");
            paddingIdx = p < 0 ? p + numEmbeddings : p;
        }
        if (maxNorm is double m && !(m >= 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), $"Embedding: max_norm must be ≥ 0, got {m}.");
        if (double.IsNaN(normType)) throw new ArgumentOutOfRangeException(nameof(normType), "Embedding: norm_type must be a number, got NaN.");
        (NumEmbeddings, EmbeddingDim, PaddingIdx, MaxNorm, NormType, ScaleGradByFreq) = (numEmbeddings, embeddingDim, paddingIdx, maxNorm, normType, scaleGradByFreq);
        if (weight is null)
        {
            var w = Tensor.Randn([numEmbeddings, embeddingDim], dtype, generator);
            if (paddingIdx is int pad) w.Narrow(0, pad, 1).CopyFrom(Tensor.Zeros([1, embeddingDim], dtype));
            weight = new Parameter(w);
        }
        Weight = RegisterParameter("weight", weight)!;
    }

    /// <summary>
    /// A table holding <paramref name="embeddings"/>' values (copied), as PyTorch's <c>Embedding.from_pretrained</c>:
    /// frozen (no gradient) unless <paramref name="freeze"/> is false; the padding row is kept as given.
    /// Shape: embeddings (num_embeddings, embedding_dim).
    /// </summary>
    public static Embedding FromPretrained(Tensor embeddings, bool freeze = true, int? paddingIdx = null, double? maxNorm = null, double normType = 2,
        bool scaleGradByFreq = false)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Rank != 2) throw new ArgumentException($"Embedding.FromPretrained: embeddings must be 2-D (num_embeddings, embedding_dim), got {ShapeUtil.Format(embeddings.Shape)}.");
        var w = new Parameter(embeddings.Detach().Clone(), requiresGrad: !freeze);
        return new Embedding(embeddings.Shape[0], embeddings.Shape[1], paddingIdx, maxNorm, normType, scaleGradByFreq, w, embeddings.DType, null);
    }

    /// <summary>Rows of the table.</summary>
    public int NumEmbeddings { get; }

    /// <summary>Features of each row.</summary>
    public int EmbeddingDim { get; }

    /// <summary>The row that gets no gradient (normalised to non-negative), or null.</summary>
    public int? PaddingIdx { get; }

    /// <summary>Rows looked up with a larger <see cref="NormType"/>-norm are renormalised to it in place, or null.</summary>
    public double? MaxNorm { get; }

    /// <summary>The p of the norm <see cref="MaxNorm"/> bounds (2 by default).</summary>
    public double NormType { get; }

    /// <summary>Whether row gradients are divided by their index's frequency in the batch.</summary>
    public bool ScaleGradByFreq { get; }

    /// <summary>The table. Shape: (num_embeddings, embedding_dim).</summary>
    public Parameter Weight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.Embedding(Weight, input, PaddingIdx, MaxNorm, NormType, ScaleGradByFreq);

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture,
        $"{NumEmbeddings}, {EmbeddingDim}{(PaddingIdx is int p ? $", padding_idx={p}" : "")}{(MaxNorm is double m ? $", max_norm={Py(m)}" : "")}{(NormType != 2 ? $", norm_type={Py(NormType)}" : "")}{(ScaleGradByFreq ? ", scale_grad_by_freq=True" : "")}");

    private static string Py(double v) => v == Math.Floor(v) && Math.Abs(v) < 1e15 ? v.ToString("0.0", CultureInfo.InvariantCulture)
        : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : v.ToString("R", CultureInfo.InvariantCulture);
}
