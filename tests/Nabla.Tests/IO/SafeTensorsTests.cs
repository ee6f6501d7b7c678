using System.Buffers.Binary;
using System.Text;
using Nabla.IO;

namespace Nabla.Tests.IO;

public class SafeTensorsTests
{
    internal static Dictionary<string, Tensor> Sample() => new()
    {
        ["weight"] = Tensor.FromArray(new float[] { 1.5f, -2, 3.25f, float.NegativeInfinity, float.Epsilon, -0f }, 2, 3),
        ["bias"] = Tensor.FromArray(new double[] { Math.PI, -1e300 }),
        ["scalar"] = Tensor.Scalar(7, DType.Float64),
        ["empty"] = Tensor.Zeros([0, 4], DType.Float32),
        ["z.last"] = Tensor.FromArray(new float[] { 42 }),
    };

    /// <summary>A file from a header string and raw data bytes (header length written as given unless overridden).</summary>
    internal static byte[] Build(string header, byte[] data, ulong? lengthField = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, lengthField ?? (ulong)h.Length);
        h.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + h.Length);
        return bytes;
    }

    [Fact]
    public void RoundTripsValuesShapesDtypesAndMetadata()
    {
        var src = Sample();
        var bytes = SafeTensors.Serialize(src, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "héllo \"q\"" });
        var file = SafeTensors.Deserialize(bytes);
        Assert.Equal(src.Keys.Order(), file.Tensors.Keys.Order());
        foreach (var (k, t) in src)
        {
            var r = file.Tensors[k];
            Assert.Equal(t.DType, r.DType);
            Assert.Equal(t.Shape.ToArray(), r.Shape.ToArray());
            Assert.Equal(t.ToDoubleArray(), r.ToDoubleArray());
        }
        Assert.Equal("héllo \"q\"", file.Metadata["note"]);
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void LayoutIsTheReferenceLibrarys()
    {
        // what safetensors' serialize() writes: metadata first, F64 before F32, then names in order, offsets packed,
        // header padded with spaces to a multiple of 8
        var tensors = new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.FromArray(new float[] { 1, 2 }, 1, 2),
            ["c"] = Tensor.FromArray(new float[] { 3 }),
            ["b"] = Tensor.FromArray(new double[] { 4, 5 }),
        };
        var bytes = SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["format"] = "pt" });
        string json = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[16,24]},\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[24,28]}}";
        json = json.PadRight((json.Length + 7) / 8 * 8);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal((ulong)json.Length, n);
        Assert.Equal(json, Encoding.UTF8.GetString(bytes, 8, (int)n));
        Assert.Equal(8 + json.Length + 28, bytes.Length);
        Assert.Equal(4.0, BitConverter.ToDouble(bytes, 8 + json.Length));
        Assert.Equal(3f, BitConverter.ToSingle(bytes, 8 + json.Length + 24));
    }

    [Fact]
    public void SaveIsAtomicAndLeavesNoTemporaryFile()
    {
        string dir = Directory.CreateTempSubdirectory("nabla-st-").FullName;
        try
        {
            string path = Path.Combine(dir, "w.safetensors");
            File.WriteAllText(path, "old contents");
            SafeTensors.Save(path, Sample());
            Assert.Equal(["w.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));
            Assert.Equal(Sample()["bias"].ToDoubleArray(), SafeTensors.Load(path).Tensors["bias"].ToDoubleArray());
            // a failing save (reserved name) leaves the previous file intact
            Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Zeros(1) }));
            Assert.Equal(5, SafeTensors.Load(path).Tensors.Count);
            Assert.Single(Directory.GetFiles(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static IEnumerable<object[]> HostileFiles()
    {
        byte[] eight = new byte[8];
        const string ok = "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        return
        [
            ["too short", new byte[5], "too short"],
            ["length beyond file", Build(ok, eight, lengthField: 1000), "larger than"],
            ["length over 100 MB", Build(ok, eight, lengthField: 200_000_000), "limit"],
            ["length huge", Build(ok, eight, lengthField: ulong.MaxValue), "limit"],
            ["length zero", Build(ok, eight, lengthField: 0), "too small"],
            ["not utf8", Build("{\"t\xff\":{}}", []).Select((b, i) => i == 11 ? (byte)0xFF : b).ToArray(), "UTF-8"],
            ["not an object", Build("[1,2]", []), "start with"],
            ["deep json", Build("{\"t\":{\"shape\":" + new string('[', 100_000) + new string(']', 100_000) + "}}", []), "JSON"],
            ["deep shape", Build("{\"t\":{\"dtype\":\"F32\",\"shape\":[[2]],\"data_offsets\":[0,8]}}", eight), "JSON"],
            ["duplicate", Build("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", eight), "twice"],
            ["unknown dtype", Build(ok.Replace("F32", "BF16"), eight), "BF16"],
            ["bool byte not 0 or 1", Build(ok.Replace("F32", "BOOL").Replace("[2]", "[8]"), [0, 1, 0, 0, 0, 0, 0, 7]), "expected 0 or 1"],
            ["negative dim", Build(ok.Replace("[2]", "[-2]"), eight), "negative"],
            ["shape mismatch", Build(ok.Replace("[2]", "[3]"), eight), "needs more"],
            ["shape too small", Build(ok.Replace("[2]", "[1]"), eight), "does not match"],
            ["shape overflow", Build(ok.Replace("[2]", "[2147483647,2147483647,2147483647]"), eight), "needs more"],
            ["dim too large", Build(ok.Replace("[2]", "[99999999999]"), eight), "larger than"],
            ["offset out of range", Build(ok.Replace("[0,8]", "[0,16]"), eight), "point past"],
            ["offsets reversed", Build(ok.Replace("[0,8]", "[8,0]"), eight), "before they begin"],
            ["three offsets", Build(ok.Replace("[0,8]", "[0,4,8]"), eight), "more than two"],
            ["overlap", Build("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", eight), "overlaps"],
            ["gap", Build(ok.Replace("[2]", "[1]").Replace("[0,8]", "[4,8]"), eight), "gap"],
            ["trailing data", Build(ok, new byte[12]), "cover"],
            ["metadata not string", Build("{\"__metadata__\":{\"a\":1}}", []), "not a string"],
            ["unknown key", Build(ok.Replace("\"dtype\"", "\"extra\":1,\"dtype\""), eight), "unknown key"],
            ["missing key", Build("{\"t\":{\"dtype\":\"F32\",\"shape\":[0]}}", []), "lacks"],
            ["trailing json", Build(ok + "{}", eight), "JSON"],
            ["truncated json", Build(ok[..^3], eight), "JSON"],
            ["comment", Build("{/*x*/}", []), "JSON"],
            ["float offset", Build(ok.Replace("[0,8]", "[0,8.0]"), eight), "not an integer"],
        ];
    }

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void HostileFilesAreRejectedWithAClearMessage(string name, byte[] bytes, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Deserialize(bytes));
        Assert.Contains(expected, e.Message);
        Assert.Contains("safetensors", e.Message);
        Assert.NotEmpty(name);
    }

    [Fact]
    public void PaddedHeadersAndEmptyFilesAreAccepted()
    {
        var f = SafeTensors.Deserialize(Build("{}      ", []));
        Assert.Empty(f.Tensors);
        f = SafeTensors.Deserialize(Build("{\"__metadata__\":{\"k\":\"v\"},\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}  ", []));
        Assert.Equal(0, f.Tensors["t"].Numel);
        Assert.Equal("v", f.Metadata["k"]);
    }

    [Fact]
    public void PyTorchInt64TensorsAreReadExactlyAsInt64()
    {
        var data = new byte[24];
        BinaryPrimitives.WriteInt64LittleEndian(data, 1);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), -2);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(16), (1L << 53) + 1);   // float64 would round it
        var f = SafeTensors.Deserialize(Build("{\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]}}", data));
        var t = f.Tensors["bn.num_batches_tracked"];
        Assert.Equal(DType.Int64, t.DType);
        Assert.Equal([1L, -2L, (1L << 53) + 1], t.ToInt64Array());
        // and written back as I64 (and BOOL)
        var back = SafeTensors.Deserialize(SafeTensors.Serialize(new Dictionary<string, Tensor> { ["m"] = Tensor.FromArray([true, false, true], 3, 1), ["i"] = t }));
        Assert.Equal(DType.Bool, back.Tensors["m"].DType);
        Assert.Equal([3, 1], back.Tensors["m"].Shape.ToArray());
        Assert.Equal([true, false, true], back.Tensors["m"].ToBoolArray());
        Assert.Equal([1L, -2L, (1L << 53) + 1], back.Tensors["i"].ToInt64Array());
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Deserialize(Build("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}", [1, 2])));
        Assert.Contains("holds the byte 2; expected 0 or 1", e.Message);
    }

    [Fact]
    public void LoadingAFileThatShrankIsInvalidData()
    {
        var bytes = SafeTensors.Serialize(Sample());
        using var ms = new MemoryStream(bytes[..^4]);
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(ms, bytes.Length));
    }
}
