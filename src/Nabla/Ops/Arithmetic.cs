using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Broadcasting element-wise arithmetic. Each backward sums the residual back to its input's shape (SumTo).
public partial class Tensor
{
    internal static Tensor BinaryOp<TF, TD>(string op, Tensor a, Tensor b)
        where TF : IBinaryOperator<float> where TD : IBinaryOperator<double>
    {
        // type promotion (torch.result_type): a bool mask or int64 tensor meets a float tensor in the float's dtype
        var common = DTypeExtensions.Promote(op, a.DType, b.DType);
        if (common == DType.Int64) return IntegerOp(op, a.To(common), b.To(common));
        a = a.Detach().To(common);
        b = b.Detach().To(common);
        var shape = ShapeUtil.Broadcast(op, a._shape, b._shape);
        var y = Uninitialized(a.DType, shape);
        var sa = a.BroadcastStrides(shape);
        var sb = b.BroadcastStrides(shape);
        // the operator structs are one type per dtype (TensorPrimitives style), so this pair is the dispatch for every binary op
        switch (a.DType)
        {
            case DType.Float32: Elementwise.Binary<float, TF>(a.Buffer<float>(), a._offset, sa, b.Buffer<float>(), b._offset, sb, y.Buffer<float>(), shape); break;
            case DType.Float64: Elementwise.Binary<double, TD>(a.Buffer<double>(), a._offset, sa, b.Buffer<double>(), b._offset, sb, y.Buffer<double>(), shape); break;
            default: throw DTypeDispatch.Unsupported(op, a.DType);
        }
        return y;
    }

    // a Python number meeting this tensor (PyTorch's scalar promotion): floats keep their dtype; an int64 or bool tensor
    // meets a whole number as int64 and a fraction as float32 (the default dtype), so mask * 0.5 is float32
    private Tensor Like(double value) => DType.IsFloatingPoint() ? Scalar(value, DType)
        : Scalar(value, value == Math.Floor(value) && Math.Abs(value) < 9.2e18 ? DType.Int64 : DType.Float32);

    // int64 arithmetic (exact, wrapping on overflow as PyTorch); true division and powers go through float
    private static Tensor IntegerOp(string op, Tensor a, Tensor b)
    {
        Func<long, long, long> f = op switch
        {
            "Add" => (p, q) => p + q,
            "Sub" => (p, q) => p - q,
            "Mul" or "Neg" => (p, q) => p * q,
            "Maximum" => Math.Max,
            "Minimum" => Math.Min,
            _ => throw new NotSupportedException($"{op}: dtype int64 is not supported; convert with To(DType.Float32)."),
        };
        var shape = ShapeUtil.Broadcast(op, a._shape, b._shape);
        var y = Empty(DType.Int64, shape);
        var (x, z, d) = (a.Buffer<long>(), b.Buffer<long>(), y.Buffer<long>());
        Strided.ForEachRow(shape, a.BroadcastStrides(shape), a._offset, b.BroadcastStrides(shape), b._offset, ShapeUtil.ContiguousStrides(shape), 0,
            (n, ox, sx, oz, sz, od, _) => { for (int i = 0; i < n; i++) d[od + i] = f(x[ox + i * sx], z[oz + i * sz]); });
        return y;
    }

    // dA = g, dB = g
    /// <summary>a + b with broadcasting. Shape: broadcast(a, b).</summary>
    public static Tensor Add(Tensor a, Tensor b)
    {
        var y = BinaryOp<AddOperator<float>, AddOperator<double>>("Add", a, b);
        return Engine.Record(y, "AddBackward", [a, b], g => [g.SumTo(a._shape), g.SumTo(b._shape)]);
    }

    // dA = g, dB = -g
    /// <summary>a − b with broadcasting. Shape: broadcast(a, b).</summary>
    public static Tensor Sub(Tensor a, Tensor b)
    {
        var y = BinaryOp<SubtractOperator<float>, SubtractOperator<double>>("Sub", a, b);
        return Engine.Record(y, "SubBackward", [a, b], g => [g.SumTo(a._shape), b.RequiresGrad ? (-g).SumTo(b._shape) : null]);
    }

    // dA = g·b, dB = g·a
    /// <summary>a · b element-wise with broadcasting. Shape: broadcast(a, b).</summary>
    public static Tensor Mul(Tensor a, Tensor b)
    {
        var y = BinaryOp<MultiplyOperator<float>, MultiplyOperator<double>>("Mul", a, b);
        return Engine.Record(y, "MulBackward", [a, b], g => [
            a.RequiresGrad ? (g * b).SumTo(a._shape) : null,
            b.RequiresGrad ? (g * a).SumTo(b._shape) : null]);
    }

    // dA = g / b, dB = −g·a / b²
    /// <summary>a / b element-wise with broadcasting. Shape: broadcast(a, b).</summary>
    public static Tensor Div(Tensor a, Tensor b)
    {
        // true division: integers divide as float32 (torch.div's default rounding_mode=None)
        if (!a.DType.IsFloatingPoint() && !b.DType.IsFloatingPoint()) (a, b) = (a.To(DType.Float32), b.To(DType.Float32));
        var y = BinaryOp<DivideOperator<float>, DivideOperator<double>>("Div", a, b);
        return Engine.Record(y, "DivBackward", [a, b], g => [
            a.RequiresGrad ? (g / b).SumTo(a._shape) : null,
            b.RequiresGrad ? (-g * a / (b * b)).SumTo(b._shape) : null]);
    }

