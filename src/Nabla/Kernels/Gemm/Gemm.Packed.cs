using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

public static partial class Gemm
{
    /// <summary>Rows of the register tile (and of a packed A panel).</summary>
    private const int MR = 8;

    /// <summary>Vectors across the register tile: the tile is MR x (NV * Vector512&lt;T&gt;.Count).</summary>
    private const int NV = 3;

    /// <summary>Longest k block: a packed A panel (MR x kc) stays in L1, a B block (kc x NC) in L2.</summary>
    private static int KcMax<T>() => typeof(T) == typeof(float) ? 320 : 256;

    /// <summary>Largest packed copy of A and B (elements) before a product is split; settable by tests.</summary>
    internal static long s_maxPackedElements = 1L << 25;

    /// <summary>Most MR panels (rows) and NR panels (columns) in one tile of C.</summary>
    private const int TileMPanels = 16, TileNPanels = 8;

    /// <summary>
    /// The blocked path. A and B are packed whole (k blocks of at most KcMax) into MR-row and NR-column panels, then C is
    /// cut into tiles processed independently; a short, wide product packs only A up front and streams B, one panel per
    /// tile (<see cref="StreamsB{T}"/>), and a threaded one whose bands would stream B runs one band of C per thread
    /// (<see cref="SplitsIntoBands{T}"/>). An element of C always gets, for each k block in order, one
    /// fused-multiply-add chain over that block, then <c>c = alpha * acc + (first block ? beta * c : c)</c>: the same
    /// whatever the tiling or the thread count.
    /// </summary>
    private static unsafe void Packed<T>(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb,
        T beta, T* c, int ldc, bool threads, T* bias = null, bool relu = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Very large products are cut into column (or row) halves at panel boundaries: each element of C still goes
        // through exactly the same operations, and the packing buffers stay bounded.
        int nr = NV * Vector512<T>.Count;
        long packed = (long)k * ((m + MR - 1) / MR * MR + (n + nr - 1) / nr * nr);
        if (packed > s_maxPackedElements && (n > nr || m > MR))
        {
            if (n >= m && n > nr || m <= MR)
            {
                int left = (n / 2 + nr - 1) / nr * nr;
                Packed(transA, transB, m, left, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, bias, relu);
                T* bRight = transB ? b + (long)left * ldb : b + left;
                Packed(transA, transB, m, n - left, k, alpha, a, lda, bRight, ldb, beta, c + left, ldc, threads,
                    bias is null ? null : bias + left, relu);
            }
            else
            {
                int top = (m / 2 + MR - 1) / MR * MR;
                Packed(transA, transB, top, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, bias, relu);
                T* aBottom = transA ? a + top : a + (long)top * lda;
                Packed(transA, transB, m - top, n, k, alpha, aBottom, lda, b, ldb, beta, c + (long)top * ldc, ldc, threads, bias, relu);
            }
            return;
        }

        if (threads && SplitsIntoBands<T>(m, n, k, out bool rows, out int bands))
        {
            Threading.For(bands, new BandBody<T>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu, rows, bands));
            return;
        }

