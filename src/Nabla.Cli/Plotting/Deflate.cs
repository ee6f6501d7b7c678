namespace Nabla.Cli.Plotting;

/// <summary>
/// A small zlib (RFC 1950) / deflate (RFC 1951) compressor: greedy LZ77 matching over a 32 KiB window with hash
/// chains, coded in one block with the fixed Huffman codes. Our own rather than <c>ZLibStream</c>, whose output
/// depends on the zlib build the runtime ships, so a plot's bytes are the same on every machine and runtime. Chart
/// images are mostly long runs that the row filters turn into zeros, which this codes about as well as zlib does.
/// </summary>
internal static class Deflate
{
    private const int Window = 1 << 15, MinMatch = 3, MaxMatch = 258, MaxChain = 32, NiceMatch = 128, MaxInsert = 32, HashBits = 15;

    private static readonly int[] s_lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
    private static readonly int[] s_lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    private static readonly int[] s_distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    private static readonly int[] s_distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

    /// <summary>The zlib stream of <paramref name="data"/>.</summary>
    public static byte[] ZLib(ReadOnlySpan<byte> data)
    {
        var w = new BitWriter(data.Length / 8 + 64);
        w.Bytes(0x78, 0x01); // deflate, 32 KiB window, no dictionary; 0x7801 is a multiple of 31
        w.Bits(1, 1); // the final block
        w.Bits(1, 2); // fixed Huffman codes
        var head = new int[1 << HashBits];
        var prev = new int[Window];
        Array.Fill(head, -1);
        int at = 0;
        while (at < data.Length)
        {
            int bestLength = 0, bestDistance = 0;
            if (at + MinMatch <= data.Length)
            {
                int h = Hash(data, at), limit = Math.Min(MaxMatch, data.Length - at);
                for (int candidate = head[h], chain = MaxChain; candidate >= 0 && at - candidate <= Window - 1 && chain > 0; candidate = prev[candidate % Window], chain--)
                {
                    int n = data.Slice(candidate, limit).CommonPrefixLength(data.Slice(at, limit));
                    if (n > bestLength) (bestLength, bestDistance) = (n, at - candidate);
                    if (n >= Math.Min(limit, NiceMatch)) break;
                }
            }
            int step = bestLength >= MinMatch ? bestLength : 1;
            if (step > 1) Match(w, bestLength, bestDistance);
            else Symbol(w, data[at]);
            // as zlib's faster levels do, the positions inside a long match are not worth indexing
            int end = at + step, indexed = Math.Min(step <= MaxInsert ? end : at + 1, data.Length - MinMatch + 1);
            for (; at < indexed; at++)
            {
                int h = Hash(data, at);
                prev[at % Window] = head[h];
                head[h] = at;
            }
            at = end;
        }
        Symbol(w, 256); // end of block
        w.Flush();
        uint a = 1, b = 0;
        // Adler-32, reduced modulo 65521 every 5552 bytes (the most that cannot overflow 32 bits)
        for (int block = 0; block < data.Length; block += 5552)
        {
            foreach (byte x in data.Slice(block, Math.Min(5552, data.Length - block)))
            {
                a += x;
                b += a;
            }
            a %= 65521;
            b %= 65521;
        }
        w.Bytes((byte)(b >> 8), (byte)b, (byte)(a >> 8), (byte)a);
        return w.ToArray();
    }

    private static int Hash(ReadOnlySpan<byte> d, int i) => ((d[i] << 10) ^ (d[i + 1] << 5) ^ d[i + 2]) & ((1 << HashBits) - 1);

    private static void Match(BitWriter w, int length, int distance)
    {
        int l = s_lengthBase.Length - 1;
        while (s_lengthBase[l] > length) l--;
        Symbol(w, 257 + l);
        w.Bits(length - s_lengthBase[l], s_lengthExtra[l]);
        int d = s_distBase.Length - 1;
        while (s_distBase[d] > distance) d--;
        w.Code(d, 5);
        w.Bits(distance - s_distBase[d], s_distExtra[d]);
    }

    // The fixed literal/length code (RFC 1951 3.2.6).
    private static void Symbol(BitWriter w, int symbol)
    {
        if (symbol < 144) w.Code(0x30 + symbol, 8);
        else if (symbol < 256) w.Code(0x190 + symbol - 144, 9);
        else if (symbol < 280) w.Code(symbol - 256, 7);
        else w.Code(0xC0 + symbol - 280, 8);
    }

    private sealed class BitWriter(int capacity)
    {
        private readonly MemoryStream _out = new(capacity);
        private ulong _bits;
        private int _count;

        /// <summary>Data bits: least significant first.</summary>
        public void Bits(int value, int count)
        {
            _bits |= (ulong)(uint)value << _count;
            _count += count;
            while (_count >= 8)
            {
                _out.WriteByte((byte)_bits);
                _bits >>= 8;
                _count -= 8;
            }
        }

        /// <summary>A Huffman code: most significant bit first.</summary>
        public void Code(int code, int length)
        {
            int reversed = 0;
            for (int i = 0; i < length; i++) reversed |= ((code >> i) & 1) << (length - 1 - i);
            Bits(reversed, length);
        }

        public void Bytes(params ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes) Bits(b, 8);
        }

        public void Flush()
        {
            if (_count > 0) Bits(0, 8 - _count);
        }

        public byte[] ToArray() => _out.ToArray();
    }
}
