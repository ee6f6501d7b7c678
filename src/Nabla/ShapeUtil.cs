using System.Text;

namespace Nabla;

/// <summary>Shape arithmetic shared by the ops: element counts, strides, broadcasting, dim normalisation.</summary>
internal static class ShapeUtil
{
    public static int Numel(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        if (n > Array.MaxLength) throw new ArgumentException($"A tensor of shape {Format(shape)} has {n} elements, more than a .NET array can hold ({Array.MaxLength}).");
        return (int)n;
    }

    public static int[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    public static string Format(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }

    public static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    /// <summary>The broadcast shape of a and b (NumPy rules), or an error naming the op and both shapes.</summary>
    public static int[] Broadcast(string op, ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Format(a)} and {Format(b)} cannot be broadcast together (dim {i - rank} is {da} vs {db}).");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Normalises a possibly negative dim into [0, rank).</summary>
    public static int Dim(string op, int dim, int rank)
    {
        int r = Math.Max(rank, 1);
        if (dim < -r || dim >= r) throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dim {dim} is out of range for a tensor of rank {rank} (expected [{-r}, {r - 1}]).");
        return dim < 0 ? dim + r : dim;
    }
}
