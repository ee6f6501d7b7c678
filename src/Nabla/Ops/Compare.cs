using System.Numerics;
using Nabla.Kernels;

namespace Nabla;

// Comparisons are not differentiable: they return 1 where the relation holds, 0 elsewhere, in the inputs' dtype.
public partial class Tensor
{
    private static Tensor CompareOp(string op, Comparison c, Tensor a, Tensor b)
    {
        CheckSameDType(op, a, b);
        var shape = ShapeUtil.Broadcast(op, a._shape, b._shape);
        var y = Empty(a.DType, shape);
        var sa = a.BroadcastStrides(shape);
        var sb = b.BroadcastStrides(shape);
        DTypeDispatch.Run(op, a.DType, new CompareKernel(c, a, sa, b, sb, y, shape));
        return y;
    }

    private readonly struct CompareKernel(Comparison c, Tensor a, int[] sa, Tensor b, int[] sb, Tensor y, int[] shape) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            Elementwise.Compare(c, a.Buffer<T>(), a._offset, sa, b.Buffer<T>(), b._offset, sb, y.Buffer<T>(), shape);
    }

    /// <summary>1 where a == b. Shape: broadcast(a, b).</summary>
    public static Tensor Eq(Tensor a, Tensor b) => CompareOp("Eq", Comparison.Equal, a, b);
    /// <summary>1 where a != b. Shape: broadcast(a, b).</summary>
    public static Tensor Ne(Tensor a, Tensor b) => CompareOp("Ne", Comparison.NotEqual, a, b);
    /// <summary>1 where a &gt; b. Shape: broadcast(a, b).</summary>
    public static Tensor Gt(Tensor a, Tensor b) => CompareOp("Gt", Comparison.Greater, a, b);
    /// <summary>1 where a &gt;= b. Shape: broadcast(a, b).</summary>
    public static Tensor Ge(Tensor a, Tensor b) => CompareOp("Ge", Comparison.GreaterOrEqual, a, b);
    /// <summary>1 where a &lt; b. Shape: broadcast(a, b).</summary>
    public static Tensor Lt(Tensor a, Tensor b) => CompareOp("Lt", Comparison.Less, a, b);
    /// <summary>1 where a &lt;= b. Shape: broadcast(a, b).</summary>
    public static Tensor Le(Tensor a, Tensor b) => CompareOp("Le", Comparison.LessOrEqual, a, b);

    /// <summary>1 where x == s.</summary>
    public Tensor Eq(double s) => Eq(this, Like(s));
    /// <summary>1 where x &gt; s.</summary>
    public Tensor Gt(double s) => Gt(this, Like(s));
    /// <summary>1 where x &lt; s.</summary>
    public Tensor Lt(double s) => Lt(this, Like(s));
    /// <summary>1 where x &gt;= s.</summary>
    public Tensor Ge(double s) => Ge(this, Like(s));
    /// <summary>1 where x &lt;= s.</summary>
    public Tensor Le(double s) => Le(this, Like(s));
}
