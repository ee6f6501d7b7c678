using System.Numerics;
using Nabla.Kernels;

namespace Nabla;

// Comparisons are not differentiable: they return a bool tensor, true where the relation holds (as PyTorch). Inputs
// of different dtypes are compared in their promoted dtype (bool < int64 < float); NaN compares unequal to everything.
public partial class Tensor
{
    private static Tensor CompareOp(string op, Comparison c, Tensor a, Tensor b)
    {
        var common = DTypeExtensions.Promote(op, a.DType, b.DType);
        // bools compare as 0/1
        if (common == DType.Bool) common = DType.Int64;
        a = a.Detach().To(common);
        b = b.Detach().To(common);
        var shape = ShapeUtil.Broadcast(op, a._shape, b._shape);
        var y = Empty(DType.Bool, shape);
        var sa = a.BroadcastStrides(shape);
        var sb = b.BroadcastStrides(shape);
        DTypeDispatch.RunNumber(op, common, new CompareKernel(c, a, sa, b, sb, y, shape));
        return y;
    }

    private readonly struct CompareKernel(Comparison c, Tensor a, int[] sa, Tensor b, int[] sb, Tensor y, int[] shape) : INumberOp
    {
        public void Invoke<T>() where T : unmanaged, INumber<T>
        {
            var x = a.Buffer<T>();
            var z = b.Buffer<T>();
            var d = y.Buffer<bool>();
            var cmp = c;
            Strided.ForEachRow(shape, sa, a._offset, sb, b._offset, ShapeUtil.ContiguousStrides(shape), 0, (n, ox, sx, oz, sz, od, _) =>
            {
                for (int i = 0; i < n; i++)
                {
                    T p = x[ox + i * sx], q = z[oz + i * sz];
                    d[od + i] = cmp switch
                    {
                        Comparison.Equal => p == q,
                        Comparison.NotEqual => p != q,
                        Comparison.Greater => p > q,
                        Comparison.GreaterOrEqual => p >= q,
                        Comparison.Less => p < q,
                        _ => p <= q,
                    };
                }
            });
        }
    }

    /// <summary>True where a == b (torch.eq). Shape: broadcast(a, b), dtype bool.</summary>
    public static Tensor Eq(Tensor a, Tensor b) => CompareOp("Eq", Comparison.Equal, a, b);
    /// <summary>True where a != b (torch.ne). Shape: broadcast(a, b), dtype bool.</summary>
    public static Tensor Ne(Tensor a, Tensor b) => CompareOp("Ne", Comparison.NotEqual, a, b);
    /// <summary>True where a &gt; b (torch.gt). Shape: broadcast(a, b), dtype bool.</summary>
    public static Tensor Gt(Tensor a, Tensor b) => CompareOp("Gt", Comparison.Greater, a, b);
    /// <summary>True where a &gt;= b (torch.ge). Shape: broadcast(a, b), dtype bool.</summary>
    public static Tensor Ge(Tensor a, Tensor b) => CompareOp("Ge", Comparison.GreaterOrEqual, a, b);
    /// <summary>True where a &lt; b (torch.lt). Shape: broadcast(a, b), dtype bool.</summary>
    public static Tensor Lt(Tensor a, Tensor b) => CompareOp("Lt", Comparison.Less, a, b);
    /// <summary>True where a &lt;= b (torch.le). Shape: broadcast(a, b), dtype bool.</summary>
    public static Tensor Le(Tensor a, Tensor b) => CompareOp("Le", Comparison.LessOrEqual, a, b);

    /// <summary>True where x == s.</summary>
    public Tensor Eq(double s) => Eq(this, Like(s));
    /// <summary>True where x != s.</summary>
    public Tensor Ne(double s) => Ne(this, Like(s));
    /// <summary>True where x &gt; s.</summary>
    public Tensor Gt(double s) => Gt(this, Like(s));
    /// <summary>True where x &lt; s.</summary>
    public Tensor Lt(double s) => Lt(this, Like(s));
    /// <summary>True where x &gt;= s.</summary>
    public Tensor Ge(double s) => Ge(this, Like(s));
    /// <summary>True where x &lt;= s.</summary>
    public Tensor Le(double s) => Le(this, Like(s));
}
