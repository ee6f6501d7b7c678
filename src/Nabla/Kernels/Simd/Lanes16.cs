using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels;

/// <summary>
/// Sixteen float lanes and the few operations the Winograd convolution and the 2x2 max pool need on them, so that one kernel runs on
/// AVX-512 (<see cref="Lanes512"/>: one zmm register) and on AVX2 (<see cref="Lanes256x2"/>: two ymm registers) with
/// the same arithmetic in the same order: both give bit-identical results. The one companion of
/// <see cref="IVectorOps{TV, T}"/>: these kernels split, interleave and mask lanes across all 16 (a 4x4 transform's
/// rows, a 2x2 window's columns), so their lane count is fixed and the width only decides how many registers hold it.
/// </summary>
internal interface ILanes16<TV> where TV : struct
{
    static abstract unsafe TV Load(float* p);

    static abstract unsafe void Store(TV v, float* p);

    static abstract TV Zero { get; }

    static abstract TV Broadcast(float x);

    static abstract TV Add(TV a, TV b);

    static abstract TV Sub(TV a, TV b);

    static abstract TV Mul(TV a, TV b);

    /// <summary>Lanes 2i of the 32 values (v0, v1).</summary>
    static abstract TV Even(TV v0, TV v1);

    /// <summary>Lanes 2i + 1 of the 32 values (v0, v1).</summary>
    static abstract TV Odd(TV v0, TV v1);

    /// <summary>row[col + i] for the lanes with 0 ≤ col + i &lt; width, else 0; lanes outside are never read.</summary>
    static abstract unsafe TV LoadWindow(float* row, int col, int width);

    /// <summary>Writes e0, o0, e1, o1, … (the first <paramref name="count"/> of those 32 values, count ≥ 1) to dst.</summary>
    static abstract unsafe void StoreInterleaved(TV e, TV o, float* dst, int count);

    /// <summary>first + 2·lane, as floats (exact below 2^24).</summary>
    static abstract TV EvenIndices(int first);

    /// <summary>All-ones lanes where a == b (false for NaN).</summary>
    static abstract TV Equal(TV a, TV b);

    /// <summary>All-ones lanes where a &gt; b.</summary>
    static abstract TV GreaterThan(TV a, TV b);

    static abstract TV And(TV a, TV b);

    static abstract TV Or(TV a, TV b);

    static abstract TV Not(TV a);

    /// <summary>mask ? a : b, lane by lane.</summary>
    static abstract TV Select(TV mask, TV a, TV b);

    /// <summary>Stores the first <paramref name="count"/> lanes (1..16).</summary>
    static abstract unsafe void StoreFirst(TV v, float* dst, int count);

    /// <summary>Stores the first <paramref name="count"/> lanes (1..16) converted to int (whole numbers).</summary>
    static abstract unsafe void StoreFirstAsInt(TV v, int* dst, int count);

    /// <summary>Lanes holding the bits of ints (a load of an int array) as those ints' values, as floats (exact below 2^24).</summary>
    static abstract TV IntBitsToFloat(TV v);
}

