using Nabla.Autograd;

namespace Nabla;

// Where picks each element from one of two tensors by a bool condition; MaskedFill is Where with a constant.
// Backward: the residual goes to the tensor each element came from: dInput = where(c, g, 0), dOther = where(c, 0, g).
public partial class Tensor
{
    /// <summary>
    /// input where <paramref name="condition"/> is true, else other (torch.where). The condition must be bool; input
    /// and other are promoted to a common dtype. Shape: broadcast(condition, input, other).
    /// </summary>
    public static Tensor Where(Tensor condition, Tensor input, Tensor other)
    {
        const string op = "Where";
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(other);
        if (condition.DType != DType.Bool)
            throw new ArgumentException($"{op}: condition must be a bool tensor, got {condition.DType.Name()} (compare first, e.g. x.Gt(0)).");
        var dt = DTypeExtensions.Promote(op, input.DType, other.DType);
        var shape = ShapeUtil.Broadcast(op, ShapeUtil.Broadcast(op, condition._shape, input._shape), other._shape);
        var c = condition.Expand(shape).Contiguous().Span<bool>().ToArray();
        var a = input.Detach().To(dt).Expand(shape).Contiguous();
        var b = other.Detach().To(dt).Expand(shape).Contiguous();
        var y = Empty(dt, shape);
        DTypeDispatch.RunAny(op, dt, new WhereKernel(c, a, b, y));
        return Engine.Record(y, "WhereBackward", [input, other], g =>
        {
            var zero = Scalar(0, g.DType);
            return [input.RequiresGrad ? Where(condition, g, zero).SumTo(input._shape) : null,
                    other.RequiresGrad ? Where(condition, zero, g).SumTo(other._shape) : null];
        });
    }

    /// <summary>input where <paramref name="condition"/> is true, else the number <paramref name="other"/>. Shape: broadcast(condition, input).</summary>
    public static Tensor Where(Tensor condition, Tensor input, double other) => Where(condition, input, input.Like(other));

    /// <summary>The number <paramref name="input"/> where <paramref name="condition"/> is true, else other. Shape: broadcast(condition, other).</summary>
    public static Tensor Where(Tensor condition, double input, Tensor other) => Where(condition, other.Like(input), other);

    /// <summary>
    /// This tensor with <paramref name="value"/> where <paramref name="mask"/> (bool, broadcastable to this shape) is
    /// true (torch.masked_fill); the filled elements get no gradient. Shape: unchanged.
    /// </summary>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.DType != DType.Bool) throw new ArgumentException($"MaskedFill: mask must be a bool tensor, got {mask.DType.Name()}.");
        // the result keeps this tensor's shape and dtype, as PyTorch's in-place masked_fill_
        if (mask.Rank > Rank || !ShapeUtil.SameShape(ShapeUtil.Broadcast("MaskedFill", mask._shape, _shape), _shape))
            throw new ArgumentException($"MaskedFill: mask of shape {ShapeUtil.Format(mask._shape)} does not broadcast to the input's shape {ShapeUtil.Format(_shape)}.");
        return Where(mask, Scalar(value, DType), this);
    }

    private readonly struct WhereKernel(bool[] c, Tensor a, Tensor b, Tensor y) : IAnyOp
    {
        public void Invoke<T>() where T : unmanaged
        {
            Span<T> sa = a.Span<T>(), sb = b.Span<T>(), sy = y.Span<T>();
            for (int i = 0; i < sy.Length; i++) sy[i] = c[i] ? sa[i] : sb[i];
        }
    }
}
