using System.Buffers.Binary;

namespace Nabla.Data;

/// <summary>Element type codes of the IDX format (the third byte of the magic number).</summary>
public enum IdxDataType : byte
{
    /// <summary>Unsigned byte (0x08), 1 byte per element.</summary>
    UnsignedByte = 0x08,

    /// <summary>Signed byte (0x09), 1 byte per element.</summary>
    SignedByte = 0x09,

    /// <summary>Big-endian signed 16-bit integer (0x0B), 2 bytes per element.</summary>
    Int16 = 0x0B,

    /// <summary>Big-endian signed 32-bit integer (0x0C), 4 bytes per element.</summary>
    Int32 = 0x0C,

    /// <summary>Big-endian IEEE 754 single (0x0D), 4 bytes per element.</summary>
    Single = 0x0D,

    /// <summary>Big-endian IEEE 754 double (0x0E), 8 bytes per element.</summary>
    Double = 0x0E,
}

/// <summary>
/// An n-dimensional array read from or written to an IDX file: an element type, a shape (1 to 8 dimensions,
/// row-major) and the raw element bytes exactly as the file stores them (big-endian for multi-byte types).
/// </summary>
public sealed class IdxArray
{
    /// <summary>The largest rank the IDX reader and writer accept.</summary>
    public const int MaxRank = 8;

    /// <summary>Creates an array of unsigned bytes (type code 0x08), the type MNIST uses.</summary>
    /// <param name="shape">The dimensions, 1 to 8 of them, each non-negative.</param>
    /// <param name="data">The elements in row-major order; its length must be the product of <paramref name="shape"/>.</param>
    /// <exception cref="ArgumentException">The shape is invalid or does not match the data length.</exception>
    public IdxArray(int[] shape, byte[] data)
        : this(IdxDataType.UnsignedByte, shape, data)
    {
    }

    /// <summary>Creates an array of any IDX element type from its raw big-endian element bytes.</summary>
    /// <param name="type">The element type.</param>
    /// <param name="shape">The dimensions, 1 to 8 of them, each non-negative.</param>
    /// <param name="data">The element bytes in row-major order, big-endian for multi-byte types; its length must be
    /// the product of <paramref name="shape"/> times the element size.</param>
    /// <exception cref="ArgumentException">The type or shape is invalid or does not match the data length.</exception>
    public IdxArray(IdxDataType type, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        Type = type;
        Shape = shape;
        Data = data;
        string? problem = Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem);
        }
    }

    /// <summary>The element type.</summary>
    public IdxDataType Type { get; }

    /// <summary>The dimensions, outermost first (for MNIST images: count, rows, columns).</summary>
    public int[] Shape { get; }

    /// <summary>The raw element bytes in row-major order, as stored in the file (big-endian for multi-byte types).</summary>
    public byte[] Data { get; }

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Length;

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public long Count => Data.Length / ElementSize(Type);

    /// <summary>The size in bytes of one element of the given type.</summary>
    /// <param name="type">An IDX element type.</param>
    /// <returns>1, 2, 4 or 8.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is not an IDX type code.</exception>
    public static int ElementSize(IdxDataType type) => type switch
    {
        IdxDataType.UnsignedByte or IdxDataType.SignedByte => 1,
        IdxDataType.Int16 => 2,
        IdxDataType.Int32 or IdxDataType.Single => 4,
        IdxDataType.Double => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an IDX element type."),
    };

    /// <summary>Whether the byte is one of the IDX type codes 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E.</summary>
    internal static bool IsKnownType(byte code) => code is 0x08 or 0x09 or 0x0B or 0x0C or 0x0D or 0x0E;

    /// <summary>Creates a single-precision array (type code 0x0D) from values in row-major order.</summary>
    /// <param name="shape">The dimensions, 1 to 8 of them, each non-negative.</param>
    /// <param name="values">The elements; their number must be the product of <paramref name="shape"/>.</param>
    /// <returns>A new array holding the values encoded big-endian.</returns>
    /// <exception cref="ArgumentException">The shape is invalid or does not match the number of values.</exception>
    public static IdxArray FromSingle(int[] shape, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if ((long)values.Length * 4 > Array.MaxLength)
        {
            throw new ArgumentException($"{values.Length} floats do not fit in one byte array.", nameof(values));
        }

        var data = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleBigEndian(data.AsSpan(i * 4), values[i]);
        }

        return new IdxArray(IdxDataType.Single, shape, data);
    }

    /// <summary>
    /// Decodes the elements to <see cref="float"/>, whatever the element type (unsigned bytes become 0 to 255, not
    /// scaled; 32-bit integers and doubles are rounded to the nearest float).
    /// </summary>
    /// <returns>A new array of <see cref="Count"/> values in row-major order.</returns>
    public float[] ToSingle()
    {
        ReadOnlySpan<byte> d = Data;
        var result = new float[Count];
        switch (Type)
        {
            case IdxDataType.UnsignedByte:
                for (int i = 0; i < result.Length; i++) result[i] = d[i];
                break;
            case IdxDataType.SignedByte:
                for (int i = 0; i < result.Length; i++) result[i] = (sbyte)d[i];
                break;
            case IdxDataType.Int16:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt16BigEndian(d.Slice(i * 2));
                break;
            case IdxDataType.Int32:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadInt32BigEndian(d.Slice(i * 4));
                break;
            case IdxDataType.Single:
                for (int i = 0; i < result.Length; i++) result[i] = BinaryPrimitives.ReadSingleBigEndian(d.Slice(i * 4));
                break;
            case IdxDataType.Double:
                for (int i = 0; i < result.Length; i++) result[i] = (float)BinaryPrimitives.ReadDoubleBigEndian(d.Slice(i * 8));
                break;
            default:
                throw new InvalidOperationException($"Unknown IDX element type 0x{(byte)Type:X2}.");
        }

        return result;
    }

    /// <summary>Checks the invariants (the public arrays can be mutated after construction); null when valid.</summary>
    internal string? Validate()
    {
        if (!IsKnownType((byte)Type))
        {
            return $"unknown IDX element type 0x{(byte)Type:X2} (expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E)";
        }

        if (Shape.Length is 0 or > MaxRank)
        {
            return $"rank {Shape.Length} is out of range (expected 1 to {MaxRank})";
        }

        long elements = 1;
        for (int i = 0; i < Shape.Length; i++)
        {
            if (Shape[i] < 0)
            {
                return $"dimension {i} is negative ({Shape[i]})";
            }

            // Saturate: once above Array.MaxLength it cannot match any byte array, and this never overflows.
            elements = Math.Min(elements * Shape[i], (long)Array.MaxLength + 1);
        }

        long bytes = elements * ElementSize(Type);
        if (bytes != Data.Length)
        {
            return $"shape [{string.Join(", ", Shape)}] of {Type} needs {bytes} data bytes, but there are {Data.Length}";
        }

        return null;
    }
}
