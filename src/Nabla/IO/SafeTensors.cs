using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Nabla.IO;

/// <summary>The tensors and the <c>__metadata__</c> strings of a safetensors file.</summary>
/// <param name="Tensors">The tensors by name, in the file's header order.</param>
/// <param name="Metadata">The <c>__metadata__</c> string pairs (empty when the file has none).</param>
public sealed record SafeTensorsFile(Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata);

/// <summary>
/// Reads and writes the safetensors format (Hugging Face): an 8-byte little-endian header length N, N bytes of UTF-8
/// JSON <c>{"__metadata__": {str: str}, name: {"dtype": "F32"|"F64", "shape": [...], "data_offsets": [begin, end]}, ...}</c>
/// (offsets relative to the end of the header), then the raw little-endian row-major tensor bytes, packed without gaps.
/// Files written here are laid out as the reference Rust/Python library writes them: <c>__metadata__</c> first (keys
/// sorted), tensors sorted by dtype alignment (F64 before F32) then by name (ordinal), header padded with spaces to a
/// multiple of 8 bytes. Reading treats the file as hostile: see <see cref="Load"/>.
/// </summary>
public static partial class SafeTensors
{
    /// <summary>The largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>
    /// Writes <paramref name="tensors"/> (and optional metadata) to <paramref name="path"/> atomically: the bytes go to a
    /// temporary file in the same folder, which is flushed to disk and then moved over the destination, so a crash never
    /// leaves a half-written file under <paramref name="path"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A name is empty or <c>__metadata__</c>.</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var plan = Plan(tensors, metadata); // validate before touching the disk
        AtomicFile.Write(path, file => WritePlan(file, plan));
    }

    /// <summary>Writes the safetensors bytes to <paramref name="stream"/> (not atomic; see <see cref="Save"/>).</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WritePlan(stream, Plan(tensors, metadata));
    }

    /// <summary>The safetensors bytes of <paramref name="tensors"/> in memory.</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        Write(ms, tensors, metadata);
        return ms.ToArray();
    }

    private sealed record WriteEntry(string Name, Tensor Tensor, long Begin, long End);

    private static (byte[] Header, List<WriteEntry> Entries) Plan(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var (name, t) in tensors)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("SafeTensors: a tensor name is empty.");
            if (name == "__metadata__") throw new ArgumentException("SafeTensors: '__metadata__' is reserved and cannot name a tensor.");
            ArgumentNullException.ThrowIfNull(t, name);
        }
        // the reference library's order: larger alignment first (F64 before F32), then by name
        var ordered = tensors.OrderByDescending(kv => kv.Value.DType.ElementSize()).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        var entries = new List<WriteEntry>(ordered.Count);
        long offset = 0;
        foreach (var (name, t) in ordered)
        {
            long bytes = (long)t.Numel * t.DType.ElementSize();
            entries.Add(new WriteEntry(name, t, offset, offset + bytes));
            offset += bytes;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    ArgumentNullException.ThrowIfNull(v, k);
                    json.WriteString(k, v);
                }
                json.WriteEndObject();
            }
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", e.Tensor.DType switch { DType.Float32 => "F32", DType.Float64 => "F64", DType.Int64 => "I64", _ => "BOOL" });
                json.WriteStartArray("shape");
                foreach (int d in e.Tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(e.Begin);
                json.WriteNumberValue(e.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int pad = (8 - buffer.WrittenCount % 8) % 8;
        var header = new byte[buffer.WrittenCount + pad];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return (header, entries);
    }

    private static void WritePlan(Stream stream, (byte[] Header, List<WriteEntry> Entries) plan)
    {
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)plan.Header.Length);
        stream.Write(len);
        stream.Write(plan.Header);
        foreach (var e in plan.Entries)
        {
            var c = e.Tensor.Detach().Contiguous();
            switch (c.DType)
            {
                case DType.Float32: WriteLittleEndian(stream, c.Span<float>()); break;
                case DType.Float64: WriteLittleEndian(stream, c.Span<double>()); break;
                case DType.Int64: WriteLittleEndian(stream, c.Span<long>()); break;
                default: WriteLittleEndian(stream, c.Span<bool>()); break;
            }
        }
    }

    private static void WriteLittleEndian<T>(Stream stream, Span<T> values) where T : unmanaged
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        // big-endian host: swap a copy, chunk by chunk
        var tmp = new byte[Math.Min(values.Length * Marshal.SizeOf<T>(), 1 << 16)];
        var bytes = MemoryMarshal.AsBytes(values);
        int size = Marshal.SizeOf<T>();
        for (int start = 0; start < bytes.Length; start += tmp.Length)
        {
            int n = Math.Min(tmp.Length, bytes.Length - start);
            bytes.Slice(start, n).CopyTo(tmp);
            for (int i = 0; i < n; i += size) tmp.AsSpan(i, size).Reverse();
            stream.Write(tmp, 0, n);
        }
    }
}
