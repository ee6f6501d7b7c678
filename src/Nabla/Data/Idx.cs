using System.Buffers.Binary;
using System.IO.Compression;
using Nabla.IO;

namespace Nabla.Data;

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
public static partial class Idx
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

        AtomicFile.Write(path, file =>
        {
            if (!gzip)
            {
                WriteCore(file, array);
                return;
            }

            using var compressor = new GZipStream(file, CompressionLevel.Optimal, leaveOpen: true);
            WriteCore(compressor, array);
        });
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
}
