using System.Buffers.Binary;
using System.Numerics;

namespace Nabla.IO.TensorBoard;

/// <summary>
/// TFRecord framing, as TensorFlow's event files use it: each record is its length (uint64, little-endian), the
/// masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data. A record is written with one call,
/// so a crash leaves whole records followed by at most one torn record, which readers (TensorBoard among them) skip.
/// </summary>
public static class TfRecord
{
    /// <summary>CRC-32C (Castagnoli, the iSCSI polynomial 0x1EDC6F41) of <paramref name="data"/>: <see cref="BitOperations.Crc32C(uint, ulong)"/> runs the SSE4.2/ARM instruction where there is one.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8) crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        for (; i < data.Length; i++) crc = BitOperations.Crc32C(crc, data[i]);
        return ~crc;
    }

    /// <summary>TensorFlow's masked CRC (rotated right by 15 bits plus a constant), so a CRC of data that holds CRCs is not trivially related to them.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
    }

    /// <summary>The framed record of <paramref name="data"/>: 8 + 4 + data.Length + 4 bytes.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> data)
    {
        var record = new byte[data.Length + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), MaskedCrc32C(record.AsSpan(0, 8)));
        data.CopyTo(record.AsSpan(12));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + data.Length), MaskedCrc32C(data));
        return record;
    }
}
