using System.Numerics;

namespace Nabla;

// Sort and TopK find the order along a dim; the values are then a Gather of the input at those indices, so the
// residual flows back to the positions the values came from (Gather's backward).
public partial class Tensor
{
    /// <summary>
    /// The elements sorted along <paramref name="dim"/> and the int64 indices they came from (torch.sort). NaN sorts
    /// as the largest value; equal elements keep their order (the sort is always stable, so <paramref name="stable"/>
    /// only documents the intent). Shape: values and indices as the input.
    /// </summary>
    public ValuesIndices Sort(int dim = -1, bool descending = false, bool stable = false)
    {
        _ = stable;
        var indices = SortIndices("Sort", dim, descending, out int d);
        return new ValuesIndices(Gather(d, indices), indices);
    }

    /// <summary>
    /// The <paramref name="k"/> largest (or smallest) elements along <paramref name="dim"/> with their int64 indices
    /// (torch.topk); sorted by value (ties by position) whatever <paramref name="sorted"/> says. Shape: dim's size becomes k.
    /// </summary>
    public ValuesIndices TopK(int k, int dim = -1, bool largest = true, bool sorted = true)
    {
        _ = sorted;
        int d = ShapeUtil.Dim("TopK", dim, Math.Max(Rank, 1));
        int size = Rank == 0 ? 1 : _shape[d];
        if (k < 0 || k > size) throw new ArgumentOutOfRangeException(nameof(k), $"TopK: k ({k}) is out of range for dim {d} of size {size}.");
        var all = SortIndices("TopK", dim, largest, out d);
        var indices = Rank == 0 ? all : all.Narrow(d, 0, k).Contiguous();
        return new ValuesIndices(Gather(d, indices), indices);
    }

    // the int64 permutation that sorts each run along dim (ascending, or descending), stable
    private Tensor SortIndices(string op, int dim, bool descending, out int sortedDim)
    {
        int d = sortedDim = ShapeUtil.Dim(op, dim, Math.Max(Rank, 1));
        if (Rank == 0) return Zeros([], DType.Int64);
        var perm = Enumerable.Range(0, Rank).Where(i => i != d).Append(d).ToArray();
        var inverse = new int[Rank];
        for (int i = 0; i < Rank; i++) inverse[perm[i]] = i;
        var dt = DType == DType.Bool ? DType.Int64 : DType;
        var x = Detach().To(dt).Permute(perm).Contiguous();
        var idx = Empty(DType.Int64, x._shape.ToArray());
        DTypeDispatch.RunNumber(op, dt, new SortKernel(x, idx, _shape[d], descending));
        return idx.Permute(inverse).Contiguous();
    }

    private readonly struct SortKernel(Tensor x, Tensor idx, int n, bool descending) : INumberOp
    {
        public void Invoke<T>() where T : unmanaged, INumber<T>
        {
            var xs = x.Buffer<T>();
            var o = idx.Span<long>();
            var order = new int[n];
            bool desc = descending;
            for (int r = 0; n > 0 && r < o.Length / n; r++)
            {
                int start = r * n;
                for (int k = 0; k < n; k++) order[k] = k;
                // NaN is the largest value (PyTorch); ties broken by position make the sort stable
                Array.Sort(order, (i, j) =>
                {
                    T a = xs[start + i], b = xs[start + j];
                    int c = T.IsNaN(a) ? (T.IsNaN(b) ? 0 : 1) : T.IsNaN(b) ? -1 : a.CompareTo(b);
                    if (desc) c = -c;
                    return c != 0 ? c : i.CompareTo(j);
                });
                for (int k = 0; k < n; k++) o[start + k] = order[k];
            }
        }
    }
}
