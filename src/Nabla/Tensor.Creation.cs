using System.Numerics;

namespace Nabla;

public partial class Tensor
{
    /// <summary>Zeroed storage: a recycled array (<see cref="StoragePool"/>) cleared, or a new one.</summary>
    internal static Array Allocate(DType dtype, int numel)
    {
        var storage = StoragePool.Rent(dtype, numel);
        if (storage is not null) Array.Clear(storage);
        else storage = DTypeDispatch.RunAny<NewArray, Array>("Allocate", dtype, new NewArray(numel, zeroed: true));
        StoragePool.Allocated(storage);
        return storage;
    }

    /// <summary>A new tensor with uninitialised (zeroed) storage.</summary>
    internal static Tensor Empty(DType dtype, int[] shape) => new(Allocate(dtype, ShapeUtil.Numel(shape)), shape) { OwnsStorage = true };

    /// <summary>
    /// Fill every <see cref="Uninitialized"/> tensor with NaN. The test suite switches it on for the whole run, so a
    /// kernel that leaves an element of its output unwritten shows up as NaN in the results it is checked against.
    /// </summary>
    internal static bool PoisonUninitialized { get; set; }

    /// <summary>A new tensor whose storage is not zeroed: only for outputs a kernel overwrites completely.</summary>
    internal static Tensor Uninitialized(DType dtype, int[] shape)
    {
        int n = ShapeUtil.Numel(shape);
        Array storage = StoragePool.Rent(dtype, n) ?? DTypeDispatch.RunAny<NewArray, Array>("Uninitialized", dtype, new NewArray(n, zeroed: false));
        StoragePool.Allocated(storage);
        var t = new Tensor(storage, shape) { OwnsStorage = true };
        // integers and bools have no NaN: those kernels are checked by their own tests
        if (PoisonUninitialized && dtype.IsFloatingPoint()) DTypeDispatch.RunAny("Uninitialized", dtype, new Fill(t, double.NaN));
        return t;
    }

    private readonly struct NewArray(int length, bool zeroed) : IAnyFunc<Array>
    {
        public Array Invoke<T>() where T : unmanaged => zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
    }

    // every element of a contiguous tensor set to value
    private readonly struct Fill(Tensor t, double value) : IAnyOp
    {
        public void Invoke<T>() where T : unmanaged => t.Span<T>().Fill(ScalarConvert.FromDouble<T>(value));
    }

