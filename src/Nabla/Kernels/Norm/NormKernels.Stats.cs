using System.Numerics;

namespace Nabla.Kernels;

// The statistics of one normalisation unit (a BatchNorm channel, a GroupNorm group, a LayerNorm row).
internal static partial class NormKernels
{
    /// <summary>Elements per chunk of the two-level variance: a chunk (16 KiB of float32) stays in L1 between its two passes.</summary>
    public const int Chunk = 4096;

    /// <summary>
    /// Mean and M2 = Σ(x − mean)² of the unit made of <paramref name="segCount"/> segments
    /// x[k·segStride .. k·segStride + segLen). Two levels: each chunk of at most <see cref="Chunk"/> elements gets a
    /// corrected two-pass mean and M2 (Chan, Golub and LeVeque; the second pass reads L1, so memory is read once),
    /// with the chunk's partial sums in T and the correction in float64; the chunks are merged in float64 with
    /// Chan's formula. So float32 data keeps its mean to ~1e-7·σ (not ·|mean|) and M2 to ~1e-7 relative, at any size.
    /// The chunking depends on the sizes only, so the result is the same on any thread count.
    /// </summary>
    public static (double Mean, double M2) Moments<T>(ReadOnlySpan<T> x, int segCount, int segStride, int segLen)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double count = 0, mean = 0, m2 = 0;
        for (int k = 0; k < segCount; k++)
        {
            for (int off = 0; off < segLen; off += Chunk)
            {
                int len = Math.Min(Chunk, segLen - off);
                var c = x.Slice(k * segStride + off, len);
                T cm = Sum(c) / T.CreateTruncating(len);
                var (d1, d2) = SumDevSq(c, cm);
                double dev = double.CreateTruncating(d1);
                Merge(ref count, ref mean, ref m2, len, double.CreateTruncating(cm) + dev / len, double.CreateTruncating(d2) - dev * dev / len);
            }
        }
        return (mean, m2);
    }

    /// <summary>Chan et al.'s pairwise update: merges (nb, meanB, m2B) into the running (n, mean, m2).</summary>
    public static void Merge(ref double n, ref double mean, ref double m2, double nb, double meanB, double m2B)
    {
        double total = n + nb;
        if (total == 0) return;
        double delta = meanB - mean;
        mean += delta * (nb / total);
        m2 += m2B + delta * delta * (n * nb / total);
        n = total;
    }
}
