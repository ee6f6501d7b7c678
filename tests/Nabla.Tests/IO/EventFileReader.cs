using System.Buffers.Binary;
using System.Text;

namespace Nabla.Tests.IO;

/// <summary>
/// A reader of TensorBoard event files written for the tests, independent of the writer: TFRecord framing with both
/// masked CRC-32Cs checked (a bitwise CRC, not the writer's), then a generic protobuf decoder, then the few messages.
/// </summary>
internal static class EventFileReader
{
    public sealed record Histogram(double Min, double Max, double Num, double Sum, double SumSquares, double[] Limits, double[] Counts);

    public sealed record Image(int Height, int Width, int Colorspace, byte[] Png);

    /// <summary>One event: the file version, or one summary value (a scalar, a histogram or an image).</summary>
    public sealed record Event(double WallTime, long Step, string? FileVersion, string? Tag, float? Scalar, Histogram? Histo, Image? Image);

    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0x82F63B78 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    private static uint Masked(ReadOnlySpan<byte> data)
    {
        uint c = Crc32C(data);
        return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
    }

    /// <summary>The records of <paramref name="file"/>; a torn record at the end is left out, as TensorBoard does (reported in <paramref name="torn"/>).</summary>
    public static List<byte[]> Records(byte[] file, out bool torn)
    {
        var records = new List<byte[]>();
        int at = 0;
        torn = false;
        while (at < file.Length)
        {
            if (at + 12 > file.Length) { torn = true; break; }
            ulong len = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at));
            Assert.Equal(Masked(file.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8)));
            if ((ulong)(file.Length - at - 16) < len) { torn = true; break; }
            var data = file.AsSpan(at + 12, (int)len);
            Assert.Equal(Masked(data), BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 12 + (int)len)));
            records.Add(data.ToArray());
            at += 16 + (int)len;
        }
        return records;
    }

    public static List<Event> Read(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite); // the writer may still hold it
        var bytes = new byte[f.Length];
        f.ReadExactly(bytes);
        var records = Records(bytes, out bool torn);
        Assert.False(torn, "the file ends in a torn record");
        return records.Select(ParseEvent).ToList();
    }

    /// <summary>Every field of a message: (field number, wire type, value) with varints and fixed values as ulong bits, length-delimited ones as bytes.</summary>
    public static List<(int Field, int Wire, ulong Bits, byte[]? Bytes)> Fields(ReadOnlySpan<byte> m)
    {
        var fields = new List<(int, int, ulong, byte[]?)>();
        int at = 0;
        ulong Varint(ReadOnlySpan<byte> s)
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = s[at++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
        }
        while (at < m.Length)
        {
            ulong key = Varint(m);
            int field = (int)(key >> 3), wire = (int)(key & 7);
            switch (wire)
            {
                case 0: fields.Add((field, wire, Varint(m), null)); break;
                case 1: fields.Add((field, wire, BinaryPrimitives.ReadUInt64LittleEndian(m[at..]), null)); at += 8; break;
                case 5: fields.Add((field, wire, BinaryPrimitives.ReadUInt32LittleEndian(m[at..]), null)); at += 4; break;
                case 2:
                    int len = (int)Varint(m);
                    fields.Add((field, wire, 0, m.Slice(at, len).ToArray()));
                    at += len;
                    break;
                default: throw new InvalidDataException($"wire type {wire}");
            }
        }
        return fields;
    }

    private static double D(ulong bits) => BitConverter.Int64BitsToDouble((long)bits);

    private static double[] Packed(byte[] b) => Enumerable.Range(0, b.Length / 8).Select(i => BinaryPrimitives.ReadDoubleLittleEndian(b.AsSpan(8 * i))).ToArray();

    private static Event ParseEvent(byte[] data)
    {
        double wall = 0;
        long step = 0;
        string? version = null, tag = null;
        float? scalar = null;
        Histogram? histo = null;
        Image? image = null;
        foreach (var (field, wire, bits, bytes) in Fields(data))
        {
            if (field == 1 && wire == 1) wall = D(bits);
            else if (field == 2 && wire == 0) step = (long)bits;
            else if (field == 3 && wire == 2) version = Encoding.UTF8.GetString(bytes!);
            else if (field == 5 && wire == 2)
            {
                var values = Fields(bytes!).Where(f => f.Field == 1).ToList();
                Assert.Single(values);
                foreach (var (vf, vw, vbits, vbytes) in Fields(values[0].Bytes!))
                {
                    if (vf == 1) tag = Encoding.UTF8.GetString(vbytes!);
                    else if (vf == 2 && vw == 5) scalar = BitConverter.Int32BitsToSingle((int)vbits);
                    else if (vf == 4) image = ParseImage(vbytes!);
                    else if (vf == 5) histo = ParseHisto(vbytes!);
                    else Assert.Fail($"unexpected Summary.Value field {vf}");
                }
            }
            else Assert.Fail($"unexpected Event field {field} (wire type {wire})");
        }
        return new Event(wall, step, version, tag, scalar, histo, image);
    }

    private static Image ParseImage(byte[] m)
    {
        var f = Fields(m);
        return new Image((int)f.Single(x => x.Field == 1).Bits, (int)f.Single(x => x.Field == 2).Bits, (int)f.Single(x => x.Field == 3).Bits, f.Single(x => x.Field == 4).Bytes!);
    }

    private static Histogram ParseHisto(byte[] m)
    {
        var f = Fields(m);
        double Get(int n) => D(f.Single(x => x.Field == n && x.Wire == 1).Bits);
        return new Histogram(Get(1), Get(2), Get(3), Get(4), Get(5), Packed(f.Single(x => x.Field == 6).Bytes!), Packed(f.Single(x => x.Field == 7).Bytes!));
    }
}
