using static Nabla.Tests.ForwardReference;

namespace Nabla.Tests.Ops;

/// <summary>Element-wise math against Math.* (every SIMD tail length 0..40, and a non-contiguous input).</summary>
public class UnaryTests
{
    public static TheoryData<string> UnaryOps => new() { "exp", "log", "sqrt", "tanh", "sigmoid", "abs", "sin", "cos", "relu", "leaky_relu", "silu", "clamp", "sign", "neg" };

    private static (Func<Tensor, Tensor> Op, Func<double, double> Ref) Unary(string name) => name switch
    {
        "exp" => (t => t.Exp(), Math.Exp),
        "log" => (t => t.Log(), Math.Log),
        "sqrt" => (t => t.Sqrt(), Math.Sqrt),
        "tanh" => (t => t.Tanh(), Math.Tanh),
        "sigmoid" => (t => t.Sigmoid(), v => 1 / (1 + Math.Exp(-v))),
        "abs" => (t => t.Abs(), Math.Abs),
        "sin" => (t => t.Sin(), Math.Sin),
        "cos" => (t => t.Cos(), Math.Cos),
        "relu" => (t => t.Relu(), v => v > 0 ? v : 0),
        "leaky_relu" => (t => t.LeakyRelu(0.2), v => v > 0 ? v : 0.2 * v),
        "silu" => (t => t.Silu(), v => v / (1 + Math.Exp(-v))),
        "clamp" => (t => t.Clamp(-0.3, 0.7), v => Math.Min(Math.Max(v, -0.3), 0.7)),
        "sign" => (t => t.Sign(), v => Math.Sign(v)),
        _ => (t => -t, v => -v),
    };

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void UnaryMatchesMath(string name)
    {
        var (op, reference) = Unary(name);
        bool positiveOnly = name is "log" or "sqrt";
        for (int n = 0; n <= 40; n++)
        {
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            {
                var x = Tensor.Randn([n], DType.Float64, new Generator((ulong)n)) * 2;
                if (positiveOnly) x = x.Abs() + 0.01;
                var xd = Values(x.To(dtype));
                var y = op(x.To(dtype));
                Assert.Equal(dtype, y.DType);
                var expected = xd.Select(reference).ToArray();
                if (dtype == DType.Float64) Close(expected, Values(y), rel: 1e-14, abs: 1e-15);
                else Close(expected, Values(y), rel: 1e-6, abs: 1e-7);
            }
        }
        var strided = Randn(99, 6, 8).Abs().Slice(1, 1, 8, 3).T + 0.01;
        Close(Values(strided).Select(reference).ToArray(), Values(op(strided)), rel: 1e-14, abs: 1e-15);
    }
}
