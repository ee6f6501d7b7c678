using System.Buffers.Binary;

namespace Nabla.Cli.Plotting;

/// <summary>
/// Encodes an 8-bit RGB image as PNG: each row gets the filter (none, sub, up or Paeth) whose output has the smallest
/// sum of absolute values (the PNG book's heuristic), the rows are compressed by <see cref="Deflate"/> and the chunks
/// carry their CRC-32. Every step is this code's own, so the bytes depend on the pixels only.
/// </summary>
internal static class PngEncoder
{
    private static readonly uint[] s_crcTable = MakeCrcTable();

    public static byte[] Encode(ReadOnlySpan<byte> rgb, int width, int height)
    {
        int stride = width * 3;
        var filtered = new byte[height * (stride + 1)];
        var candidate = new byte[stride];
        var best = new byte[stride];
        for (int r = 0; r < height; r++)
        {
            var row = rgb.Slice(r * stride, stride);
            var up = r > 0 ? rgb.Slice((r - 1) * stride, stride) : new byte[stride];
            long bestSum = long.MaxValue;
            int bestFilter = 0;
            // up first: a row like the one above becomes zeros, and nothing beats a sum of 0
            foreach (int filter in (ReadOnlySpan<int>)[2, 1, 0, 4])
            {
                Filter(filter, row, up, candidate);
                long sum = 0;
                for (int i = 0; i < stride && sum < bestSum; i++) sum += candidate[i] < 128 ? candidate[i] : 256 - candidate[i]; // |signed byte|
                if (sum < bestSum)
                {
                    (bestSum, bestFilter) = (sum, filter);
                    candidate.CopyTo(best, 0);
                }
                if (bestSum == 0) break;
            }
            filtered[r * (stride + 1)] = (byte)bestFilter;
            best.CopyTo(filtered, r * (stride + 1) + 1);
        }
        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per channel
        header[9] = 2; // RGB
        Chunk(png, "IHDR"u8, header);
        Chunk(png, "IDAT"u8, Deflate.ZLib(filtered));
        Chunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    /// <summary>The CRC-32 (ISO 3309, as PNG and zlib's gzip use it) of <paramref name="data"/>, continuing from <paramref name="crc"/>.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data, uint crc = 0)
    {
        crc = ~crc;
        foreach (byte b in data) crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }

    private static uint[] MakeCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    private static void Chunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(data, Crc32(type)));
        png.Write(word);
    }

    // PNG filter types 0 (none), 1 (sub), 2 (up) and 4 (Paeth), three bytes a pixel
    private static void Filter(int filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> up, Span<byte> output)
    {
        switch (filter)
        {
            case 0:
                row.CopyTo(output);
                break;
            case 1:
                row[..3].CopyTo(output);
                for (int i = 3; i < row.Length; i++) output[i] = (byte)(row[i] - row[i - 3]);
                break;
            case 2:
                for (int i = 0; i < row.Length; i++) output[i] = (byte)(row[i] - up[i]);
                break;
            default:
                for (int i = 0; i < 3; i++) output[i] = (byte)(row[i] - up[i]);
                for (int i = 3; i < row.Length; i++) output[i] = (byte)(row[i] - Paeth(row[i - 3], up[i], up[i - 3]));
                break;
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
