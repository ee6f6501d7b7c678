namespace Nabla.Tests.Ops;

// The element-wise activations, log1p/expm1, the step functions (zero gradients) and the vector norm. Inputs are
// kept ≥ 1e-2 from every kink and step.
public static partial class OpCatalog
{
    private static IEnumerable<OpCase> ActivationCases()
    {
        double[] zero = [0.0], integers = [-3, -2, -1, 0, 1, 2, 3], halves = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5];
        yield return new("elu", g => [AwayFrom(g, zero, 3, 4)], x => x[0].Elu());
        yield return new("elu_alpha_0.5_transposed", g => [AwayFrom(g, zero, 4, 3)], x => x[0].T.Elu(0.5));
        yield return new("selu", g => [AwayFrom(g, zero, 3, 4)], x => x[0].Selu());
        yield return new("celu_alpha_2", g => [AwayFrom(g, zero, 3, 4)], x => x[0].Celu(2.0));
        yield return new("softplus", g => [Randn(g, 3, 4)], x => (x[0] * 3.0).Softplus());
        // βx crosses the threshold 1 at x = 0.5: both branches, away from the switch
        yield return new("softplus_beta2_threshold1", g => [AwayFrom(g, [0.5], 3, 4)], x => x[0].Softplus(2.0, 1.0));
        yield return new("mish", g => [Randn(g, 3, 4)], x => (x[0] * 2.0).Mish());
        yield return new("hardtanh", g => [AwayFrom(g, [-1, 1], 3, 4)], x => x[0].Hardtanh());
        yield return new("hardtanh_bounds", g => [AwayFrom(g, [-0.5, 0.25], 3, 4)], x => x[0].Hardtanh(-0.5, 0.25));
        // 3x reaches past ±3, the kinks, at x = ±1
        yield return new("hardswish", g => [AwayFrom(g, [-1, 1], 3, 4)], x => (x[0] * 3.0).Hardswish());
        yield return new("hardsigmoid", g => [AwayFrom(g, [-1, 1], 3, 4)], x => (x[0] * 3.0).Hardsigmoid());
        yield return new("softsign", g => [Randn(g, 3, 4)], x => x[0].Softsign());
        yield return new("log1p", g => [Positive(g, 3, 4)], x => (x[0] - 0.6).Log1p());
        yield return new("expm1", g => [Randn(g, 3, 4)], x => x[0].Expm1());
        yield return new("prelu_shared", g => [AwayFrom(g, zero, 2, 3, 4), Randn(g, 1)], x => x[0].Prelu(x[1]));
        yield return new("prelu_channels", g => [AwayFrom(g, zero, 2, 3, 4), Randn(g, 3)], x => x[0].Prelu(x[1]));
        yield return new("prelu_channels_4d_permuted", g => [AwayFrom(g, zero, 2, 2, 3, 2), Randn(g, 3)], x => x[0].Permute(0, 2, 1, 3).Prelu(x[1]));
        yield return new("prelu_1d", g => [AwayFrom(g, zero, 5), Randn(g, 1)], x => x[0].Prelu(x[1]));
        yield return new("glu", g => [Randn(g, 3, 4)], x => x[0].Glu());
        yield return new("glu_dim0", g => [Randn(g, 4, 3)], x => x[0].Glu(0));
        yield return new("sign", g => [AwayFrom(g, zero, 3, 4)], x => x[0].Sign() * x[0]);
        yield return new("floor", g => [AwayFrom(g, integers, 3, 4)], x => (x[0] * 2.0).Floor() + x[0]);
        yield return new("ceil", g => [AwayFrom(g, integers, 3, 4)], x => (x[0] * 2.0).Ceil() * x[0]);
        yield return new("round", g => [AwayFrom(g, halves, 3, 4)], x => (x[0] * 2.0).Round() + x[0]);
        yield return new("norm_2_all", g => [Randn(g, 3, 4)], x => x[0].Norm());
        yield return new("norm_1_dim1", g => [AwayFrom(g, zero, 3, 4)], x => x[0].Norm(1, 1));
        yield return new("norm_inf_dim0_keepdim", g => [Randn(g, 3, 4)], x => x[0].Norm(double.PositiveInfinity, [0], keepDim: true));
        yield return new("norm_inf_all", g => [Randn(g, 3, 4)], x => x[0].Norm(double.PositiveInfinity));
        yield return new("norm_3_dims_transposed", g => [Randn(g, 2, 3, 4)], x => x[0].Transpose(0, 2).Norm(3, [0, 2]));
        yield return new("norm_0.5_dim_neg1", g => [AwayFrom(g, zero, 3, 4)], x => x[0].Norm(0.5, -1));
        yield return new("norm_fro", g => [Randn(g, 3, 4)], x => x[0].Norm("fro"));
        yield return new("norm_0_dim1", g => [Randn(g, 3, 4)], x => x[0].Norm(0, 1) * x[0].Sum());
        yield return new("norm_neginf_dim1", g => [Randn(g, 3, 4)], x => x[0].Norm(double.NegativeInfinity, [1]));
        yield return new("norm_neginf_all_keepdim", g => [Randn(g, 3, 4)], x => x[0].Norm(double.NegativeInfinity, null, keepDim: true));
        yield return new("norm_-1.5_dim0", g => [AwayFrom(g, zero, 3, 4)], x => x[0].Norm(-1.5, 0));
    }
}