    private static int[] CheckShape(string op, int[] shape)
    {
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"{op}: negative dimension in shape {ShapeUtil.Format(shape)}.");
        return (int[])shape.Clone();
    }

    /// <summary>A tensor of zeros. Shape: as given.</summary>
    public static Tensor Zeros(params int[] shape) => Zeros(shape, DType.Float32);

    /// <summary>A tensor of zeros of the given dtype.</summary>
    public static Tensor Zeros(int[] shape, DType dtype) => Empty(dtype, CheckShape("Zeros", shape));

    /// <summary>A tensor of ones. Shape: as given.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1.0, DType.Float32);

    /// <summary>A tensor of ones of the given dtype.</summary>
    public static Tensor Ones(int[] shape, DType dtype) => Full(shape, 1.0, dtype);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float32)
    {
        var t = Empty(dtype, CheckShape("Full", shape));
        DTypeDispatch.RunAny("Full", dtype, new Fill(t, value));
        return t;
    }

    /// <summary>Zeros with the shape and dtype of <paramref name="t"/>.</summary>
    public static Tensor ZerosLike(Tensor t) => Empty(t.DType, t._shape.ToArray());

    /// <summary>Ones with the shape and dtype of <paramref name="t"/>.</summary>
    public static Tensor OnesLike(Tensor t) => Full(t._shape, 1.0, t.DType);

    /// <summary>A 0-dimensional tensor holding one value.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Full([], value, dtype);

    /// <summary>Values start, start+step, ... below end. Shape: (⌈(end−start)/step⌉).</summary>
    public static Tensor Arange(double start, double end, double step = 1, DType dtype = DType.Float32)
    {
        if (step == 0 || double.IsNaN(step)) throw new ArgumentException("Arange: step must be non-zero.");
        int n = Math.Max(0, (int)Math.Ceiling((end - start) / step));
        var t = Empty(dtype, [n]);
        for (int i = 0; i < n; i++) t.SetFlat(i, start + i * step);
        return t;
    }

    /// <summary>0, 1, ..., end−1.</summary>
    public static Tensor Arange(int end, DType dtype = DType.Float32) => Arange(0, end, 1, dtype);

    /// <summary>A 1-D float32 tensor over a copy of <paramref name="data"/>. Shape: (data.Length).</summary>
    public static Tensor FromArray(float[] data) => FromArrayCore((float[])data.Clone(), data.Length, [data.Length]);

    /// <summary>A float32 tensor over a copy of <paramref name="data"/> with the given shape; <c>[]</c> makes a 0-d tensor of one element.</summary>
    public static Tensor FromArray(float[] data, params int[] shape) => FromArrayCore((float[])data.Clone(), data.Length, shape);

    /// <summary>A 1-D float64 tensor over a copy of <paramref name="data"/>. Shape: (data.Length).</summary>
    public static Tensor FromArray(double[] data) => FromArrayCore((double[])data.Clone(), data.Length, [data.Length]);

    /// <summary>A float64 tensor over a copy of <paramref name="data"/> with the given shape; <c>[]</c> makes a 0-d tensor of one element.</summary>
    public static Tensor FromArray(double[] data, params int[] shape) => FromArrayCore((double[])data.Clone(), data.Length, shape);

    /// <summary>A 1-D int64 tensor over a copy of <paramref name="data"/> (class targets, indices). Shape: (data.Length).</summary>
    public static Tensor FromArray(long[] data) => FromArrayCore((long[])data.Clone(), data.Length, [data.Length]);

    /// <summary>An int64 tensor over a copy of <paramref name="data"/> with the given shape; <c>[]</c> makes a 0-d tensor of one element.</summary>
    public static Tensor FromArray(long[] data, params int[] shape) => FromArrayCore((long[])data.Clone(), data.Length, shape);

    /// <summary>A 1-D bool tensor over a copy of <paramref name="data"/> (masks). Shape: (data.Length).</summary>
    public static Tensor FromArray(bool[] data) => FromArrayCore((bool[])data.Clone(), data.Length, [data.Length]);

    /// <summary>A bool tensor over a copy of <paramref name="data"/> with the given shape; <c>[]</c> makes a 0-d tensor of one element.</summary>
    public static Tensor FromArray(bool[] data, params int[] shape) => FromArrayCore((bool[])data.Clone(), data.Length, shape);

    /// <summary>A float32 matrix from a rectangular array.</summary>
    public static Tensor FromArray(float[,] data)
    {
        var flat = new float[data.Length];
        int k = 0;
        foreach (var v in data) flat[k++] = v;
        return new Tensor(flat, [data.GetLength(0), data.GetLength(1)]);
    }

    /// <summary>A float64 matrix from a rectangular array.</summary>
    public static Tensor FromArray(double[,] data)
    {
        var flat = new double[data.Length];
        int k = 0;
        foreach (var v in data) flat[k++] = v;
        return new Tensor(flat, [data.GetLength(0), data.GetLength(1)]);
    }

    private static Tensor FromArrayCore(Array storage, int length, int[] shape)
    {
        shape = CheckShape("FromArray", shape);
        if (ShapeUtil.Numel(shape) != length)
            throw new ArgumentException($"FromArray: shape {ShapeUtil.Format(shape)} needs {ShapeUtil.Numel(shape)} elements but the array has {length}.");
        return new Tensor(storage, shape);
    }

    /// <summary>Uniform samples in [0, 1).</summary>
    public static Tensor Rand(int[] shape, DType dtype = DType.Float32, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Empty(dtype, CheckShape("Rand", shape));
        // each dtype draws with its own generator call (a float32 sample takes 24 random bits), so no generic body here
        switch (dtype)
        {
            case DType.Float32: { var s = t.Buffer<float>(); for (int i = 0; i < s.Length; i++) s[i] = g.NextSingle(); break; }
            case DType.Float64: { var s = t.Buffer<double>(); for (int i = 0; i < s.Length; i++) s[i] = g.NextDouble(); break; }
            default: throw DTypeDispatch.Unsupported("Rand", dtype);
        }
        return t;
    }

    /// <summary>Uniform samples in [low, high).</summary>
    public static Tensor Uniform(int[] shape, double low, double high, DType dtype = DType.Float32, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Empty(dtype, CheckShape("Uniform", shape));
        for (int i = 0; i < t.Numel; i++) t.SetFlat(i, low + (high - low) * g.NextDouble());
        return t;
    }

    /// <summary>Standard normal samples.</summary>
    public static Tensor Randn(int[] shape, DType dtype = DType.Float32, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Empty(dtype, CheckShape("Randn", shape));
        for (int i = 0; i < t.Numel; i++) t.SetFlat(i, g.NextNormal());
        return t;
    }

    /// <summary>Uniform integers in [low, high) of the given dtype (int64 holds them exactly; PyTorch's default is int64).</summary>
    public static Tensor RandInt(long low, long high, int[] shape, DType dtype = DType.Float32, Generator? generator = null)
    {
        var g = generator ?? Generator.Default;
        var t = Empty(dtype, CheckShape("RandInt", shape));
        for (int i = 0; i < t.Numel; i++) t.SetFlat(i, g.NextInt64(low, high));
        return t;
    }

    /// <summary>Reseeds <see cref="Generator.Default"/>.</summary>
    public static void ManualSeed(ulong seed) => Generator.Default.ManualSeed(seed);

    // only for freshly allocated contiguous tensors
    internal void SetFlat(int i, double v) => DTypeDispatch.RunAny("SetFlat", DType, new WriteElement(this, _offset + i, v));

    private readonly struct WriteElement(Tensor t, int pos, double value) : IAnyOp
    {
        public void Invoke<T>() where T : unmanaged => t.Buffer<T>()[pos] = ScalarConvert.FromDouble<T>(value);
    }
}
