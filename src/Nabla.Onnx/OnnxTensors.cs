using System.Runtime.InteropServices;
using Google.Protobuf;
using Nabla.Onnx.Protos;

namespace Nabla.Onnx;

// Tensor ↔ onnx.TensorProto. Values are written as raw little-endian bytes (raw_data), the form PyTorch writes.
internal static class OnnxTensors
{
    public static TensorProto FromFloats(string name, float[] data, ReadOnlySpan<int> shape)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        foreach (int d in shape) t.Dims.Add(d);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        return t;
    }

    public static TensorProto FromInt64s(string name, long[] data, ReadOnlySpan<int> shape)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        foreach (int d in shape) t.Dims.Add(d);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        return t;
    }

    public static int[] Shape(TensorProto t) => t.Dims.Select(d => checked((int)d)).ToArray();

    /// <summary>The values of a float, double, float16-free numeric tensor as doubles (any storage form ONNX allows).</summary>
    public static double[] ToDoubles(TensorProto t)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new NotSupportedException($"Onnx.Load: initializer '{t.Name}' keeps its data in an external file, which is not supported.");
        var type = (TensorProto.Types.DataType)t.DataType;
        int n = checked((int)t.Dims.Aggregate(1L, (a, d) => a * d));
        bool raw = !t.RawData.IsEmpty;
        var bytes = t.RawData.Span;
        double[] r = new double[n];
        switch (type)
        {
            case TensorProto.Types.DataType.Float:
                if (raw) { var s = MemoryMarshal.Cast<byte, float>(bytes); Check(t, s.Length, n); for (int i = 0; i < n; i++) r[i] = s[i]; }
                else { Check(t, t.FloatData.Count, n); for (int i = 0; i < n; i++) r[i] = t.FloatData[i]; }
                break;
            case TensorProto.Types.DataType.Double:
                if (raw) { var s = MemoryMarshal.Cast<byte, double>(bytes); Check(t, s.Length, n); s.CopyTo(r); }
                else { Check(t, t.DoubleData.Count, n); t.DoubleData.CopyTo(r, 0); }
                break;
            case TensorProto.Types.DataType.Int64:
                if (raw) { var s = MemoryMarshal.Cast<byte, long>(bytes); Check(t, s.Length, n); for (int i = 0; i < n; i++) r[i] = s[i]; }
                else { Check(t, t.Int64Data.Count, n); for (int i = 0; i < n; i++) r[i] = t.Int64Data[i]; }
                break;
            case TensorProto.Types.DataType.Int32:
                if (raw) { var s = MemoryMarshal.Cast<byte, int>(bytes); Check(t, s.Length, n); for (int i = 0; i < n; i++) r[i] = s[i]; }
                else { Check(t, t.Int32Data.Count, n); for (int i = 0; i < n; i++) r[i] = t.Int32Data[i]; }
                break;
            case TensorProto.Types.DataType.Bool:
                if (raw) { Check(t, bytes.Length, n); for (int i = 0; i < n; i++) r[i] = bytes[i] != 0 ? 1 : 0; }
                else { Check(t, t.Int32Data.Count, n); for (int i = 0; i < n; i++) r[i] = t.Int32Data[i] != 0 ? 1 : 0; }
                break;
            default:
                throw new NotSupportedException($"Onnx.Load: tensor '{t.Name}' has element type {type}; float, double, int64, int32 and bool are supported.");
        }
        return r;
    }

    private static void Check(TensorProto t, int have, int want)
    {
        if (have != want)
            throw new InvalidDataException($"Onnx.Load: tensor '{t.Name}' has {have} values for shape [{string.Join(", ", t.Dims)}] ({want} expected).");
    }
}
