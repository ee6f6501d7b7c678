using Nabla.Autograd;

namespace Nabla.Tests.Ops;

/// <summary>
/// Second-order gradients (gradgradcheck) for every <see cref="OpCatalog"/> entry: the op's gradient, taken with
/// createGraph, checked against central differences. Ops whose backward runs in fused kernels must refuse clearly
/// instead (a NotSupportedException naming the op), never return a silently wrong second derivative.
/// </summary>
public class OpCatalogGradGradTests
{
    public static TheoryData<string> Names => OpCatalog.Names();

    // the ops whose backward runs in kernels only (Node.FirstOrderOnly), and a Function that keeps its tensors in fields;
    // every other op in the catalog must pass gradgradcheck
    private static readonly HashSet<string> FirstOrderOnly =
    [
        "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
        "BatchNorm", "InstanceNorm", "CTCLoss", "BCELoss",
        "RnnTanhLayer", "RnnReluLayer", "LstmLayer", "GruLayer", "Prelu", "Norm", "ScaledDotProductAttention",
        "MulSin",
    ];

    [Theory]
    [MemberData(nameof(Names))]
    public void GradGradCheckPassesOrRefusesClearly(string name)
    {
        var op = OpCatalog.Get(name);
        var inputs = op.Inputs();
        GradCheckResult result;
        try
        {
            result = GradCheck.GradGradCheck(() => op.Outputs(inputs), inputs);
        }
        catch (NotSupportedException e)
        {
            const string prefix = "Double backward is not supported for ";
            Assert.StartsWith(prefix, e.Message);
            var refused = e.Message[prefix.Length..e.Message.IndexOf(':')];
            Assert.True(FirstOrderOnly.Contains(refused), $"{name}: {refused} refused double backward but should support it: {e.Message}");
            return;
        }
        Assert.True(result.Passed, $"{name}: {result}");
        Assert.True(result.Checked > 0, $"{name}: nothing was checked");
        // gradgradcheck differentiates the createGraph gradient, whatever formula made it: that formula (graph ops
        // standing in for a fused kernel) must also equal the plain first-order gradient
        var outputs = op.Outputs(inputs).Where(t => t.RequiresGrad).ToArray();
        var v = outputs.Select(o => Tensor.Randn(o.Shape.ToArray(), DType.Float64, new Generator(5))).ToArray();
        var plain = Nabla.Autograd.Autograd.Grad(outputs, inputs, v, retainGraph: true, allowUnused: true);
        var graph = Nabla.Autograd.Autograd.Grad(outputs, inputs, v, createGraph: true, allowUnused: true);
        for (int i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(plain[i] is null, graph[i] is null);
            if (plain[i] is null) continue;
            var (p, q) = (plain[i]!.ToDoubleArray(), graph[i]!.ToDoubleArray());
            for (int k = 0; k < p.Length; k++)
                Assert.True(Math.Abs(p[k] - q[k]) <= 1e-10 * (1 + Math.Abs(p[k])), $"{name}: input {i} element {k}: plain {p[k]}, createGraph {q[k]}");
        }
    }

    [Fact]
    public void TheCatalogCoversDoubleBackwardOfTheCommonOps()
    {
        // a guard against the theory above passing by refusal: these must have passed there, so check a few directly
        foreach (var name in new[] { "mul_broadcast_2x3x4_4", "matmul_batched_3d", "linear_bias", "softmax_dim_neg1", "log_softmax_dim0",
                     "cross_entropy_none_ignore_index", "max_3d_dim1", "gather_dim1_repeated", "slice_step2", "custom_function_cube", "mlp_composite", "mse_loss_broadcast_target",
                     "layer_norm_last_2_dims", "layer_norm_no_affine", "rms_norm_last_dim", "group_norm_g2", "instance_norm_2d_affine",
                     "embedding_padding_idx", "embedding_repeated_indices" })
        {
            var op = OpCatalog.Get(name);
            var inputs = op.Inputs();
            var result = GradCheck.GradGradCheck(() => op.Outputs(inputs), inputs);
            Assert.True(result.Passed, $"{name}: {result}");
        }
    }
}