/// <summary>16 lanes in one AVX-512 register.</summary>
internal struct Lanes512 : ILanes16<Vector512<float>>
{
    private static readonly Vector512<int> s_iota = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    private static readonly Vector512<int> s_even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    private static readonly Vector512<int> s_lo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);

    public static Vector512<float> Zero => Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load(float* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector512<float> v, float* p) => Vector512.Store(v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Broadcast(float x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Mul(Vector512<float> a, Vector512<float> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Even(Vector512<float> v0, Vector512<float> v1) => Avx512F.PermuteVar16x32x2(v0, s_even, v1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Odd(Vector512<float> v0, Vector512<float> v1) => Avx512F.PermuteVar16x32x2(v0, s_even + Vector512<int>.One, v1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> LoadWindow(float* row, int col, int width)
    {
        if (col >= 0 && col + 16 <= width) return Vector512.Load(row + col);
        var idx = s_iota + Vector512.Create(col);
        var inside = Vector512.GreaterThanOrEqual(idx, Vector512<int>.Zero) & Vector512.LessThan(idx, Vector512.Create(width));
        return Avx512F.MaskLoad(row + col, inside.AsSingle(), Vector512<float>.Zero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreInterleaved(Vector512<float> e, Vector512<float> o, float* dst, int count)
    {
        var lo = Avx512F.PermuteVar16x32x2(e, s_lo, o);
        if (count >= 16) Vector512.Store(lo, dst);
        else Avx512F.MaskStore(dst, FirstLanes(count), lo);
        if (count <= 16) return;
        var hi = Avx512F.PermuteVar16x32x2(e, s_lo + Vector512.Create(8), o);
        if (count >= 32) Vector512.Store(hi, dst + 16);
        else Avx512F.MaskStore(dst + 16, FirstLanes(count - 16), hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FirstLanes(int count) => Vector512.LessThan(s_iota, Vector512.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> EvenIndices(int first) => Vector512.ConvertToSingle(s_even + Vector512.Create(first));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Equal(Vector512<float> a, Vector512<float> b) => Vector512.Equals(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> GreaterThan(Vector512<float> a, Vector512<float> b) => Vector512.GreaterThan(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Or(Vector512<float> a, Vector512<float> b) => a | b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Not(Vector512<float> a) => ~a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Select(Vector512<float> mask, Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(mask, a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreFirst(Vector512<float> v, float* dst, int count)
    {
        if (count >= 16) Vector512.Store(v, dst);
        else Avx512F.MaskStore(dst, FirstLanes(count), v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreFirstAsInt(Vector512<float> v, int* dst, int count)
    {
        var i = Vector512.ConvertToInt32(v);
        if (count >= 16) Vector512.Store(i, dst);
        else Avx512F.MaskStore(dst, FirstLanes(count).AsInt32(), i);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> IntBitsToFloat(Vector512<float> v) => Vector512.ConvertToSingle(v.AsInt32());
}

/// <summary>Two AVX2 registers: lanes 0–7 and 8–15.</summary>
internal readonly record struct Vector256x2(Vector256<float> Lo, Vector256<float> Hi);

/// <summary>16 lanes in two AVX2 registers.</summary>
internal struct Lanes256x2 : ILanes16<Vector256x2>
{
    private static readonly Vector256<int> s_iota = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);

    public static Vector256x2 Zero => default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256x2 Load(float* p) => new(Vector256.Load(p), Vector256.Load(p + 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector256x2 v, float* p)
    {
        Vector256.Store(v.Lo, p);
        Vector256.Store(v.Hi, p + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Broadcast(float x) => new(Vector256.Create(x), Vector256.Create(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Add(Vector256x2 a, Vector256x2 b) => new(a.Lo + b.Lo, a.Hi + b.Hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Sub(Vector256x2 a, Vector256x2 b) => new(a.Lo - b.Lo, a.Hi - b.Hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Mul(Vector256x2 a, Vector256x2 b) => new(a.Lo * b.Lo, a.Hi * b.Hi);

    // the even (0x88) or odd (0xDD) elements of a then b, per 128-bit half; then the halves' 64-bit pairs in order
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PickEven(Vector256<float> a, Vector256<float> b) =>
        Avx2.Permute4x64(Avx.Shuffle(a, b, 0x88).AsDouble(), 0xD8).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> PickOdd(Vector256<float> a, Vector256<float> b) =>
        Avx2.Permute4x64(Avx.Shuffle(a, b, 0xDD).AsDouble(), 0xD8).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Even(Vector256x2 v0, Vector256x2 v1) => new(PickEven(v0.Lo, v0.Hi), PickEven(v1.Lo, v1.Hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Odd(Vector256x2 v0, Vector256x2 v1) => new(PickOdd(v0.Lo, v0.Hi), PickOdd(v1.Lo, v1.Hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256x2 LoadWindow(float* row, int col, int width)
    {
        if (col >= 0 && col + 16 <= width) return Load(row + col);
        return new(Window8(row, col, width), Window8(row, col + 8, width));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Window8(float* row, int col, int width)
    {
        var idx = s_iota + Vector256.Create(col);
        var inside = Vector256.GreaterThanOrEqual(idx, Vector256<int>.Zero) & Vector256.LessThan(idx, Vector256.Create(width));
        return Avx.MaskLoad(row + col, inside.AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreInterleaved(Vector256x2 e, Vector256x2 o, float* dst, int count)
    {
        // e0 o0 … e7 o7 from the low registers, e8 o8 … e15 o15 from the high ones, 8 values per store
        Interleave(e.Lo, o.Lo, dst, count);
        if (count > 16) Interleave(e.Hi, o.Hi, dst + 16, count - 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Interleave(Vector256<float> e, Vector256<float> o, float* dst, int count)
    {
        var lo = Avx.UnpackLow(e, o);    // e0 o0 e1 o1 | e4 o4 e5 o5
        var hi = Avx.UnpackHigh(e, o);   // e2 o2 e3 o3 | e6 o6 e7 o7
        var first = Avx.Permute2x128(lo, hi, 0x20);
        var second = Avx.Permute2x128(lo, hi, 0x31);
        StoreFirst(first, dst, count);
        if (count > 8) StoreFirst(second, dst + 8, count - 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreFirst(Vector256<float> v, float* dst, int count)
    {
        if (count >= 8) Vector256.Store(v, dst);
        else Avx.MaskStore(dst, Vector256.LessThan(s_iota, Vector256.Create(count)).AsSingle(), v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 EvenIndices(int first)
    {
        var lo = Vector256.ConvertToSingle(s_iota * 2 + Vector256.Create(first));
        return new(lo, lo + Vector256.Create(16f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Equal(Vector256x2 a, Vector256x2 b) => new(Vector256.Equals(a.Lo, b.Lo), Vector256.Equals(a.Hi, b.Hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 GreaterThan(Vector256x2 a, Vector256x2 b) => new(Vector256.GreaterThan(a.Lo, b.Lo), Vector256.GreaterThan(a.Hi, b.Hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 And(Vector256x2 a, Vector256x2 b) => new(a.Lo & b.Lo, a.Hi & b.Hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Or(Vector256x2 a, Vector256x2 b) => new(a.Lo | b.Lo, a.Hi | b.Hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Not(Vector256x2 a) => new(~a.Lo, ~a.Hi);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 Select(Vector256x2 mask, Vector256x2 a, Vector256x2 b) =>
        new(Vector256.ConditionalSelect(mask.Lo, a.Lo, b.Lo), Vector256.ConditionalSelect(mask.Hi, a.Hi, b.Hi));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreFirst(Vector256x2 v, float* dst, int count)
    {
        StoreFirst(v.Lo, dst, count);
        if (count > 8) StoreFirst(v.Hi, dst + 8, count - 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256x2 IntBitsToFloat(Vector256x2 v) =>
        new(Vector256.ConvertToSingle(v.Lo.AsInt32()), Vector256.ConvertToSingle(v.Hi.AsInt32()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreFirstAsInt(Vector256x2 v, int* dst, int count)
    {
        StoreFirstInt(Vector256.ConvertToInt32(v.Lo), dst, count);
        if (count > 8) StoreFirstInt(Vector256.ConvertToInt32(v.Hi), dst + 8, count - 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreFirstInt(Vector256<int> v, int* dst, int count)
    {
        if (count >= 8) Vector256.Store(v, dst);
        else Avx2.MaskStore(dst, Vector256.LessThan(s_iota, Vector256.Create(count)), v);
    }
}
