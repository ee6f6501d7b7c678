using Nabla.Autograd;
using Nabla.Kernels;

namespace Nabla;

// Element-wise math. Each backward is one line: the local derivative times the residual g.
public partial class Tensor
{
    internal Tensor UnaryOp<TF, TD>() where TF : IUnaryOperator<float> where TD : IUnaryOperator<double>
    {
        var x = Contiguous();
        var y = Uninitialized(DType, _shape.ToArray());
        // one operator struct per dtype (TensorPrimitives style): this pair is the dispatch for every unary op
        switch (DType)
        {
            case DType.Float32: TF.Invoke(x.Span<float>(), y.Span<float>()); break;
            case DType.Float64: TD.Invoke(x.Span<double>(), y.Span<double>()); break;
            default: throw DTypeDispatch.Unsupported(typeof(TF).Name.Replace("Operator`1", ""), DType);   // ExpOperator<T> → "Exp"
        }
        return y;
    }

    // dx = g·y
    /// <summary>eˣ element-wise.</summary>
    public Tensor Exp()
    {
        var y = UnaryOp<ExpOperator<float>, ExpOperator<double>>();
        return Engine.Record(y, "ExpBackward", [this], g => [g * y]);
    }

    // dx = g / x
    /// <summary>Natural logarithm element-wise.</summary>
    public Tensor Log()
    {
        var x = this;
        var y = UnaryOp<LogOperator<float>, LogOperator<double>>();
        return Engine.Record(y, "LogBackward", [this], g => [g / x]);
    }

    // dx = g / (2y)
    /// <summary>Square root element-wise.</summary>
    public Tensor Sqrt()
    {
        var y = UnaryOp<SqrtOperator<float>, SqrtOperator<double>>();
        return Engine.Record(y, "SqrtBackward", [this], g => [g / (2.0 * y)]);
    }

    // dx = g·(1 − y²)
    /// <summary>Hyperbolic tangent element-wise.</summary>
    public Tensor Tanh()
    {
        var y = UnaryOp<TanhOperator<float>, TanhOperator<double>>();
        return Engine.Record(y, "TanhBackward", [this], g => [g * (1.0 - y * y)]);
    }

    // dx = g·y·(1 − y)
    /// <summary>Logistic sigmoid 1/(1+e⁻ˣ) element-wise.</summary>
    public Tensor Sigmoid()
    {
        var y = UnaryOp<SigmoidOperator<float>, SigmoidOperator<double>>();
        return Engine.Record(y, "SigmoidBackward", [this], g => [g * y * (1.0 - y)]);
    }

    // dx = g·sign(x)
    /// <summary>|x| element-wise.</summary>
    public Tensor Abs()
    {
        var x = this;
        var y = UnaryOp<AbsOperator<float>, AbsOperator<double>>();
        return Engine.Record(y, "AbsBackward", [this], g => [g * x.Sign()]);
    }

    // dx = g·cos x
    /// <summary>Sine element-wise.</summary>
    public Tensor Sin()
    {
        var x = this;
        var y = UnaryOp<SinOperator<float>, SinOperator<double>>();
        return Engine.Record(y, "SinBackward", [this], g => [g * x.Cos()]);
    }

    // dx = −g·sin x
    /// <summary>Cosine element-wise.</summary>
    public Tensor Cos()
    {
        var x = this;
        var y = UnaryOp<CosOperator<float>, CosOperator<double>>();
        return Engine.Record(y, "CosBackward", [this], g => [-g * x.Sin()]);
    }

    /// <summary>x² element-wise.</summary>
    public Tensor Square() => this * this;

    // dx = g where min ≤ x ≤ max, else 0
    /// <summary>Limits every element to [min, max].</summary>
    public Tensor Clamp(double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        if (min > max) throw new ArgumentException($"Clamp: min ({min}) is greater than max ({max}).");
        var x = this;
        Tensor y;
        using (NoGrad()) y = Minimum(Maximum(this, Like(min)), Like(max));
        return Engine.Record(y, "ClampBackward", [this], g => { var xd = x.Detach(); return [g * xd.Ge(min) * xd.Le(max)]; });
    }
}
