using System.Numerics;
using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// The text's connection layer, fused: y = x·Wᵀ + b in one GEMM whose epilogue adds the bias.
public partial class Tensor
{
    /// <summary>
    /// y = x·Wᵀ + b. Shape: x (*, in), weight (out, in), bias (out) → (*, out).
    /// Backward: dx = g·W (residual passed back), dW = gᵀ·x, db = Σ_rows g (parameter gradients).
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        const string op = "Linear";
        if (weight.Rank != 2) throw new ArgumentException($"{op}: weight must be 2-D (out, in), got {ShapeUtil.Format(weight._shape)}.");
        int outF = weight._shape[0], inF = weight._shape[1];
        if (x.Rank == 0 || x._shape[^1] != inF)
            throw new ArgumentException($"{op}: expected input of shape (*, {inF}), got {ShapeUtil.Format(x._shape)}.");
        if (bias is not null && (bias.Rank != 1 || bias._shape[0] != outF))
            throw new ArgumentException($"{op}: expected bias of shape [{outF}], got {ShapeUtil.Format(bias._shape)}.");
        CheckSameDType(op, x, weight);
        if (bias is not null) CheckSameDType(op, x, bias);
        int rows = x.Numel / Math.Max(inF, 1);
        bool grad = GradMode.IsEnabled;
        var x2 = grad ? x.Detach().Contiguous() : x.Contiguous();
        var w = grad ? weight.Detach().Contiguous() : weight.Contiguous();
        var outShape = x._shape.ToArray();
        outShape[^1] = outF;
        var y = Uninitialized(x.DType, outShape);
        var b = grad ? bias?.Detach().Contiguous() : bias?.Contiguous();
        DTypeDispatch.Run(op, x.DType, new LinearForward(x2, w, b, y, rows, inF, outF));
        // no grad (inference): no inputs array, no closure (the closure lives in RecordLinear, allocated only there)
        return grad ? RecordLinear(x, weight, bias, x2, w, y, rows, inF, outF) : Engine.Unrecorded(y, op + "Backward");
    }

    private static Tensor RecordLinear(Tensor x, Tensor weight, Tensor? bias, Tensor x2, Tensor w, Tensor y, int rows, int inF, int outF)
    {
        const string op = "Linear";
        Tensor[] inputs = bias is null ? [x, weight] : [x, weight, bias];
        return Engine.Record(y, op + "Backward", inputs, g =>
        {
            // under createGraph the same products as recorded ops, so they can be differentiated
            if (GradMode.IsEnabled)
            {
                var g2 = g.Reshape(rows, outF);
                return [x.RequiresGrad ? g.MatMul(weight) : null,
                        weight.RequiresGrad ? MatMul(g2.T, x.Reshape(rows, inF)) : null,
                        .. bias is null ? Array.Empty<Tensor?>() : [bias.RequiresGrad ? g2.Sum(0) : null]];
            }
            var gc = g.Contiguous();
            Tensor? dx = x.RequiresGrad ? Uninitialized(x.DType, x._shape.ToArray()) : null;
            Tensor? dw = weight.RequiresGrad ? Uninitialized(x.DType, [outF, inF]) : null;
            Tensor? db = bias is { RequiresGrad: true } ? Uninitialized(x.DType, [outF]) : null;
            DTypeDispatch.Run(op, x.DType, new LinearBackward(gc, x2, w, dx, dw, db, rows, inF, outF));
            return bias is null ? [dx, dw] : [dx, dw, db];
        });
    }

    private readonly struct LinearForward(Tensor x, Tensor w, Tensor? b, Tensor y, int rows, int inF, int outF) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            // the bias is added in the GEMM's epilogue, tile by tile while C is in cache
            Gemm.MultiplyBiasAct(false, true, rows, outF, inF, x.Span<T>(), inF, w.Span<T>(), inF,
                b is null ? default : b.Span<T>(), Epilogue.None, y.Span<T>(), outF);
        }
    }

    private readonly struct LinearBackward(Tensor g, Tensor x, Tensor w, Tensor? dx, Tensor? dw, Tensor? db, int rows, int inF, int outF) : IFloatOp
    {
        public void Invoke<T>() where T : unmanaged, IFloatingPointIeee754<T>
        {
            var gs = g.Span<T>();
            if (dx is not null) Gemm.Multiply(false, false, rows, inF, outF, gs, outF, w.Span<T>(), inF, T.Zero, dx.Span<T>(), inF);
            if (dw is not null) Gemm.Multiply(true, false, outF, inF, rows, gs, outF, x.Span<T>(), inF, T.Zero, dw.Span<T>(), inF);
            if (db is not null) Reduce.SumColumns(gs, rows, outF, db.Span<T>());
        }
    }
}
