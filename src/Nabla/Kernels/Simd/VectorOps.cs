using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Nabla.Kernels;

// One vector width's operations, so a kernel can be written once for Vector512, Vector256 and Vector128
// (the GEMM's narrow kernel, the row kernels of the convolution).
internal interface IVectorOps<TV, T> where T : unmanaged
{
    static abstract int Count { get; }

    static abstract unsafe TV Load(T* p);

    static abstract TV Broadcast(T x);

    static abstract TV Fma(TV x, TV y, TV z);

    /// <summary>C = alpha·acc + beta·C (beta == 0: C is not read), as the 512-bit GEMM kernel's update.</summary>
    static abstract unsafe void Update(TV acc, T* c, T alpha, T beta);

    static abstract unsafe void Store(TV v, T* p);

    /// <summary>The sum of the lanes.</summary>
    static abstract T Sum(TV v);

    static abstract TV Add(TV a, TV b);

    static abstract TV Sub(TV a, TV b);

    static abstract TV Mul(TV a, TV b);

    /// <summary>The vector at s[i..] (the caller keeps i + Count ≤ s.Length).</summary>
    static abstract TV Load(ReadOnlySpan<T> s, int i);

    /// <summary>Stores v at s[i..] (the caller keeps i + Count ≤ s.Length).</summary>
    static abstract void Store(TV v, Span<T> s, int i);
}

internal struct Ops256<T> : IVectorOps<Vector256<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Sub(Vector256<T> a, Vector256<T> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Mul(Vector256<T> a, Vector256<T> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(ReadOnlySpan<T> s, int i) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<T> v, Span<T> s, int i) => v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    public static int Count => Vector256<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<T> Load(T* p) => Vector256.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector256<T> v, T* p) => Vector256.Store(v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector256<T> v) => Vector256.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T x) => Vector256.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Fma(Vector256<T> x, Vector256<T> y, Vector256<T> z) => typeof(T) == typeof(float)
        ? Vector256.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>()
        : Vector256.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Update(Vector256<T> acc, T* c, T alpha, T beta)
    {
        var va = Vector256.Create(alpha);
        if (T.IsZero(beta)) Vector256.Store(va * acc, c);
        else if (beta == T.One) Vector256.Store(Fma(va, acc, Vector256.Load(c)), c);
        else Vector256.Store(Fma(va, acc, Vector256.Create(beta) * Vector256.Load(c)), c);
    }
}

internal struct Ops128<T> : IVectorOps<Vector128<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Add(Vector128<T> a, Vector128<T> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Sub(Vector128<T> a, Vector128<T> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Mul(Vector128<T> a, Vector128<T> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Load(ReadOnlySpan<T> s, int i) => Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<T> v, Span<T> s, int i) => v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    public static int Count => Vector128<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<T> Load(T* p) => Vector128.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector128<T> v, T* p) => Vector128.Store(v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector128<T> v) => Vector128.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Broadcast(T x) => Vector128.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Fma(Vector128<T> x, Vector128<T> y, Vector128<T> z) => typeof(T) == typeof(float)
        ? Vector128.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>()
        : Vector128.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Update(Vector128<T> acc, T* c, T alpha, T beta)
    {
        var va = Vector128.Create(alpha);
        if (T.IsZero(beta)) Vector128.Store(va * acc, c);
        else if (beta == T.One) Vector128.Store(Fma(va, acc, Vector128.Load(c)), c);
        else Vector128.Store(Fma(va, acc, Vector128.Create(beta) * Vector128.Load(c)), c);
    }
}

internal struct Ops512<T> : IVectorOps<Vector512<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Sub(Vector512<T> a, Vector512<T> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Mul(Vector512<T> a, Vector512<T> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(ReadOnlySpan<T> s, int i) => Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<T> v, Span<T> s, int i) => v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    public static int Count => Vector512<T>.Count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<T> Load(T* p) => Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Vector512<T> v, T* p) => Vector512.Store(v, p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector512<T> v) => Vector512.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T x) => Vector512.Create(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Fma(Vector512<T> x, Vector512<T> y, Vector512<T> z) => typeof(T) == typeof(float)
        ? Vector512.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), z.AsSingle()).As<float, T>()
        : Vector512.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), z.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Update(Vector512<T> acc, T* c, T alpha, T beta)
    {
        var va = Vector512.Create(alpha);
        if (T.IsZero(beta)) Vector512.Store(va * acc, c);
        else if (beta == T.One) Vector512.Store(Fma(va, acc, Vector512.Load(c)), c);
        else Vector512.Store(Fma(va, acc, Vector512.Create(beta) * Vector512.Load(c)), c);
    }
}
