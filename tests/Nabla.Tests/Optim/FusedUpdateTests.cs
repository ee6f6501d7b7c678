using System.Numerics;
using System.Numerics.Tensors;
using Nabla.Optim;

namespace Nabla.Tests.Optim;

/// <summary>
/// The one-pass SGD and Adam(W) updates against the multi-pass references (one TensorPrimitives pass per formula, as
/// the optimizers ran before): bit-identical on every option, in float and double, on sizes with vector tails and on a
/// parameter large enough to be cut into chunks on several threads.
/// </summary>
public class FusedUpdateTests
{
    public static TheoryData<int> Sizes() => new() { 1, 7, 33, 100_003 };

    public static TheoryData<double, double, double, bool, bool> SgdOptions() => new()
    {
        { 0, 0, 0, false, false }, { 0.9, 0, 0, false, false }, { 0.9, 0.3, 1e-2, false, true }, { 0.8, 0, 5e-3, true, false },
    };

    // the reference: the SGD update pass by pass
    private static void SgdReference<T>(FusedUpdate.Sgd o, ReadOnlySpan<T> grad, Span<T> theta, Span<T> buf, bool first) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = new T[theta.Length].AsSpan();
        if (o.Maximize) TensorPrimitives.Negate(grad, d);
        else grad.CopyTo(d);
        if (o.WeightDecay != 0) TensorPrimitives.MultiplyAdd(theta, T.CreateTruncating(o.WeightDecay), d, d);
        if (o.Momentum != 0)
        {
            T mu = T.CreateTruncating(o.Momentum);
            if (first) d.CopyTo(buf);
            else
            {
                TensorPrimitives.Multiply(buf, mu, buf);
                TensorPrimitives.MultiplyAdd(d, T.CreateTruncating(1 - o.Dampening), buf, buf);
            }
            if (o.Nesterov) TensorPrimitives.MultiplyAdd(buf, mu, d, d);
            else buf.CopyTo(d);
        }
        TensorPrimitives.MultiplyAdd(d, T.CreateTruncating(-o.Lr), theta, theta);
    }

    private static T[] Random<T>(int n, int seed) where T : unmanaged, IFloatingPointIeee754<T> =>
        Tensor.Randn([n], typeof(T) == typeof(float) ? DType.Float32 : DType.Float64, new Generator((ulong)seed)).Span<T>().ToArray();

    private static void SgdMatches<T>(int n, double mu, double damp, double wd, bool nesterov, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var o = new FusedUpdate.Sgd(0.05, mu, damp, wd, nesterov, maximize);
        T[] theta = Random<T>(n, 1), thetaRef = (T[])theta.Clone(), buf = new T[mu != 0 ? n : 0], bufRef = new T[buf.Length];
        for (int step = 0; step < 3; step++)
        {
            var grad = Random<T>(n, 10 + step);
            FusedUpdate.SgdStep<T>(o, grad, theta, buf, first: step == 0);
            SgdReference<T>(o, grad, thetaRef, bufRef, first: step == 0);
            Assert.Equal(thetaRef, theta);
            Assert.Equal(bufRef, buf);
        }
    }

    [Theory]
    [MemberData(nameof(SgdOptions))]
    public void SgdIsTheMultiPassUpdateBitForBit(double mu, double damp, double wd, bool nesterov, bool maximize)
    {
        foreach (int n in Sizes())
        {
            SgdMatches<float>(n, mu, damp, wd, nesterov, maximize);
            SgdMatches<double>(n, mu, damp, wd, nesterov, maximize);
        }
    }

    [Theory]
    [InlineData(false, false, 0.0, false)]
    [InlineData(false, true, 1e-2, false)]
    [InlineData(true, false, 1e-2, false)]
    [InlineData(true, true, 5e-2, true)]
    public void AdamIsTheMultiPassUpdateBitForBit(bool decoupled, bool amsgrad, double wd, bool maximize)
    {
        foreach (int n in Sizes())
        {
            AdamMatches<float>(n, decoupled, amsgrad, wd, maximize);
            AdamMatches<double>(n, decoupled, amsgrad, wd, maximize);
        }
    }

    // the optimizer's own step (the fused pass) against AdamCore.ReferenceUpdate run by a twin optimizer's state
    private static void AdamMatches<T>(int n, bool decoupled, bool amsgrad, double wd, bool maximize) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var dtype = typeof(T) == typeof(float) ? DType.Float32 : DType.Float64;
        var p = Tensor.FromArray(Random<double>(n, 1), n).To(dtype).RequireGrad();
        var pRef = p.Detach().Clone().RequireGrad();
        Optimizer opt = decoupled ? new AdamW([p], 0.01, weightDecay: wd, amsgrad: amsgrad, maximize: maximize) : new Adam([p], 0.01, weightDecay: wd, amsgrad: amsgrad, maximize: maximize);
        Optimizer twin = decoupled ? new AdamW([pRef], 0.01, weightDecay: wd, amsgrad: amsgrad, maximize: maximize) : new Adam([pRef], 0.01, weightDecay: wd, amsgrad: amsgrad, maximize: maximize);
        var group = twin.ParamGroups[0];
        for (int step = 0; step < 3; step++)
        {
            var grad = Random<T>(n, 20 + step);
            p.Grad = Tensor.FromArray(grad.Select(v => double.CreateTruncating(v)).ToArray(), n).To(dtype);
            opt.Step();

            var theta = pRef.Span<T>();
            if (decoupled) TensorPrimitives.Multiply(theta, T.CreateTruncating(1 - group["lr"] * group["weight_decay"]), theta);
            var d = new T[n];
            if (maximize) TensorPrimitives.Negate(grad, d);
            else grad.CopyTo(d.AsSpan());
            if (!decoupled && wd != 0) TensorPrimitives.MultiplyAdd(theta, T.CreateTruncating(wd), d, d);
            AdamCore.ReferenceUpdate<T>(twin, group, 0, pRef, theta, d, new T[n]);
            Assert.Equal(pRef.Span<T>().ToArray(), p.Span<T>().ToArray());
        }
    }
}
