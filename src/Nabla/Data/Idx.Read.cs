using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.Data;

// Reading: the header is never trusted with memory (see Idx).
public static partial class Idx
{
    private static IdxArray ReadCore(Stream stream, string name)
    {
        if (!stream.CanRead)
        {
            throw new ArgumentException("The stream is not readable.", nameof(stream));
        }

        // Peek at the first two bytes to tell gzip (1f 8b) from raw IDX (00 00).
        var head = new byte[2];
        int got = ReadAtMost(stream, head, name);
        Stream source;
        if (stream.CanSeek)
        {
            stream.Seek(-got, SeekOrigin.Current);
            source = stream;
        }
        else
        {
            source = new PrefixedStream(head.AsSpan(0, got).ToArray(), stream);
        }

        if (got == 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            long start = stream.CanSeek ? stream.Position : -1;
            IdxArray result;
            using (var gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true))
            {
                result = ReadIdx(gzip, name, knownLength: null, compressed: true);
            }

            if (start >= 0)
            {
                CheckGzipTrailer(stream, start, result, name);
            }

            return result;
        }

        long? length = stream.CanSeek ? stream.Length - stream.Position : null;
        return ReadIdx(source, name, length, compressed: false);
    }

    private static IdxArray ReadIdx(Stream s, string name, long? knownLength, bool compressed)
    {
        string what = compressed ? "decompressed data" : "file";

        Span<byte> magic = stackalloc byte[4];
        int got = ReadAtMost(s, magic, name);
        if (got < 4)
        {
            throw Bad(name, $"too short for the IDX header: expected at least 4 bytes of magic number, found {got} byte(s)");
        }

        if (magic[0] != 0 || magic[1] != 0 || !IdxArray.IsKnownType(magic[2]))
        {
            throw Bad(name, $"bad magic number 0x{magic[0]:X2}{magic[1]:X2}{magic[2]:X2}{magic[3]:X2}: expected 0x0000TTRR "
                + "with type TT one of 08, 09, 0B, 0C, 0D, 0E (e.g. 0x00000803 for MNIST images, 0x00000801 for labels)");
        }

        var type = (IdxDataType)magic[2];
        int rank = magic[3];
        if (rank is 0 or > IdxArray.MaxRank)
        {
            throw Bad(name, $"rank {rank} in the magic number is out of range: expected 1 to {IdxArray.MaxRank}");
        }

        int headerBytes = 4 + (4 * rank);
        Span<byte> dimBytes = stackalloc byte[4 * IdxArray.MaxRank];
        got = ReadAtMost(s, dimBytes[..(4 * rank)], name);
        if (got < 4 * rank)
        {
            throw Bad(name, $"truncated header: rank {rank} needs {headerBytes} header bytes, the {what} has only {4 + got}");
        }

        var shape = new int[rank];
        long elements = 1;
        bool overflow = false;
        for (int i = 0; i < rank; i++)
        {
            uint dim = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.Slice(4 * i));
            if (dim > int.MaxValue)
            {
                throw Bad(name, $"dimension {i} is {dim}, more than the supported maximum {int.MaxValue}");
            }

            shape[i] = (int)dim;
            if (elements > Array.MaxLength && dim != 0)
            {
                overflow = true; // keep scanning: a later zero dimension makes the array empty
            }
            else
            {
                elements *= dim; // both factors <= 2^31, so no long overflow
            }
        }

        if (elements == 0)
        {
            overflow = false;
        }

        long payload = elements * IdxArray.ElementSize(type);
        if (overflow || payload > Array.MaxLength)
        {
            throw Bad(name, $"shape [{string.Join(" x ", shape)}] of {type} declares {(overflow ? "more than " + Array.MaxLength : payload.ToString(System.Globalization.CultureInfo.InvariantCulture))} "
                + $"data bytes, more than one array can hold ({Array.MaxLength})");
        }

        if (knownLength is long total)
        {
            long present = total - headerBytes;
            if (present < payload)
            {
                throw Bad(name, $"truncated: shape [{string.Join(" x ", shape)}] of {type} needs {payload} data bytes after the {headerBytes}-byte header, "
                    + $"but only {present} are present");
            }

            if (present > payload)
            {
                throw Bad(name, $"{present - payload} trailing byte(s) after the data: expected {headerBytes + payload} bytes in all, found {total}");
            }

            var data = new byte[payload];
            int read = ReadAtMost(s, data, name);
            if (read < payload)
            {
                throw Bad(name, $"truncated: expected {payload} data bytes, read {read}");
            }

            return new IdxArray(type, shape, data);
        }

        // Unknown length (gzip, pipes): grow the buffer only as data actually arrives.
        byte[] buffer = new byte[Math.Min(payload, InitialChunk)];
        long filled = 0;
        while (true)
        {
            int n = ReadAtMost(s, buffer.AsSpan((int)filled), name);
            filled += n;
            if (filled < buffer.Length)
            {
                throw Bad(name, $"truncated: shape [{string.Join(" x ", shape)}] of {type} needs {payload} data bytes after the {headerBytes}-byte header, "
                    + $"but the {what} ends after {filled}");
            }

            if (filled == payload)
            {
                break;
            }

            Array.Resize(ref buffer, (int)Math.Min(payload, (long)buffer.Length * 2));
        }

        Span<byte> probe = stackalloc byte[256];
        long extra = 0;
        int m;
        while ((m = ReadAtMost(s, probe, name)) > 0 && extra < 1 << 20)
        {
            extra += m;
        }

        if (extra > 0)
        {
            throw Bad(name, $"{(extra >= 1 << 20 ? "at least " : string.Empty)}{extra} trailing byte(s) after the data in the {what}: "
                + $"expected {headerBytes + payload} bytes in all");
        }

        return new IdxArray(type, shape, buffer);
    }

    /// <summary>
    /// GZipStream silently ignores bytes after the gzip member when they do not start another member, and may accept a
    /// member cut inside its 8-byte trailer. When the file is seekable, check that it really ends with the trailer of
    /// the data just read: CRC-32 and size (mod 2^32) of the whole decompressed IDX content, little-endian.
    /// </summary>
    private static void CheckGzipTrailer(Stream stream, long start, IdxArray array, string name)
    {
        long compressed = stream.Length - start;
        if (compressed < 18)
        {
            throw Bad(name, $"truncated gzip data: a gzip member needs at least 18 bytes, found {compressed}");
        }

        Span<byte> header = stackalloc byte[4 + (4 * IdxArray.MaxRank)];
        header = header[..(4 + (4 * array.Rank))];
        header[2] = (byte)array.Type;
        header[3] = (byte)array.Rank;
        for (int i = 0; i < array.Rank; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.Slice(4 + (4 * i)), array.Shape[i]);
        }

        uint crc = Crc32.Update(Crc32.Update(0xFFFFFFFFu, header), array.Data) ^ 0xFFFFFFFFu;
        uint size = unchecked((uint)(header.Length + array.Data.LongLength));

        Span<byte> trailer = stackalloc byte[8];
        stream.Seek(-8, SeekOrigin.End);
        int got = stream.ReadAtLeast(trailer, 8, throwOnEndOfStream: false);
        uint fileCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint fileSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        if (got < 8 || fileCrc != crc || fileSize != size)
        {
            throw Bad(name, $"the file does not end with the gzip trailer of its data (expected CRC-32 {crc:x8} and size {size}, "
                + $"found {fileCrc:x8} and {fileSize}): trailing bytes after the gzip data, a cut trailer, "
                + "or a multi-member gzip file (not supported)");
        }
    }

    /// <summary>Reads until the span is full or the stream ends; turns codec errors into errors naming the file.</summary>
    private static int ReadAtMost(Stream s, Span<byte> destination, string name)
    {
        try
        {
            return s.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException ex)
        {
            throw Bad(name, $"corrupt gzip data ({ex.Message})", ex);
        }
    }

    private static InvalidDataException Bad(string name, string problem, Exception? inner = null)
        => new($"IDX file '{name}': {problem}.", inner);

    /// <summary>The CRC-32 of gzip (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven.</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = BuildTable();

        public static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            uint[] table = Table;
            foreach (byte b in data)
            {
                crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }

            return crc;
        }

        private static uint[] BuildTable()
        {
            var table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++)
                {
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                }

                table[n] = c;
            }

            return table;
        }
    }

    /// <summary>A read-only stream that replays a few already-read bytes before the rest of an inner stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                int n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }

            return inner.Read(buffer);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