    // the residual goes to the larger input; ties split it in half (as PyTorch)
    /// <summary>Element-wise maximum with broadcasting (NaN propagates). Shape: broadcast(a, b).</summary>
    public static Tensor Maximum(Tensor a, Tensor b)
    {
        var y = BinaryOp<MaximumOperator<float>, MaximumOperator<double>>("Maximum", a, b);
        return Engine.Record(y, "MaximumBackward", [a, b], g => TieSplit(g, a, b, Gt(a.Detach(), b.Detach())));
    }

    /// <summary>Element-wise minimum with broadcasting (NaN propagates). Shape: broadcast(a, b).</summary>
    public static Tensor Minimum(Tensor a, Tensor b)
    {
        var y = BinaryOp<MinimumOperator<float>, MinimumOperator<double>>("Minimum", a, b);
        return Engine.Record(y, "MinimumBackward", [a, b], g => TieSplit(g, a, b, Lt(a.Detach(), b.Detach())));
    }

    private static Tensor?[] TieSplit(Tensor g, Tensor a, Tensor b, Tensor aWins)
    {
        var tie = Eq(a.Detach(), b.Detach()).To(g.DType) * 0.5;
        var wa = aWins.To(g.DType) + tie;
        return [a.RequiresGrad ? (g * wa).SumTo(a._shape) : null, b.RequiresGrad ? (g * (1.0 - wa)).SumTo(b._shape) : null];
    }

    // dA = g·b·a^(b−1), dB = g·a^b·ln a
    /// <summary>a raised to b element-wise with broadcasting. Shape: broadcast(a, b).</summary>
    public static Tensor Pow(Tensor a, Tensor b)
    {
        var y = BinaryOp<PowOperator<float>, PowOperator<double>>("Pow", a, b);
        return Engine.Record(y, "PowBackward", [a, b], g => [
            a.RequiresGrad ? (g * b * Pow(a, b - 1.0)).SumTo(a._shape) : null,
            b.RequiresGrad ? (g * y * a.Log()).SumTo(b._shape) : null]);
    }

    // dx = g·p·x^(p−1)
    /// <summary>Each element raised to the power p.</summary>
    public Tensor Pow(double p)
    {
        var x = this;
        Tensor y;
        if (p == 2)
        {
            // the square as one SIMD multiply (correctly rounded, as pow(x, 2)); pow costs ~9 ns an element
            using (NoGrad()) y = x.Detach() * x.Detach();
            return Engine.Record(y, "PowBackward", [this], g => [g * 2.0 * x]);
        }
        y = BinaryOp<PowOperator<float>, PowOperator<double>>("Pow", this, Like(p));
        return Engine.Record(y, "PowBackward", [this], g => [g * p * x.Pow(p - 1)]);
    }

    /// <summary>a + b.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    /// <summary>a + s.</summary>
    public static Tensor operator +(Tensor a, double s) => Add(a, a.Like(s));
    /// <summary>s + a.</summary>
    public static Tensor operator +(double s, Tensor a) => Add(a.Like(s), a);
    /// <summary>a − b.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    /// <summary>a − s.</summary>
    public static Tensor operator -(Tensor a, double s) => Sub(a, a.Like(s));
    /// <summary>s − a.</summary>
    public static Tensor operator -(double s, Tensor a) => Sub(a.Like(s), a);
    /// <summary>a · b.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    /// <summary>a · s.</summary>
    public static Tensor operator *(Tensor a, double s) => Mul(a, a.Like(s));
    /// <summary>s · a.</summary>
    public static Tensor operator *(double s, Tensor a) => Mul(a.Like(s), a);
    /// <summary>a / b.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    /// <summary>a / s.</summary>
    public static Tensor operator /(Tensor a, double s) => Div(a, a.Like(s));
    /// <summary>s / a.</summary>
    public static Tensor operator /(double s, Tensor a) => Div(a.Like(s), a);
    /// <summary>−a.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();

    // dx = −g
    /// <summary>−x.</summary>
    public Tensor Neg()
    {
        var y = BinaryOp<MultiplyOperator<float>, MultiplyOperator<double>>("Neg", this, Like(-1));
        return Engine.Record(y, "NegBackward", [this], g => [-g]);
    }

    /// <summary>Logical not of a bool tensor (torch.logical_not, ~mask); other dtypes give true where zero. Shape: unchanged, dtype bool.</summary>
    public Tensor LogicalNot() => Eq(this, Scalar(0, DType.IsFloatingPoint() ? DType : DType.Int64));

    /// <summary>Adds <paramref name="other"/> (broadcast to this shape) into this tensor's elements, outside the graph.</summary>
    internal void AddInPlace(Tensor other)
    {
        CheckSameDType("AddInPlace", this, other);
        if (IsContiguous && other.IsContiguous && ShapeUtil.SameShape(_shape, other._shape))
        {
            DTypeDispatch.Run("AddInPlace", DType, new AddInto(other, this));
            return;
        }
        using var _ = NoGrad();
        CopyFrom(this + other);
    }

    // dst += src, both contiguous of one shape
    private readonly struct AddInto(Tensor src, Tensor dst) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
            System.Numerics.Tensors.TensorPrimitives.Add<T>(dst.Span<T>(), src.Span<T>(), dst.Span<T>());
    }
}
