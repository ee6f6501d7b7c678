using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.Data;

/// <summary>Element type codes of the IDX format (the third byte of the magic number).</summary>
public enum IdxDataType : byte
{
    /// <summary>Unsigned byte (0x08), 1 byte per element.</summary>
    UnsignedByte = 0x08,

    /// <summary>Signed byte (0x09), 1 byte per element.</summary>
    SignedByte = 0x09,

    /// <summary>Big-endian signed 16-bit integer (0x0B), 2 bytes per element.</summary>
    Int16 = 0x0B,

    /// <summary>Big-endian signed 32-bit integer (0x0C), 4 bytes per element.</summary>
    Int32 = 0x0C,

    /// <summary>Big-endian IEEE 754 single (0x0D), 4 bytes per element.</summary>
    Single = 0x0D,

    /// <summary>Big-endian IEEE 754 double (0x0E), 8 bytes per element.</summary>
    Double = 0x0E,
}

/// <summary>
/// An n-dimensional array read from or written to an IDX file: an element type, a shape (1 to 8 dimensions,
/// row-major) and the raw element bytes exactly as the file stores them (big-endian for multi-byte types).
/// </summary>
public sealed class IdxArray
{
    /// <summary>The largest rank the IDX reader and writer accept.</summary>
    public const int MaxRank = 8;

    /// <summary>Creates an array of unsigned bytes (type code 0x08), the type MNIST uses.</summary>
    /// <param name="shape">The dimensions, 1 to 8 of them, each non-negative.</param>
    /// <param name="data">The elements in row-major order; its length must be the product of <paramref name="shape"/>.</param>
    /// <exception cref="ArgumentException">The shape is invalid or does not match the data length.</exception>
    public IdxArray(int[] shape, byte[] data)
        : this(IdxDataType.UnsignedByte, shape, data)
    {
    }

    /// <summary>Creates an array of any IDX element type from its raw big-endian element bytes.</summary>
    /// <param name="type">The element type.</param>
    /// <param name="shape">The dimensions, 1 to 8 of them, each non-negative.</param>
    /// <param name="data">The element bytes in row-major order, big-endian for multi-byte types; its length must be
    /// the product of <paramref name="shape"/> times the element size.</param>
    /// <exception cref="ArgumentException">The type or shape is invalid or does not match the data length.</exception>
    public IdxArray(IdxDataType type, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        Type = type;
        Shape = shape;
        Data = data;
        string? problem = Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem);
        }
    }

    /// <summary>The element type.</summary>
    public IdxDataType Type { get; }

    /// <summary>The dimensions, outermost first (for MNIST images: count, rows, columns).</summary>
    public int[] Shape { get; }

    /// <summary>The raw element bytes in row-major order, as stored in the file (big-endian for multi-byte types).</summary>
    public byte[] Data { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public long Count => Data.Length / ElementSize(Type);

    /// <summary>The size in bytes of one element of the given type.</summary>
    /// <param name="type">An IDX element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is not an IDX type code.</exception>
    public static int ElementSize(IdxDataType type) => type switch
    {
        IdxDataType.UnsignedByte or IdxDataType.SignedByte => 1,
        IdxDataType.Int16 => 2,
        IdxDataType.Int32 or IdxDataType.Single => 4,
        IdxDataType.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an IDX element type."),
    };

    /// <summary>Whether the byte is one of the IDX type codes 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E.</summary>
    internal static bool IsKnownType(byte code) => code is 0x08 or 0x09 or 0x0B or 0x0C or 0x0D or 0x0E;

    /// <summary>Creates a single-precision array (type code 0x0D) from values in row-major order.</summary>
    /// <param name="shape">The dimensions, 1 to 8 of them, each non-negative.</param>
    /// <param name="values">The elements; their number must be the product of <paramref name="shape"/>.</param>
    /// <returns>A new array holding the values encoded big-endian.</returns>
    /// <exception cref="ArgumentException">The shape is invalid or does not match the number of values.</exception>
    public static IdxArray FromSingle(int[] shape, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if ((long)values.Length * 4 > Array.MaxLength)
        {
            throw new ArgumentException($"{values.Length} floats do not fit in one byte array.", nameof(values));
        }

        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(i * 4), values[i]);
        }

        return new IdxArray(IdxDataType.Single, shape, data);
    }

    /// <summary>
    /// Decodes the elements to <see cref="float"/>, whatever the element type (unsigned bytes become 0 to 255, not
    /// scaled; 32-bit integers and doubles are rounded to the nearest float).
    /// </summary>
    /// <returns>A new array of <see cref="Count"/> values in row-major order.</returns>
    public float[] ToSingle()
    {
        ReadOnlySpan<byte> d = Data;
        var result = new float[Count];
        switch (Type)
        {
            case IdxDataType.UnsignedByte:
                for (int i = 0; i < result.Length; i++) result[i] = d[i];
                break;
            case IdxDataType.SignedByte:
                for (int i = 0; i < result.Length; i++) result[i] = (sbyte)d[i];
                break;
            case IdxDataType.Int16:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt16BigEndian(d.Slice(i * 2));
                break;
            case IdxDataType.Int32:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt32BigEndian(d.Slice(i * 4));
                break;
            case IdxDataType.Single:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleBigEndian(d.Slice(i * 4));
                break;
            case IdxDataType.Double:
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(d.Slice(i * 8));
                break;
            default:
                throw new InvalidOperationException($"Unknown IDX element type 0x{(byte)Type:X2}.");
        }

        return result;
    }

    /// <summary>Checks the invariants (the public arrays can be mutated after construction); null when valid.</summary>
    internal string? Validate()
    {
        if (!IsKnownType((byte)Type))
        {
            return $"unknown IDX element type 0x{(byte)Type:X2} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)";
        }

        if (Shape.Length is 0 or > MaxRank)
        {
            return $"rank {Shape.Length} is out of range (expected 1 to {MaxRank})";
        }

        long elements = 1;
        for (int i = 0; i < Shape.Length; i++)
        {
            if (Shape[i] < 0)
            {
                return $"dimension {i} is negative ({Shape[i]})";
            }

            // Saturate: once above Array.MaxLength it cannot match any byte array, and this never overflows.
            elements = Math.Min(elements * Shape[i], (long)Array.MaxLength + 1);
        }

        long bytes = elements * ElementSize(Type);
        if (bytes != Data.Length)
        {
            return $"shape [{string.Join(", ", Shape)}] of {Type} needs {bytes} data bytes, but there are {Data.Length}";
        }

        return null;
    }
}

