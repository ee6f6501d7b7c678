using System.Globalization;

namespace Nabla.NN;

/// <summary>
/// Rotary position embedding (RoPE, Su et al. 2021), applied to queries and keys before attention, in the
/// rotate-half convention of GPT-NeoX and LLaMA (Hugging Face's <c>apply_rotary_pos_emb</c>): the first
/// <see cref="Dim"/> features of each head are split into halves x₁ = x[..., :dim/2], x₂ = x[..., dim/2:], and feature
/// pair (i, i + dim/2) at position p is rotated by the angle p·θᵢ, θᵢ = base^(−2i/dim):
/// y = x·cos(pθ) + rotate_half(x)·sin(pθ), rotate_half(x) = cat(−x₂, x₁). (The GPT-J / original-paper convention
/// rotates adjacent pairs (2i, 2i+1) instead; weights trained one way need their q/k rows permuted to use the other.)
/// Features past <see cref="Dim"/> pass unchanged (NeoX's partial rotary). So q·k depends on positions only through
/// their difference. No parameters. Shape: (*, L, head_dim) → the same; head_dim ≥ dim, positions offset .. offset + L − 1.
/// </summary>
public sealed class RotaryEmbedding : Module
{
    private readonly double[] _invFreq;
    private Tensor? _cos32, _sin32, _cos64, _sin64;

    /// <summary>Creates the rotation for <paramref name="dim"/> features (even) per head.</summary>
    public RotaryEmbedding(int dim, double @base = 10000)
    {
        if (dim <= 0 || dim % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(dim), $"RotaryEmbedding: dim must be positive and even, got {dim}.");
        if (!(@base > 0) || double.IsInfinity(@base))
            throw new ArgumentOutOfRangeException(nameof(@base), $"RotaryEmbedding: base must be a positive number, got {@base}.");
        (Dim, Base) = (dim, @base);
        _invFreq = new double[dim / 2];
        for (int i = 0; i < dim / 2; i++) _invFreq[i] = Math.Pow(@base, -2.0 * i / dim);
    }

    /// <summary>Rotated features per head (the rest pass unchanged).</summary>
    public int Dim { get; }

    /// <summary>The frequency base (10000 in the paper, GPT-NeoX and LLaMA).</summary>
    public double Base { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, 0);

    /// <summary>Rotates <paramref name="input"/>'s positions <paramref name="offset"/> .. offset + L − 1 (L = input.Shape[^2]).</summary>
    public Tensor Forward(Tensor input, int offset)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank < 2 || input.Shape[^1] < Dim)
            throw new ArgumentException($"RotaryEmbedding: expected input of shape (*, L, head_dim) with head_dim ≥ {Dim}, got {ShapeUtil.Format(input.Shape)}.");
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), $"RotaryEmbedding: offset must be ≥ 0, got {offset}.");
        int len = input.Shape[^2], half = Dim / 2;
        var (cos, sin) = Tables(input.DType, offset + len);
        cos = cos.Narrow(0, offset, len);
        sin = sin.Narrow(0, offset, len);
        var x = input.Shape[^1] == Dim ? input : input.Narrow(-1, 0, Dim);
        var rotated = Tensor.Cat([-x.Narrow(-1, half, half), x.Narrow(-1, 0, half)], -1);
        var y = x * cos + rotated * sin;
        return input.Shape[^1] == Dim ? y : Tensor.Cat([y, input.Narrow(-1, Dim, input.Shape[^1] - Dim)], -1);
    }

    /// <summary>Rotates queries and keys at the same positions (as before <see cref="Tensor.MatMul(Tensor, Tensor)"/> of q·kᵀ).</summary>
    public (Tensor Q, Tensor K) Apply(Tensor q, Tensor k, int offset = 0) => (Forward(q, offset), Forward(k, offset));

    /// <summary>cos and sin of p·θ for p below at least <paramref name="positions"/>, each column i and i + dim/2 alike. Shape: (P, dim) each.</summary>
    private (Tensor Cos, Tensor Sin) Tables(DType dtype, int positions)
    {
        if (dtype is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"RotaryEmbedding: expected a float32 or float64 input, got {dtype.Name()}.");
        var (cos, sin) = dtype == DType.Float32 ? (_cos32, _sin32) : (_cos64, _sin64);
        if (cos is not null && cos.Shape[0] >= positions) return (cos, sin!);
        int p = Math.Max(positions, Math.Max(64, 2 * (cos?.Shape[0] ?? 0)));
        var c = new double[p * Dim];
        var s = new double[p * Dim];
        for (int pos = 0; pos < p; pos++)
            for (int j = 0; j < Dim; j++)
            {
                double angle = pos * _invFreq[j % (Dim / 2)];
                c[pos * Dim + j] = Math.Cos(angle);
                s[pos * Dim + j] = Math.Sin(angle);
            }
        if (dtype == DType.Float32)
        {
            _cos32 = Tensor.FromArray(c.Select(v => (float)v).ToArray(), p, Dim);
            _sin32 = Tensor.FromArray(s.Select(v => (float)v).ToArray(), p, Dim);
            return (_cos32, _sin32);
        }
        _cos64 = Tensor.FromArray(c, p, Dim);
        _sin64 = Tensor.FromArray(s, p, Dim);
        return (_cos64, _sin64);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Create(CultureInfo.InvariantCulture, $"dim={Dim}, base={Base}");
}
