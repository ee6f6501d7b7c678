using System.Numerics;
using Nabla.Autograd;

namespace Nabla;

// Cumsum: y_i = Σ_{j ≤ i} x_j along a dim. Backward: dx_j = Σ_{i ≥ j} g_i, the cumulative sum of g taken from the end.
public partial class Tensor
{
    /// <summary>
    /// The running sum along <paramref name="dim"/> (torch.cumsum); int64 and bool inputs sum in int64.
    /// Shape: unchanged.
    /// </summary>
    public Tensor Cumsum(int dim) => CumsumCore(ShapeUtil.Dim("Cumsum", dim, Math.Max(Rank, 1)), reverse: false);

    private Tensor CumsumCore(int d, bool reverse)
    {
        var dt = DType == DType.Bool ? DType.Int64 : DType;
        if (Rank == 0) return Engine.Record(Detach().To(dt).Clone(), "CumsumBackward", [this], g => [g]);
        // dim d last, so each row is one run
        var perm = Enumerable.Range(0, Rank).Where(i => i != d).Append(d).ToArray();
        var inverse = new int[Rank];
        for (int i = 0; i < Rank; i++) inverse[perm[i]] = i;
        var x = Detach().To(dt).Permute(perm).Contiguous();
        var y = Empty(dt, x._shape.ToArray());
        DTypeDispatch.RunNumber("Cumsum", dt, new CumsumKernel(x, y, _shape[d], reverse));
        var result = y.Permute(inverse).Contiguous();
        // the backward is the same op run the other way, itself recorded (so it can be differentiated again)
        return Engine.Record(result, "CumsumBackward", [this], g => [g.CumsumCore(d, !reverse)]);
    }

    private readonly struct CumsumKernel(Tensor x, Tensor y, int n, bool reverse) : INumberOp
    {
        public void Invoke<T>() where T : unmanaged, INumber<T>
        {
            var xs = x.Span<T>();
            var ys = y.Span<T>();
            for (int r = 0; n > 0 && r < xs.Length / n; r++)
            {
                T acc = T.Zero;
                for (int k = 0; k < n; k++)
                {
                    int i = r * n + (reverse ? n - 1 - k : k);
                    acc += xs[i];
                    ys[i] = acc;
                }
            }
        }
    }
}