/// <summary>
/// Reads and writes IDX files, the format of the MNIST distribution (Yann LeCun's "train-images-idx3-ubyte" etc.):
/// a big-endian magic 00 00 TYPE RANK, RANK big-endian 32-bit dimensions, then the elements in row-major order.
/// Gzip-compressed files are recognised by their content (the gzip magic 1f 8b), not by their name.
/// </summary>
/// <remarks>
/// The reader never trusts the header with memory: the declared size is checked against the bytes actually present
/// when the length is known (raw files), and otherwise (gzip, unseekable streams) the data is read in chunks into a
/// buffer that grows only as data arrives, so a corrupt header declaring gigabytes fails after reading the few bytes
/// that are really there. Every format problem is reported as an <see cref="InvalidDataException"/> whose message
/// names the file.
/// </remarks>
public static class Idx
{
    private const int InitialChunk = 1 << 20;

    /// <summary>Reads an IDX file, gzipped or raw.</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>The array it holds.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX file (bad magic, unknown type, rank
    /// out of 1..8, truncated, corrupt gzip data, trailing bytes, or a declared size that overflows).</exception>
    public static IdxArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IDX file not found: '{path}'.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return ReadCore(stream, path);
    }

    /// <summary>Reads an IDX array from a stream, gzipped or raw, up to the end of the stream.</summary>
    /// <param name="stream">The stream, positioned at the start of the IDX (or gzip) data; it is not disposed.</param>
    /// <returns>The array it holds.</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX array.</exception>
    public static IdxArray Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string name = stream is FileStream fs ? fs.Name : "<stream>";
        return ReadCore(stream, name);
    }

    /// <summary>
    /// Writes an IDX file atomically: the data goes to a temporary file in the same folder, which is flushed to disk
    /// and then moved over <paramref name="path"/>, so readers never see a partial file.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="array">The array to write.</param>
    /// <param name="gzip">Whether to gzip-compress the file (conventionally named with a ".gz" suffix).</param>
    /// <exception cref="ArgumentException">The array's shape and data no longer agree.</exception>
    public static void Write(string path, IdxArray array, bool gzip)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(array);
        ThrowIfInvalid(array);

        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no folder.", nameof(path));
        string temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                if (gzip)
                {
                    using (var compressor = new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true))
                    {
                        WriteCore(compressor, array);
                    }
                }
                else
                {
                    WriteCore(file, array);
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (IOException)
            {
                // Best effort: the original exception matters more.
            }
            catch (UnauthorizedAccessException)
            {
                // Same.
            }

            throw;
        }
    }

    /// <summary>Writes an IDX array, uncompressed, to a stream (which is neither flushed nor disposed).</summary>
    /// <param name="stream">The destination.</param>
    /// <param name="array">The array to write.</param>
    /// <exception cref="ArgumentException">The array's shape and data no longer agree.</exception>
    public static void Write(Stream stream, IdxArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        ThrowIfInvalid(array);
        WriteCore(stream, array);
    }

    private static void ThrowIfInvalid(IdxArray array)
    {
        string? problem = array.Validate();
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid IDX array: {problem}.", nameof(array));
        }
    }

    private static void WriteCore(Stream stream, IdxArray array)
    {
        Span<byte> header = stackalloc byte[4 + (4 * IdxArray.MaxRank)];
        header[0] = 0;
        header[1] = 0;
        header[2] = (byte)array.Type;
        header[3] = (byte)array.Rank;
        for (int i = 0; i < array.Rank; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(header.Slice(4 + (4 * i)), array.Shape[i]);
        }

        stream.Write(header[..(4 + (4 * array.Rank))]);
        stream.Write(array.Data);
    }

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
