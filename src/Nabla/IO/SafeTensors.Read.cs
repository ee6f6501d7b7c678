using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Nabla.IO;

public static partial class SafeTensors
{
    /// <summary>
    /// Reads a safetensors file. The file is treated as hostile: the header length must fit the file and
    /// <see cref="MaxHeaderBytes"/>; the header must be valid UTF-8 JSON of depth ≤ 3 starting with <c>{</c>, with no
    /// duplicate names and exactly the keys dtype/shape/data_offsets per tensor; dtypes must be F32, F64, I64 (read as
    /// int64, e.g. PyTorch's <c>num_batches_tracked</c>) or BOOL (each byte 0 or 1); dimensions
    /// must be ≥ 0 and multiply to the byte length / element size; the offsets must tile the data section exactly
    /// (start at 0, no overlap, no gap, end at the file's end). Nothing is allocated before the header has been
    /// checked against the file's length, so a hostile file never causes an allocation larger than itself.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message says why.</exception>
    public static SafeTensorsFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(file, file.Length, path);
    }

    /// <summary>Reads safetensors bytes held in memory (same checks as <see cref="Load"/>).</summary>
    /// <exception cref="InvalidDataException">The bytes are not a valid safetensors file.</exception>
    public static SafeTensorsFile Deserialize(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        using var ms = new MemoryStream(bytes, writable: false);
        return Read(ms, bytes.Length, "buffer");
    }

    /// <summary>Reads <paramref name="length"/> bytes of safetensors data from <paramref name="stream"/> (same checks as <see cref="Load"/>).</summary>
    /// <param name="stream">The stream, positioned at the start of the file.</param>
    /// <param name="length">The number of bytes the file has from the current position.</param>
    /// <param name="source">A name for messages (the path).</param>
    /// <exception cref="InvalidDataException">The data is not a valid safetensors file, or the stream ends early.</exception>
    public static SafeTensorsFile Read(Stream stream, long length, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        try
        {
            return ReadCore(stream, length, source);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"SafeTensors: '{source}' ended before the {length} bytes it was said to have.", e);
        }
    }

    private sealed record ReadEntry(string Name, DType DType, int[] Shape, int Numel, long Begin, long End);

    private static SafeTensorsFile ReadCore(Stream stream, long length, string source)
    {
        if (length < 8) throw Bad(source, $"the file is {length} bytes, too short for the 8-byte header length");
        Span<byte> lenBytes = stackalloc byte[8];
        stream.ReadExactly(lenBytes);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (n > MaxHeaderBytes) throw Bad(source, $"header length {n} exceeds the {MaxHeaderBytes}-byte limit");
        if (n > (ulong)(length - 8)) throw Bad(source, $"header length {n} is larger than the {length - 8} bytes after the length field");
        if (n < 2) throw Bad(source, $"header length {n} is too small for a JSON object");
        var header = new byte[(int)n];
        stream.ReadExactly(header);
        long dataLength = length - 8 - (long)n;
        var (entries, metadata) = ParseHeader(header, dataLength, source);

        var tensors = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        var byOffset = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        foreach (var e in byOffset)
        {
            var t = Tensor.Empty(e.DType, e.Shape);
            switch (e.DType)
            {
                case DType.Float32: ReadLittleEndian(stream, t.Span<float>()); break;
                case DType.Float64: ReadLittleEndian(stream, t.Span<double>()); break;
                case DType.Int64: ReadLittleEndian(stream, t.Span<long>()); break;
                default: ReadBool(stream, t.Span<bool>(), e.Name, source); break;
            }
            tensors[e.Name] = t;
        }
        // header order for the caller
        var ordered = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        foreach (var e in entries) ordered[e.Name] = tensors[e.Name];
        return new SafeTensorsFile(ordered, metadata);
    }

    private static void ReadLittleEndian<T>(Stream stream, Span<T> values) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(values);
        stream.ReadExactly(bytes);
        if (!BitConverter.IsLittleEndian)
        {
            int size = Marshal.SizeOf<T>();
            for (int i = 0; i < bytes.Length; i += size) bytes.Slice(i, size).Reverse();
        }
    }

    // a BOOL element is one byte, 0 or 1 (anything else is not a bool and would make the storage lie)
    private static void ReadBool(Stream stream, Span<bool> values, string name, string source)
    {
        var bytes = MemoryMarshal.AsBytes(values);
        stream.ReadExactly(bytes);
        foreach (byte b in bytes)
            if (b > 1) throw Bad(source, $"the BOOL tensor {Untrusted.Quote(name)} holds the byte {b}; expected 0 or 1");
    }

    private static InvalidDataException Bad(string source, string why, Exception? inner = null) =>
        new($"SafeTensors: '{source}' is not a valid safetensors file: {why}.", inner);

    private static (List<ReadEntry> Entries, Dictionary<string, string> Metadata) ParseHeader(byte[] header, long dataLength, string source)
    {
        if (!Utf8.IsValid(header)) throw Bad(source, "the header is not valid UTF-8");
        if (header[0] != (byte)'{') throw Bad(source, "the header does not start with '{'");
        var entries = new List<ReadEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMetadata = false;
        try
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 3, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
            Next(ref reader, source);
            if (reader.TokenType != JsonTokenType.StartObject) throw Bad(source, "the header is not a JSON object");
            while (true)
            {
                Next(ref reader, source);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string name = reader.GetString()!;
                if (name == "__metadata__")
                {
                    if (sawMetadata) throw Bad(source, "'__metadata__' appears twice");
                    sawMetadata = true;
                    ReadMetadata(ref reader, metadata, source);
                    continue;
                }
                if (!names.Add(name)) throw Bad(source, $"the tensor name {Untrusted.Quote(name)} appears twice");
                entries.Add(ReadEntryObject(ref reader, name, dataLength, source));
            }
            if (reader.Read()) throw Bad(source, "content follows the header's JSON object");
        }
        catch (JsonException e)
        {
            throw Bad(source, "the header is not valid JSON (" + e.Message + ")", e);
        }
        catch (InvalidOperationException e)
        {
            throw Bad(source, "the header has an unexpected JSON value (" + e.Message + ")", e);
        }
        CheckOffsets(entries, dataLength, source);
        return (entries, metadata);
    }

    private static void Next(ref Utf8JsonReader reader, string source)
    {
        if (!reader.Read()) throw Bad(source, "the header's JSON ends early");
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string source)
    {
        Next(ref reader, source);
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject) throw Bad(source, "'__metadata__' is not an object");
        while (true)
        {
            Next(ref reader, source);
            if (reader.TokenType == JsonTokenType.EndObject) return;
            string key = reader.GetString()!;
            Next(ref reader, source);
            if (reader.TokenType != JsonTokenType.String) throw Bad(source, $"'__metadata__' value of {Untrusted.Quote(key)} is not a string");
            if (!metadata.TryAdd(key, reader.GetString()!)) throw Bad(source, $"'__metadata__' key {Untrusted.Quote(key)} appears twice");
        }
    }

    private static ReadEntry ReadEntryObject(ref Utf8JsonReader reader, string name, long dataLength, string source)
    {
        Next(ref reader, source);
        if (reader.TokenType != JsonTokenType.StartObject) throw Bad(source, $"the entry of tensor {Untrusted.Quote(name)} is not an object");
        string? dtype = null;
        List<int>? shape = null;
        long begin = -1, end = -1;
        while (true)
        {
            Next(ref reader, source);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            if (reader.ValueTextEquals("dtype"u8))
            {
                if (dtype is not null) throw Bad(source, $"tensor {Untrusted.Quote(name)} has 'dtype' twice");
                Next(ref reader, source);
                if (reader.TokenType != JsonTokenType.String) throw Bad(source, $"the dtype of tensor {Untrusted.Quote(name)} is not a string");
                dtype = reader.GetString()!;
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                if (shape is not null) throw Bad(source, $"tensor {Untrusted.Quote(name)} has 'shape' twice");
                shape = [];
                Next(ref reader, source);
                if (reader.TokenType != JsonTokenType.StartArray) throw Bad(source, $"the shape of tensor {Untrusted.Quote(name)} is not an array");
                while (true)
                {
                    Next(ref reader, source);
                    if (reader.TokenType == JsonTokenType.EndArray) break;
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long d)) throw Bad(source, $"the shape of tensor {Untrusted.Quote(name)} holds a value that is not an integer");
                    if (d < 0) throw Bad(source, $"the shape of tensor {Untrusted.Quote(name)} has a negative dimension {d}");
                    if (d > int.MaxValue) throw Bad(source, $"the shape of tensor {Untrusted.Quote(name)} has a dimension {d} larger than {int.MaxValue}");
                    shape.Add((int)d);
                }
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                if (begin >= 0) throw Bad(source, $"tensor {Untrusted.Quote(name)} has 'data_offsets' twice");
                Next(ref reader, source);
                if (reader.TokenType != JsonTokenType.StartArray) throw Bad(source, $"the data_offsets of tensor {Untrusted.Quote(name)} is not an array");
                long off0 = 0, off1 = 0;
                int k = 0;
                while (true)
                {
                    Next(ref reader, source);
                    if (reader.TokenType == JsonTokenType.EndArray) break;
                    if (k == 2) throw Bad(source, $"the data_offsets of tensor {Untrusted.Quote(name)} has more than two values");
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt64(out ulong v)) throw Bad(source, $"the data_offsets of tensor {Untrusted.Quote(name)} holds a value that is not an integer ≥ 0");
                    if (v > (ulong)dataLength) throw Bad(source, $"the data_offsets of tensor {Untrusted.Quote(name)} point past the {dataLength}-byte data section ({v})");
                    if (k++ == 0) off0 = (long)v; else off1 = (long)v;
                }
                if (k != 2) throw Bad(source, $"the data_offsets of tensor {Untrusted.Quote(name)} has {k} values instead of two");
                (begin, end) = (off0, off1);
                if (end < begin) throw Bad(source, $"the data_offsets of tensor {Untrusted.Quote(name)} end ({end}) before they begin ({begin})");
            }
            else throw Bad(source, $"tensor {Untrusted.Quote(name)} has an unknown key {Untrusted.Quote(reader.GetString())}");
        }
        if (dtype is null || shape is null || begin < 0) throw Bad(source, $"tensor {Untrusted.Quote(name)} lacks one of dtype, shape, data_offsets");
        DType type = dtype switch
        {
            "F32" => DType.Float32,
            "F64" => DType.Float64,
            "I64" => DType.Int64,
            "BOOL" => DType.Bool,
            _ => throw Bad(source, $"tensor {Untrusted.Quote(name)} has dtype {Untrusted.Quote(dtype)}; Nabla reads F32, F64, I64 and BOOL"),
        };
        // numel, stopping as soon as it exceeds what the bytes could hold (no overflow)
        long bytes = end - begin, elements = bytes / type.ElementSize();
        long numel = 1;
        bool zero = shape.Contains(0);
        if (!zero)
            foreach (int d in shape)
            {
                numel *= d;
                if (numel > elements) throw Bad(source, $"the shape [{string.Join(", ", shape)}] of tensor {Untrusted.Quote(name)} needs more than its {bytes} bytes");
            }
        else numel = 0;
        if (numel * type.ElementSize() != bytes)
            throw Bad(source, $"the shape [{string.Join(", ", shape)}] of tensor {Untrusted.Quote(name)} ({numel} × {type.ElementSize()} bytes) does not match its {bytes} bytes");
        if (numel > Array.MaxLength) throw Bad(source, $"tensor {Untrusted.Quote(name)} has {numel} elements, more than an array can hold");
        return new ReadEntry(name, type, [.. shape], (int)numel, begin, end);
    }

    private static void CheckOffsets(List<ReadEntry> entries, long dataLength, string source)
    {
        long expected = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != expected)
                throw Bad(source, e.Begin < expected
                    ? $"tensor {Untrusted.Quote(e.Name)} (bytes {e.Begin}..{e.End}) overlaps the tensor before it (which ends at {expected})"
                    : $"there is a gap of unused bytes {expected}..{e.Begin} before tensor {Untrusted.Quote(e.Name)}");
            expected = e.End;
        }
        if (expected != dataLength) throw Bad(source, $"the tensors cover {expected} bytes but the data section has {dataLength}");
    }
}