        var plan = new PackedPlan<T>(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, relu);
        if (threads)
        {
            Threading.For(plan.PackParts, new PackBody<T>(plan));
            Threading.For(plan.Tiles, new TileBody<T>(plan));
        }
        else
        {
            for (int i = 0; i < plan.PackParts; i++) plan.Pack(i);
            for (int i = 0; i < plan.Tiles; i++) plan.Tile(i);
        }
    }

    /// <summary>The calling thread's packing buffer (pinned: the parts hold pointers into it), reused so a call allocates nothing.</summary>
    private static class PackBuffer<T> where T : unmanaged
    {
        [ThreadStatic] private static T[]? t_buffer;

        public static unsafe T* Get(long length)
        {
            var b = t_buffer;
            if (b is null || b.Length < length)
            {
                t_buffer = null;
                t_buffer = b = GC.AllocateUninitializedArray<T>(checked((int)length), pinned: true);
            }
            return (T*)Unsafe.AsPointer(ref b[0]);
        }
    }

    /// <summary>A thread's streamed B panel (pinned, reused), tagged with the product and panel it holds.</summary>
    private static class StreamBuffer<T> where T : unmanaged
    {
        [ThreadStatic] private static T[]? t_buffer;
        [ThreadStatic] private static int t_plan, t_panel;

        public static unsafe T* Get(long length, int plan, int panel, out bool ready)
        {
            var b = t_buffer;
            if (b is null || b.Length < length + 64 / sizeof(T))
            {
                t_buffer = null;
                t_buffer = b = GC.AllocateUninitializedArray<T>(checked((int)length) + 64 / sizeof(T), pinned: true);
                t_plan = 0;
            }
            ready = t_plan == plan && t_panel == panel;
            t_plan = plan;
            t_panel = panel;
            return (T*)(((nint)Unsafe.AsPointer(ref b[0]) + 63) & ~(nint)63);
        }
    }

    private readonly struct PackBody<T>(PackedPlan<T> plan) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int part) => plan.Pack(part);
    }

    private readonly struct TileBody<T>(PackedPlan<T> plan) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Invoke(int tile) => plan.Tile(tile);
    }

    /// <summary>One blocked product: its operands, panel layout in the packing buffer, packing parts and tiles of C.</summary>
    private readonly unsafe struct PackedPlan<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public readonly int PackParts, Tiles;

        private readonly T* _pa, _pb;
        private readonly bool _transA, _transB;
        private readonly int _m, _n, _k, _lda, _ldb, _ldc;
        private readonly T _alpha, _beta;
        private readonly T* _a, _b, _c, _bias;
        private readonly bool _relu;
        private readonly int _kc, _kBlocks, _mPanels, _nPanels, _nr, _lastW, _mPad, _nPadW;
        private readonly int _aParts, _bParts, _aPanelsPerPart, _bPanelsPerPart;
        private readonly int _tileM, _tileN, _tilesM, _tilesN;
        private readonly bool _aMajor;
        private readonly bool _streamB;
        private readonly int _id;

        public PackedPlan(bool transA, bool transB, int m, int n, int k, T alpha, T* a, int lda, T* b, int ldb, T beta, T* c, int ldc,
            T* bias, bool relu)
        {
            _bias = bias;
            _relu = relu;
            (_transA, _transB, _m, _n, _k, _alpha, _beta) = (transA, transB, m, n, k, alpha, beta);
            (_lda, _ldb, _ldc) = (lda, ldb, ldc);
            _a = a;
            _b = b;
            _c = c;
            int w = Vector512<T>.Count;
            _nr = NV * w;
            _kBlocks = (k + KcMax<T>() - 1) / KcMax<T>();
            _kc = (k + _kBlocks - 1) / _kBlocks;
            _mPanels = (m + MR - 1) / MR;
            _mPad = _mPanels * MR;
            _nPanels = (n + _nr - 1) / _nr;
            _lastW = (n - (_nPanels - 1) * _nr + w - 1) / w * w;
            _nPadW = (_nPanels - 1) * _nr + _lastW;

            _streamB = StreamsB<T>(_mPad, _nPanels, _nPadW, k);
            _id = Interlocked.Increment(ref s_planIds);
            T* p0 = PackBuffer<T>.Get((long)k * (_mPad + (_streamB ? 0 : _nPadW)) + 2 * 64 / sizeof(T));
            _pa = (T*)(((nint)p0 + 63) & ~(nint)63);
            _pb = (T*)(((nint)(_pa + (long)k * _mPad) + 63) & ~(nint)63);

            // Packing parts: groups of A panels, then groups of B panels.
            _aParts = Math.Min(_mPanels, 8);
            _aPanelsPerPart = (_mPanels + _aParts - 1) / _aParts;
            _aParts = (_mPanels + _aPanelsPerPart - 1) / _aPanelsPerPart;
            _bParts = Math.Min(_nPanels, 8);
            _bPanelsPerPart = (_nPanels + _bParts - 1) / _bParts;
            _bParts = (_nPanels + _bPanelsPerPart - 1) / _bPanelsPerPart;
            PackParts = _streamB ? _aParts : _aParts + _bParts;

            if (_streamB)
            {
                // one B panel per tile column, A in two halves (tiles of one panel follow each other: a thread that takes
                // both packs the panel once)
                _aMajor = false;
                _tileN = 1;
                _tileM = _mPanels >= 4 ? (_mPanels + 1) / 2 : _mPanels;
                _tilesM = (_mPanels + _tileM - 1) / _tileM;
                _tilesN = _nPanels;
                Tiles = _tilesM * _tilesN;
                return;
            }
            // Tiles of C: at most TileMPanels x TileNPanels panels. The larger packed operand is the major one: tiles go
            // along it first and its packing parts are spread through the part list in the same order, so the contiguous
            // block of parts a thread owns in both calls covers the same panels, and the thread that packs a panel is
            // the one that reads it (a line another core wrote is read at less than half the speed of a local one).
            // B is major only when it is larger and has more than one group of columns; then C is cut into at least
            // 16 tiles, so that the threads, taking whole tiles, even out unequal column groups (the last panel is
            // narrower).
            int groupsM = (_mPanels + TileMPanels - 1) / TileMPanels, groupsN = (_nPanels + TileNPanels - 1) / TileNPanels;
            _aMajor = _mPad >= _nPadW || groupsN == 1;
            int minTiles = _aMajor ? 8 : 16;
            while (groupsM * groupsN < minTiles && groupsM < _mPanels && (_mPanels + groupsM) / (groupsM + 1) >= 2) groupsM++;
            _tileM = (_mPanels + groupsM - 1) / groupsM;
            _tileN = (_nPanels + groupsN - 1) / groupsN;
            _tilesM = (_mPanels + _tileM - 1) / _tileM;
            _tilesN = (_nPanels + _tileN - 1) / _tileN;
            Tiles = _tilesM * _tilesN;
        }

        /// <summary>
        /// Which packing job part <paramref name="part"/> is: the major operand's parts and the minor one's merged in
        /// the order of their centres (part i of c at (i + 0.5) / c), so each stretch of the part list packs matching
        /// stretches of both operands.
        /// </summary>
        private (bool IsA, int Group) PackJob(int part)
        {
            if (_streamB) return (true, part);
            int major = _aMajor ? _aParts : _bParts, minor = _aMajor ? _bParts : _aParts;
            for (int q = 0, i = 0, j = 0; ; q++)
            {
                // the next part is the major operand's i-th while its centre comes first
                bool takeMajor = j >= minor || (i < major && (2L * i + 1) * minor <= (2L * j + 1) * major);
                if (q == part) return takeMajor ? (_aMajor, i) : (!_aMajor, j);
                if (takeMajor) i++;
                else j++;
            }
        }

        private int BlockLength(int kb) => Math.Min(_kc, _k - kb * _kc);

        public void Pack(int part)
        {
            var (isA, group) = PackJob(part);
            if (isA)
            {
                int first = group * _aPanelsPerPart, last = Math.Min(_mPanels, first + _aPanelsPerPart);
                for (int kb = 0; kb < _kBlocks; kb++)
                {
                    int p0 = kb * _kc, kc = BlockLength(kb);
                    T* block = _pa + (long)p0 * _mPad;
                    for (int ip = first; ip < last; ip++)
                    {
                        int i0 = ip * MR, rows = Math.Min(MR, _m - i0);
                        T* dst = block + (long)ip * MR * kc;
                        if (_transA) CopyPanel(_a + (long)p0 * _lda + i0, _lda, kc, rows, dst, MR);
                        else TransposePanel(_a + (long)i0 * _lda + p0, _lda, rows, kc, dst, MR);
                    }
                }
            }
            else
            {
                int first = group * _bPanelsPerPart, last = Math.Min(_nPanels, first + _bPanelsPerPart);
                for (int kb = 0; kb < _kBlocks; kb++)
                {
                    int p0 = kb * _kc, kc = BlockLength(kb);
                    T* block = _pb + (long)p0 * _nPadW;
                    for (int jp = first; jp < last; jp++)
                    {
                        int j0 = jp * _nr, cols = Math.Min(_nr, _n - j0), width = jp == _nPanels - 1 ? _lastW : _nr;
                        T* dst = block + (long)jp * _nr * kc;
                        if (_transB) TransposePanel(_b + (long)j0 * _ldb + p0, _ldb, cols, kc, dst, width);
                        else CopyPanel(_b + (long)p0 * _ldb + j0, _ldb, kc, cols, dst, width);
                    }
                }
            }
        }

        /// <summary>B panel jp, every k block (block kb at kb·kc·nr), in the calling thread's streamed-panel buffer.</summary>
        private T* LocalPanel(int jp)
        {
            T* local = StreamBuffer<T>.Get((long)_k * _nr, _id, jp, out bool ready);
            if (ready) return local;
            int j0 = jp * _nr, cols = Math.Min(_nr, _n - j0), width = jp == _nPanels - 1 ? _lastW : _nr;
            for (int kb = 0; kb < _kBlocks; kb++)
            {
                int p0 = kb * _kc, kc = BlockLength(kb);
                T* dst = local + (long)p0 * _nr;
                if (_transB) TransposePanel(_b + (long)j0 * _ldb + p0, _ldb, cols, kc, dst, width);
                else CopyPanel(_b + (long)p0 * _ldb + j0, _ldb, kc, cols, dst, width);
            }
            return local;
        }

        public void Tile(int tile)
        {
            var (ti, tj) = _aMajor ? (tile / _tilesN, tile % _tilesN) : (tile % _tilesM, tile / _tilesM);
            int ipFirst = ti * _tileM, ipLast = Math.Min(_mPanels, ipFirst + _tileM);
            int jpFirst = tj * _tileN, jpLast = Math.Min(_nPanels, jpFirst + _tileN);
            int w = Vector512<T>.Count;
            T* tmp = stackalloc T[MR * NV * 64 / sizeof(T)];
            // streamed B: the tile's one panel, all k blocks, in this thread's own buffer (packed once per panel); its k
            // block kb sits where the shared layout's would relative to a panel at column 0
            T* local = _streamB ? LocalPanel(tj) : null;
            for (int kb = 0; kb < _kBlocks; kb++)
            {
                int p0 = kb * _kc, kc = BlockLength(kb);
                T beta = kb == 0 ? _beta : T.One;
                T* aBlock = _pa + (long)p0 * _mPad, bBlock = _streamB ? local + (long)p0 * _nr - (long)tj * _nr * kc : _pb + (long)p0 * _nPadW;
                for (int ip = ipFirst; ip < ipLast; ip++)
                {
                    int i0 = ip * MR, rows = Math.Min(MR, _m - i0);
                    T* ap = aBlock + (long)ip * MR * kc;
                    for (int jp = jpFirst; jp < jpLast; jp++)
                    {
                        int j0 = jp * _nr, cols = Math.Min(_nr, _n - j0), width = jp == _nPanels - 1 ? _lastW : _nr;
                        T* bp = bBlock + (long)jp * _nr * kc;
                        T* cp = _c + (long)i0 * _ldc + j0;
                        T bt = beta;
                        if (kb == 0 && _bias is not null)
                        {
                            // the epilogue's bias: this tile of C starts as the bias rows (in L1 for the kernel's update)
                            FillBias(cp, _ldc, rows, cols, _bias + j0);
                            bt = T.One;
                        }
                        if (rows == MR && cols == width)
                        {
                            MicroKernel(width / w, kc, ap, bp, cp, _ldc, _alpha, bt);
                        }
                        else
                        {
                            MicroKernel(width / w, kc, ap, bp, tmp, width, T.One, T.Zero);
                            UpdateEdge(tmp, width, rows, cols, cp, _ldc, _alpha, bt);
                        }
                        if (_relu && kb == _kBlocks - 1) ReluRows(cp, _ldc, rows, cols);
                    }
                }
            }
        }
    }

    private static int s_planIds;

    /// <summary>Tests set it to false to pack all of B first whatever the shape (the results are the same bits).</summary>
    internal static bool s_streamB = true;

    /// <summary>
    /// Whether a product streams B: each B panel packed by the thread that uses it, into its own small buffer, right
    /// before it multiplies the A panels of its tile (A packed once, kept in L2 or L3), instead of packing all of B into the
    /// shared buffer first. For short, wide products (an MLP layer's batch x features, a convolution's channels x
    /// pixels): B packed whole does not fit in L2, so it went out to L3 and was read back; streamed, B is read once and
    /// its panel stays in L1/L2. Measured (Zen 5, 2 threads, interleaved): the MLP step's GEMMs 1.24 → 1.04 ms,
    /// 64x1024x288 179 → 125 µs. A must fit in <see cref="StreamedABytes"/>.
    /// </summary>
    private static bool StreamsB<T>(int mPad, int nPanels, int nPadW, int k) where T : unmanaged =>
        s_streamB && nPanels >= 2 && mPad <= nPadW && (long)mPad * k * Unsafe.SizeOf<T>() <= StreamedABytes;

    /// <summary>
    /// Largest packed A a streaming product takes: 4 x this CPU's L2. Every B panel reads all of A again, but at a
    /// twelfth of the kernel's B traffic (8 A values against 48 B values per k step), so A may live in L3. Measured
    /// (Zen 5, L2 1 MiB, interleaved in one process): 2 threads, bands of 1.2-3.3 MiB of A (768³ to 1280³, 256x1024x1024,
    /// 1024x512x784): 4-14% faster than packing all of B first; 4.7 MiB (1536³) the same, 8 MiB (2048³) slower.
    /// </summary>
    private static long StreamedABytes => 4 * CpuCaches.L2Bytes;

    /// <summary>c = alpha * acc + beta * c on a partial tile, rounding exactly like the vector update.</summary>
    private static unsafe void UpdateEdge<T>(T* acc, int accStride, int rows, int cols, T* c, int ldc, T alpha, T beta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int r = 0; r < rows; r++)
        {
            T* cr = c + (long)r * ldc;
            T* ar = acc + r * accStride;
            if (T.IsZero(beta))
                for (int j = 0; j < cols; j++) cr[j] = alpha * ar[j];
            else if (beta == T.One)
                for (int j = 0; j < cols; j++) cr[j] = T.FusedMultiplyAdd(alpha, ar[j], cr[j]);
            else
                for (int j = 0; j < cols; j++) cr[j] = T.FusedMultiplyAdd(alpha, ar[j], beta * cr[j]);
        }
    }
}
