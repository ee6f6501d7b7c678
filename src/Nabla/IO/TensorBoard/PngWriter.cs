using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.IO.TensorBoard;

/// <summary>A minimal PNG encoder for summary images: 8-bit RGB, filter "none" on every row, zlib through <see cref="ZLibStream"/>.</summary>
internal static class PngWriter
{
    private static readonly uint[] s_crcTable = MakeTable();

    /// <summary>Encodes <paramref name="rgb"/> (height × width × 3 bytes, row-major).</summary>
    public static byte[] Rgb(ReadOnlySpan<byte> rgb, int height, int width)
    {
        var rows = new byte[height * (3 * width + 1)];
        for (int r = 0; r < height; r++) rgb.Slice(r * 3 * width, 3 * width).CopyTo(rows.AsSpan(r * (3 * width + 1) + 1));
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(rows);
        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per channel
        header[9] = 2; // RGB
        Chunk(png, "IHDR"u8, header);
        Chunk(png, "IDAT"u8, z.ToArray());
        Chunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    private static void Chunk(MemoryStream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        uint crc = ~0u;
        foreach (byte b in type) crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        foreach (byte b in data) crc = s_crcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        BinaryPrimitives.WriteUInt32BigEndian(word, ~crc);
        png.Write(word);
    }

    // CRC-32 (ISO 3309, polynomial 0xEDB88320 reflected), as PNG chunks carry it
    private static uint[] MakeTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }
}
