using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// Adds the fixed sinusoidal position code of "Attention Is All You Need" (the PyTorch tutorial's
/// <c>PositionalEncoding</c>) and applies dropout: PE(pos, 2i) = sin(pos / 10000^(2i/d_model)),
/// PE(pos, 2i+1) = cos(pos / 10000^(2i/d_model)). The table is computed, not learned, and is not in the state dict.
/// Positions start at <c>offset</c> (for decoding one step at a time).
/// Shape: (L, N, E), or (N, L, E) with batchFirst, or unbatched (L, E) → the same; E = d_model, L + offset ≤ max_len.
/// </summary>
public sealed class SinusoidalPositionalEncoding : Module
{
    private readonly double[] _table;
    private Tensor? _float32, _float64;

    /// <summary>Creates the code for positions 0 .. <paramref name="maxLen"/> − 1.</summary>
    public SinusoidalPositionalEncoding(int dModel, double dropout = 0.1, int maxLen = 5000, bool batchFirst = false, Generator? generator = null)
    {
        if (dModel <= 0 || maxLen <= 0)
            throw new ArgumentOutOfRangeException(nameof(dModel), $"SinusoidalPositionalEncoding: d_model and max_len must be positive, got {dModel} and {maxLen}.");
        (DModel, MaxLen, BatchFirst) = (dModel, maxLen, batchFirst);
        Dropout = RegisterModule("dropout", new Dropout(dropout, generator));
        _table = new double[(long)maxLen * dModel];
        for (int pos = 0; pos < maxLen; pos++)
            for (int j = 0; j < dModel; j++)
            {
                // column pairs (2i, 2i+1) share the frequency 10000^(−2i/d)
                double angle = pos * Math.Exp(-(j & ~1) * Math.Log(10000.0) / dModel);
                _table[(long)pos * dModel + j] = (j & 1) == 0 ? Math.Sin(angle) : Math.Cos(angle);
            }
    }

    /// <summary>Features per position.</summary>
    public int DModel { get; }

    /// <summary>Positions the table covers.</summary>
    public int MaxLen { get; }

    /// <summary>Whether 3-D inputs are (N, L, E) instead of (L, N, E).</summary>
    public bool BatchFirst { get; }

    /// <summary>The dropout applied after the addition.</summary>
    public Dropout Dropout { get; }

    /// <summary>The code for positions 0 .. max_len − 1 in <paramref name="dtype"/> (float32 or float64). Shape: (max_len, d_model).</summary>
    public Tensor Table(DType dtype = DType.Float32) => dtype switch
    {
        DType.Float32 => _float32 ??= Tensor.FromArray(_table.Select(v => (float)v).ToArray(), MaxLen, DModel),
        DType.Float64 => _float64 ??= Tensor.FromArray(_table, MaxLen, DModel),
        _ => throw new ArgumentException($"SinusoidalPositionalEncoding: expected a float32 or float64 input, got {dtype.Name()}."),
    };

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, 0);

    /// <summary>Adds the code of positions <paramref name="offset"/> .. offset + L − 1, then dropout.</summary>
    public Tensor Forward(Tensor input, int offset)
    {
        ArgumentNullException.ThrowIfNull(input);
        int seqDim = PositionTables.SequenceDim("SinusoidalPositionalEncoding", input, DModel, BatchFirst);
        int len = input.Shape[seqDim];
        PositionTables.CheckRange("SinusoidalPositionalEncoding", offset, len, MaxLen);
        var pe = Table(input.DType).Narrow(0, offset, len);
        if (input.Rank == 3) pe = pe.Unsqueeze(BatchFirst ? 0 : 1);
        return Dropout.Forward(input + pe);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"d_model={DModel}, max_len={MaxLen}{(BatchFirst ? ", batch_first=True" : "")}");
}

/// <summary>
/// A learned position table added to the input, as GPT-2's <c>wpe</c>: an <see cref="Embedding"/> of positions whose
/// parameter is <c>weight</c> (max_len, d_model), initialised from N(0, 1) like nn.Embedding. Positions start at
/// <c>offset</c>. Shape: (L, N, E), or (N, L, E) with batchFirst, or unbatched (L, E) → the same; L + offset ≤ max_len.
/// </summary>
public sealed class LearnedPositionalEmbedding : Module
{
    /// <summary>Creates the table for positions 0 .. <paramref name="maxLen"/> − 1.</summary>
    public LearnedPositionalEmbedding(int maxLen, int dModel, bool batchFirst = false, DType dtype = DType.Float32, Generator? generator = null)
    {
        if (dModel <= 0 || maxLen <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxLen), $"LearnedPositionalEmbedding: max_len and d_model must be positive, got {maxLen} and {dModel}.");
        (MaxLen, DModel, BatchFirst) = (maxLen, dModel, batchFirst);
        Weight = RegisterParameter("weight", new Parameter(Tensor.Randn([maxLen, dModel], dtype, generator)))!;
    }

    /// <summary>Positions the table covers.</summary>
    public int MaxLen { get; }

    /// <summary>Features per position.</summary>
    public int DModel { get; }

    /// <summary>Whether 3-D inputs are (N, L, E) instead of (L, N, E).</summary>
    public bool BatchFirst { get; }

    /// <summary>The table. Shape: (max_len, d_model).</summary>
    public Parameter Weight { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, 0);

    /// <summary>Adds the rows of positions <paramref name="offset"/> .. offset + L − 1 (only they receive gradient).</summary>
    public Tensor Forward(Tensor input, int offset)
    {
        ArgumentNullException.ThrowIfNull(input);
        int seqDim = PositionTables.SequenceDim("LearnedPositionalEmbedding", input, DModel, BatchFirst);
        int len = input.Shape[seqDim];
        PositionTables.CheckRange("LearnedPositionalEmbedding", offset, len, MaxLen);
        var pe = Weight.Narrow(0, offset, len);
        if (input.Rank == 3) pe = pe.Unsqueeze(BatchFirst ? 0 : 1);
        return input + pe;
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"{MaxLen}, {DModel}{(BatchFirst ? ", batch_first=True" : "")}");
}

internal static class PositionTables
{
    /// <summary>The sequence dim of a (L, N, E) / (N, L, E) / (L, E) input, after checking its rank and E.</summary>
    public static int SequenceDim(string module, Tensor input, int dModel, bool batchFirst)
    {
        if (input.Rank is not (2 or 3) || input.Shape[^1] != dModel)
            throw new ArgumentException($"{module}: expected input of shape {(batchFirst ? "(N, L, " : "(L, N, ")}{dModel}) or (L, {dModel}), got {ShapeUtil.Format(input.Shape)}.");
        return input.Rank == 3 && batchFirst ? 1 : 0;
    }

    public static void CheckRange(string module, int offset, int len, int maxLen)
    {
        if (offset < 0 || offset + len > maxLen)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{module}: positions [{offset}, {offset + len}) do not fit max_len {maxLen}.");
    }
}
