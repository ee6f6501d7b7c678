namespace Nabla;

/// <summary>
/// A seedable random number generator (xoshiro256** seeded through SplitMix64): the same seed gives the same
/// numbers on every machine and thread count. <see cref="Default"/> is what creation functions use unless given one.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    /// <summary>Creates a generator from a seed.</summary>
    public Generator(ulong seed = 0) => ManualSeed(seed);

    /// <summary>The process-wide generator used when no generator is passed.</summary>
    public static Generator Default { get; } = new(0);

    /// <summary>Restarts the sequence from <paramref name="seed"/>.</summary>
    public void ManualSeed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
        _spareNormal = null;
    }

    /// <summary>The generator's full state, to save in a checkpoint and restore with <see cref="SetState"/>.</summary>
    public ulong[] GetState() => [_s0, _s1, _s2, _s3, _spareNormal is double d ? (ulong)BitConverter.DoubleToInt64Bits(d) : 0, _spareNormal is null ? 0UL : 1UL];

    /// <summary>Restores a state from <see cref="GetState"/>.</summary>
    public void SetState(ReadOnlySpan<ulong> state)
    {
        if (state.Length != 6) throw new ArgumentException($"Generator.SetState: expected 6 words, got {state.Length}.");
        (_s0, _s1, _s2, _s3) = (state[0], state[1], state[2], state[3]);
        _spareNormal = state[5] != 0 ? BitConverter.Int64BitsToDouble((long)state[4]) : null;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform float in [0, 1).</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>A uniform integer in [low, high).</summary>
    public long NextInt64(long low, long high)
    {
        if (high <= low) throw new ArgumentException($"Generator.NextInt64: high ({high}) must be greater than low ({low}).");
        ulong range = (ulong)(high - low);
        // rejection sampling: no modulo bias
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return low + (long)(r % range);
    }

    /// <summary>A standard normal sample (Box-Muller, pairs cached).</summary>
    public double NextNormal()
    {
        if (_spareNormal is double s)
        {
            _spareNormal = null;
            return s;
        }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Shuffles the span in place (Fisher-Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)NextInt64(0, i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
