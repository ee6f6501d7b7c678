using System.Buffers.Binary;
using System.Text;

namespace Nabla.IO.TensorBoard;

/// <summary>
/// Protocol-buffer encoding of the few fields event files need, by hand: varints (wire type 0), 64-bit (1),
/// length-delimited (2: strings, bytes, nested messages, packed doubles) and 32-bit (5). Field numbers are TensorFlow's
/// (tensorflow/core/util/event.proto, framework/summary.proto).
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _out = new();

    public byte[] ToArray() => _out.ToArray();

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Varint(ulong v)
    {
        for (; v >= 0x80; v >>= 7) _out.WriteByte((byte)(v | 0x80));
        _out.WriteByte((byte)v);
    }

    public ProtoWriter Int64(int field, long v)
    {
        Tag(field, 0);
        Varint((ulong)v); // negative int64s take ten bytes, as protobuf specifies
        return this;
    }

    public ProtoWriter Double(int field, double v)
    {
        Tag(field, 1);
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(b, v);
        _out.Write(b);
        return this;
    }

    public ProtoWriter Float(int field, float v)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, v);
        _out.Write(b);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> v)
    {
        Tag(field, 2);
        Varint((ulong)v.Length);
        _out.Write(v);
        return this;
    }

    public ProtoWriter String(int field, string v) => Bytes(field, Encoding.UTF8.GetBytes(v));

    public ProtoWriter Message(int field, ProtoWriter m) => Bytes(field, m.ToArray());

    public ProtoWriter PackedDoubles(int field, ReadOnlySpan<double> v)
    {
        var b = new byte[8 * v.Length];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(8 * i), v[i]);
        return Bytes(field, b);
    }
}
