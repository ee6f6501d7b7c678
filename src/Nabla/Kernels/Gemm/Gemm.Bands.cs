using System.Numerics;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// Bands of C: a product the threads would otherwise share through one packing buffer (pack, wait for every thread,
// multiply) is cut into bands of whole panels, one per thread (2 or 4 per thread for a tall A), and each thread
// multiplies its bands alone, each a product of its own that streams B. No thread waits for another between packing
// and multiplying, and none reads a panel from the other core's cache; the operand every band needs whole (B for row
// bands, A for column bands) is packed once per band instead of once. Taken only where each band streams B: its B
// panels are packed right before use, in its core's L2. An element of C goes through the same operations in any band,
// so the results are the bits of the shared path.
public static partial class Gemm
{
    /// <summary>Tests set it to false to keep every product on the shared path (the results are the same bits).</summary>
    internal static bool s_bands = true;

    /// <summary>Fewest MR panels in a row band: each band packs all of B, so a band must do enough work per element.</summary>
    private const int MinBandRowPanels = 4;

    /// <summary>Fewest MR panels in a row band when there are more bands than threads (256 rows: B's copy ≤ ~5% of the band's time).</summary>
    private const int MinRepackRowPanels = 32;

    /// <summary>
    /// Shortest k for bands: a product with a short k is bound by writing C, and bands made it slower (2 threads,
    /// interleaved: the LSTM's input projection 1792x512x28 281 → 228 GFLOP/s, 2048x256x32 280 → 265; k 64-128 within
    /// −1..−5%); every gain measured had k ≥ 256.
    /// </summary>
    private const int MinBandDepth = 256;

    /// <summary>
    /// Whether <see cref="Packed{T}"/> runs a threaded product as bands of C: row bands (each packs all of
    /// B) when m ≥ n, column bands (each packs all of A) otherwise, the operand packed several times being the smaller.
    /// Measured (Zen 5, 2 threads, interleaved in one process): 256³ 270 → 349 GFLOP/s, 512³ 321 → 348, NT 128x512x784
    /// 303-311 → 333, 1024³ 338 → 363. Where a thread's band of A is too large to stream (2048³: 8 MiB), there are
    /// 2 or 4 bands per thread, each repacking B: 1536³ 337 → 359, 2048³ 343 → 365; otherwise, and for a short k
    /// (<see cref="MinBandDepth"/>), the shared path.
    /// </summary>
    private static bool SplitsIntoBands<T>(int m, int n, int k, out bool rows, out int bands) where T : unmanaged
    {
        int w = Vector512<T>.Count, nr = NV * w, mPanels = (m + MR - 1) / MR, nPanels = (n + nr - 1) / nr;
        int nPadW = (nPanels - 1) * nr + (n - (nPanels - 1) * nr + w - 1) / w * w;
        rows = m >= n;
        bands = Math.Min(Threading.MaxThreads, rows ? mPanels / MinBandRowPanels : nPanels / 2);
        // inside another kernel's parallel part the bands would run one after another, each repacking its shared operand
        if (!s_bands || bands < 2 || k < MinBandDepth || Threading.InsidePart) return false;
        int perBand = ((rows ? mPanels : nPanels) + bands - 1) / bands;
        // tall A: twice or four times as many row bands, while a band keeps enough rows to pay for its copy of B
        for (int more = 1; rows && more < 4 && !StreamsB<T>(perBand * MR, nPanels, nPadW, k)
            && mPanels / (2 * bands) >= MinRepackRowPanels; more *= 2)
        {
            bands *= 2;
            perBand = (mPanels + bands - 1) / bands;
        }
        return rows ? StreamsB<T>(perBand * MR, nPanels, nPadW, k) : StreamsB<T>(mPanels * MR, perBand, perBand * nr, k);
    }

    /// <summary>Band <c>i</c> of <c>bands</c>: a contiguous range of whole panels, multiplied on the calling thread.</summary>
    private readonly unsafe struct BandBody<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb,
        T beta, T* c, int ldc, T* bias, bool relu, bool rows, int bands) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int band)
        {
            int width = rows ? MR : NV * Vector512<T>.Count, length = rows ? m : n, panels = (length + width - 1) / width;
            int from = (int)((long)panels * band / bands) * width, to = Math.Min(length, (int)((long)panels * (band + 1) / bands) * width);
            if (rows)
            {
                T* aBand = transA ? a + from : a + (long)from * lda;
                Packed(transA, transB, to - from, n, k, alpha, aBand, lda, b, ldb, beta, c + (long)from * ldc, ldc, false, bias, relu);
            }
            else
            {
                T* bBand = transB ? b + (long)from * ldb : b + from;
                Packed(transA, transB, m, to - from, k, alpha, a, lda, bBand, ldb, beta, c + from, ldc, false,
                    bias is null ? null : bias + from, relu);
            }
        }
    }
}
