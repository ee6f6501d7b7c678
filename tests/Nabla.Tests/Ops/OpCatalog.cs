using Nabla.Autograd;

namespace Nabla.Tests.Ops;

/// <summary>One differentiable op (or variant) to check: a name, its float64 inputs, and the op itself.</summary>
/// <param name="Name">Unique, used as the theory's data row.</param>
/// <param name="MakeInputs">Builds fresh float64 leaf inputs from a seeded generator (non-differentiable data such as indices is captured by <paramref name="Outputs"/>).</param>
/// <param name="Outputs">The op applied to the inputs: its outputs (one, or several for a multi-output op, each checked on its own).</param>
public sealed record OpCase(string Name, Func<Generator, Tensor[]> MakeInputs, Func<Tensor[], Tensor[]> Outputs)
{
    /// <summary>A single-output op.</summary>
    public OpCase(string name, Func<Generator, Tensor[]> makeInputs, Func<Tensor[], Tensor> op) : this(name, makeInputs, x => [op(x)]) { }

    /// <summary>Fresh inputs; the same every call (the generator is seeded from a fixed number).</summary>
    public Tensor[] Inputs() => MakeInputs(new Generator(1234));

    public override string ToString() => Name;
}

/// <summary>
/// Every differentiable op Nabla has, with the variants that stress its backward: broadcasting, non-contiguous
/// inputs (transposed, strided slices, expanded), 0-d and 1-d edge cases, keepDim, negative dims. As PyTorch's
/// op_db, one list drives gradcheck (<see cref="OpCatalogTests"/>) and the float32-vs-float64 forward check.
/// Values near a kink (|x|, relu, clamp bounds) are kept ≥ 1e-2 away from it: central differences with eps 1e-6
/// straddling a kink would measure a slope no backward can give.
/// </summary>
public static partial class OpCatalog
{
    public static IReadOnlyList<OpCase> All { get; } = Build();

    public static OpCase Get(string name) => All.Single(c => c.Name == name);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in All) data.Add(c.Name);
        return data;
    }

    // ---- input builders (all float64) ----

    private static Tensor Randn(Generator g, params int[] shape) => Tensor.Randn(shape, DType.Float64, g);

    /// <summary>Uniform in [0.5, 2): safe for log, sqrt, division and non-integer powers.</summary>
    private static Tensor Positive(Generator g, params int[] shape) => Tensor.Uniform(shape, 0.5, 2.0, DType.Float64, g);

    /// <summary>Normal samples redrawn until each is at least 1e-2 away from every kink.</summary>
    private static Tensor AwayFrom(Generator g, double[] kinks, params int[] shape)
    {
        var data = new double[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < data.Length; i++)
        {
            double v;
            do v = g.NextNormal(); while (kinks.Any(k => Math.Abs(v - k) < 1e-2));
            data[i] = v;
        }
        return Tensor.FromArray(data, shape);
    }

    private static Tensor Index(double[] values, params int[] shape) => shape.Length == 0 ? Tensor.FromArray(values) : Tensor.FromArray(values, shape);

    /// <summary>A custom op through the <see cref="Function"/> API: y = x³, dx = 3x²·g (x kept with SaveForBackward, so double backward works).</summary>
    public sealed class Cube : Function
    {
        protected override Tensor Forward(Tensor[] inputs)
        {
            SaveForBackward(inputs[0]);
            return inputs[0] * inputs[0] * inputs[0];
        }

        // dx = g·3x²
        protected override Tensor?[] Backward(Tensor residual)
        {
            var x = SavedTensors[0];
            return [residual * 3.0 * x * x];
        }
    }

    /// <summary>A two-input custom op: y = a·sin(b), da = g·sin b, db = g·a·cos b (inputs kept in fields: first order only).</summary>
    public sealed class MulSin : Function
    {
        private Tensor _a = null!, _b = null!;

        protected override Tensor Forward(Tensor[] inputs)
        {
            (_a, _b) = (inputs[0], inputs[1]);
            return _a * _b.Sin();
        }

        protected override Tensor?[] Backward(Tensor residual) => [residual * _b.Sin(), residual * _a * _b.Cos()];
    }

    private static List<OpCase> Build()
    {
        var list = new List<OpCase>();
        void Add(string name, Func<Generator, Tensor[]> inputs, Func<Tensor[], Tensor> op) => list.Add(new OpCase(name, inputs, op));
        double[] zero = [0.0];

        // ---- arithmetic, broadcasting, scalars ----
        Add("add", g => [Randn(g, 2, 3), Randn(g, 2, 3)], x => x[0] + x[1]);
        Add("add_broadcast_3x1x4_2x4", g => [Randn(g, 3, 1, 4), Randn(g, 2, 4)], x => x[0] + x[1]);
        Add("add_0d_tensor", g => [Randn(g, 2, 3), Randn(g)], x => x[0] + x[1]);
        Add("add_0d_0d", g => [Randn(g), Randn(g)], x => x[0] + x[1]);
        Add("add_double_both_sides", g => [Randn(g, 4)], x => (x[0] + 2.5) + (-1.5 + x[0]));
        Add("sub_broadcast_3x1_1x4", g => [Randn(g, 3, 1), Randn(g, 1, 4)], x => x[0] - x[1]);
        Add("sub_double_both_sides", g => [Randn(g, 2, 2)], x => (1.5 - x[0]) * (x[0] - 0.5));
        Add("mul_broadcast_2x3x4_4", g => [Randn(g, 2, 3, 4), Randn(g, 4)], x => x[0] * x[1]);
        Add("mul_double_both_sides", g => [Randn(g, 3)], x => 3.0 * x[0] * -2.0);
        Add("mul_same_tensor", g => [Randn(g, 5)], x => x[0] * x[0]);
        Add("div", g => [Randn(g, 2, 3), Positive(g, 2, 3)], x => x[0] / x[1]);
        Add("div_broadcast_2x3_3", g => [Randn(g, 2, 3), Positive(g, 3)], x => x[0] / x[1]);
        Add("div_double_both_sides", g => [Positive(g, 4)], x => 2.0 / x[0] + x[0] / 4.0);
        Add("neg", g => [Randn(g, 2, 3)], x => -x[0]);
        Add("maximum_broadcast", g => [Randn(g, 3, 4), Randn(g, 4)], x => Tensor.Maximum(x[0], x[1]));
        Add("minimum", g => [Randn(g, 3, 4), Randn(g, 3, 4)], x => Tensor.Minimum(x[0], x[1]));
        Add("pow_scalar_fractional", g => [Positive(g, 2, 3)], x => x[0].Pow(2.5));
        Add("pow_scalar_square_fast_path", g => [Randn(g, 2, 5)], x => x[0].Pow(2));
        Add("pow_scalar_integer_negative_base", g => [Randn(g, 5)], x => x[0].Pow(3));
        Add("pow_scalar_negative_exponent", g => [Positive(g, 4)], x => x[0].Pow(-1.5));
        Add("pow_tensor_tensor", g => [Positive(g, 2, 3), Randn(g, 2, 3)], x => Tensor.Pow(x[0], x[1]));
        Add("pow_tensor_tensor_broadcast", g => [Positive(g, 2, 3), Randn(g, 3)], x => Tensor.Pow(x[0], x[1]));
        Add("square", g => [Randn(g, 3, 2)], x => x[0].Square());

        // ---- non-contiguous inputs: transposed/strided leaves, and views made inside the op ----
        Add("add_transposed_leaf_and_strided_leaf", g => [Randn(g, 4, 3).T, Randn(g, 3, 8).Slice(1, 0, 8, 2)], x => x[0] + x[1]);
        Add("mul_permuted_3d", g => [Randn(g, 2, 3, 4), Randn(g, 4, 2, 3)], x => x[0].Permute(2, 0, 1) * x[1]);
        Add("mul_slice_step2", g => [Randn(g, 6, 3), Randn(g, 3, 3)], x => x[0].Slice(0, 1, 6, 2) * x[1]);
        Add("add_expanded", g => [Randn(g, 3, 1), Randn(g, 3, 4)], x => x[0].Expand(3, 4) * x[1]);
        Add("exp_transposed_leaf", g => [Randn(g, 3, 2).T], x => x[0].Exp());

        // ---- element-wise math ----
        Add("exp", g => [Randn(g, 2, 3)], x => x[0].Exp());
        Add("exp_0d", g => [Randn(g)], x => x[0].Exp());
        Add("log", g => [Positive(g, 2, 3)], x => x[0].Log());
        Add("sqrt", g => [Positive(g, 2, 3)], x => x[0].Sqrt());
        Add("tanh", g => [Randn(g, 2, 3)], x => x[0].Tanh());
        Add("sigmoid", g => [Randn(g, 2, 3)], x => x[0].Sigmoid());
        Add("abs", g => [AwayFrom(g, zero, 2, 3)], x => x[0].Abs());
        Add("sin", g => [Randn(g, 2, 3)], x => x[0].Sin());
        Add("cos", g => [Randn(g, 2, 3)], x => x[0].Cos());
        Add("clamp", g => [AwayFrom(g, [-0.5, 0.5], 3, 4)], x => x[0].Clamp(-0.5, 0.5));
        Add("clamp_min_only", g => [AwayFrom(g, [0.2], 3, 4)], x => x[0].Clamp(min: 0.2));
        Add("clamp_max_only", g => [AwayFrom(g, [-0.2], 3, 4)], x => x[0].Clamp(max: -0.2));
        Add("erf", g => [Randn(g, 2, 3)], x => x[0].Erf());

        // ---- activations ----
        Add("relu", g => [AwayFrom(g, zero, 3, 4)], x => x[0].Relu());
        Add("relu_strided", g => [AwayFrom(g, zero, 3, 8)], x => x[0].Slice(1, 1, 8, 3).Relu());
        Add("leaky_relu", g => [AwayFrom(g, zero, 3, 4)], x => x[0].LeakyRelu(0.1));
        Add("gelu", g => [Randn(g, 3, 4)], x => x[0].Gelu());
        Add("gelu_tanh", g => [Randn(g, 3, 4)], x => x[0].Gelu("tanh"));
        Add("silu", g => [Randn(g, 3, 4)], x => x[0].Silu());
        Add("softmax_dim0", g => [Randn(g, 3, 4)], x => x[0].Softmax(0));
        Add("softmax_dim_neg1", g => [Randn(g, 3, 4)], x => x[0].Softmax(-1));
        Add("softmax_3d_dim0", g => [Randn(g, 2, 3, 4)], x => x[0].Softmax(0));
        Add("softmax_3d_dim1_transposed", g => [Randn(g, 2, 4, 3)], x => x[0].Transpose(1, 2).Softmax(1));
        Add("softmax_1d", g => [Randn(g, 5)], x => x[0].Softmax(0));
        Add("log_softmax_dim0", g => [Randn(g, 3, 4)], x => x[0].LogSoftmax(0));
        Add("log_softmax_dim_neg1", g => [Randn(g, 3, 4)], x => x[0].LogSoftmax(-1));
        Add("log_softmax_3d_dim1", g => [Randn(g, 2, 3, 4)], x => x[0].LogSoftmax(1));

        // ---- reductions ----
        Add("sum_all", g => [Randn(g, 2, 3, 4)], x => x[0].Sum());
        Add("sum_dim1", g => [Randn(g, 2, 3, 4)], x => x[0].Sum(1));
        Add("sum_dim1_keepdim", g => [Randn(g, 2, 3, 4)], x => x[0].Sum(1, keepDim: true));
        Add("sum_dims_0_2", g => [Randn(g, 2, 3, 4)], x => x[0].Sum([0, 2]));
        Add("sum_dim_neg1_keepdim", g => [Randn(g, 2, 3, 4)], x => x[0].Sum(-1, keepDim: true));
        Add("sum_transposed", g => [Randn(g, 3, 4)], x => x[0].T.Sum(0));
        Add("sum_0d", g => [Randn(g)], x => x[0].Sum());
        Add("sum_1d", g => [Randn(g, 5)], x => x[0].Sum(0));
        Add("mean_all", g => [Randn(g, 3, 4)], x => x[0].Mean());
        Add("mean_dim0_keepdim", g => [Randn(g, 3, 4)], x => x[0].Mean(0, keepDim: true));
        Add("mean_dims_neg", g => [Randn(g, 2, 3, 4)], x => x[0].Mean([-1, -3]));
        Add("var_all", g => [Randn(g, 3, 4)], x => x[0].Var());
        Add("var_dim1_keepdim", g => [Randn(g, 3, 4)], x => x[0].Var([1], keepDim: true));
        Add("var_dim0_correction0", g => [Randn(g, 3, 4)], x => x[0].Var([0], correction: 0));
        Add("var_strided", g => [Randn(g, 3, 8)], x => x[0].Slice(1, 0, 8, 2).Var([-1]));
        Add("max_dim1", g => [Randn(g, 3, 4)], x => x[0].Max(1).Values);
        Add("max_3d_dim0_keepdim", g => [Randn(g, 2, 3, 4)], x => x[0].Max(0, keepDim: true).Values);
        Add("max_3d_dim1", g => [Randn(g, 2, 3, 4)], x => x[0].Max(1).Values);
        Add("min_dim_neg1", g => [Randn(g, 3, 4)], x => x[0].Min(-1).Values);
        Add("min_3d_dim0_transposed", g => [Randn(g, 4, 3, 2)], x => x[0].Permute(2, 1, 0).Min(0).Values);
        Add("max_all", g => [Randn(g, 3, 4)], x => x[0].Max());
        Add("min_all", g => [Randn(g, 3, 4)], x => x[0].Min());
        Add("max_0d", g => [Randn(g)], x => x[0].Max(0).Values);

        // ---- matrix products ----
        Add("matmul_2d", g => [Randn(g, 3, 4), Randn(g, 4, 2)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_dot_1d_1d", g => [Randn(g, 4), Randn(g, 4)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_1d_2d", g => [Randn(g, 4), Randn(g, 4, 3)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_2d_1d", g => [Randn(g, 3, 4), Randn(g, 4)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_batched_3d", g => [Randn(g, 2, 3, 4), Randn(g, 2, 4, 5)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_broadcast_2x1x3x4_3x4x2", g => [Randn(g, 2, 1, 3, 4), Randn(g, 3, 4, 2)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_3d_2d", g => [Randn(g, 2, 3, 4), Randn(g, 4, 2)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_2d_3d", g => [Randn(g, 3, 4), Randn(g, 2, 4, 2)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_1d_3d", g => [Randn(g, 4), Randn(g, 2, 4, 3)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_3d_1d", g => [Randn(g, 2, 3, 4), Randn(g, 4)], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_transposed_a", g => [Randn(g, 4, 3), Randn(g, 4, 2)], x => Tensor.MatMul(x[0].T, x[1]));
        Add("matmul_transposed_b", g => [Randn(g, 3, 4), Randn(g, 2, 4)], x => Tensor.MatMul(x[0], x[1].T));
        Add("matmul_transposed_both_leaves", g => [Randn(g, 4, 3).T, Randn(g, 2, 4).T], x => Tensor.MatMul(x[0], x[1]));
        Add("matmul_batched_transposed", g => [Randn(g, 2, 4, 3), Randn(g, 2, 5, 4)], x => Tensor.MatMul(x[0].Transpose(-1, -2), x[1].Transpose(1, 2)));
        Add("matmul_batch_permuted", g => [Randn(g, 3, 2, 4), Randn(g, 2, 4, 2)], x => Tensor.MatMul(x[0].Permute(1, 0, 2), x[1]));
        Add("matmul_strided_rows_and_cols", g => [Randn(g, 6, 4), Randn(g, 4, 6)], x => Tensor.MatMul(x[0].Slice(0, 0, 6, 2), x[1].Slice(1, 1, 6, 2)));
        Add("matmul_expanded_batch", g => [Randn(g, 3, 4), Randn(g, 2, 4, 2)], x => Tensor.MatMul(x[0].Expand(2, 3, 4), x[1]));

        // ---- linear ----
        Add("linear_bias", g => [Randn(g, 3, 4), Randn(g, 2, 4), Randn(g, 2)], x => Tensor.Linear(x[0], x[1], x[2]));
        Add("linear_no_bias", g => [Randn(g, 3, 4), Randn(g, 2, 4)], x => Tensor.Linear(x[0], x[1]));
        Add("linear_3d_input", g => [Randn(g, 2, 3, 4), Randn(g, 5, 4), Randn(g, 5)], x => Tensor.Linear(x[0], x[1], x[2]));
        Add("linear_1d_input", g => [Randn(g, 4), Randn(g, 3, 4), Randn(g, 3)], x => Tensor.Linear(x[0], x[1], x[2]));
        Add("linear_transposed_input_and_weight", g => [Randn(g, 4, 3), Randn(g, 4, 2), Randn(g, 2)], x => Tensor.Linear(x[0].T, x[1].T, x[2]));

        // ---- views ----
        Add("reshape", g => [Randn(g, 2, 6)], x => x[0].Reshape(3, 4) * Tensor.Arange(4, x[0].DType));
        Add("reshape_infer_noncontiguous", g => [Randn(g, 3, 4)], x => x[0].T.Reshape(-1, 2));
        Add("view", g => [Randn(g, 2, 3, 2)], x => x[0].View(6, 2).Exp());
        Add("flatten", g => [Randn(g, 2, 3, 2)], x => x[0].Flatten(1));
        Add("permute", g => [Randn(g, 2, 3, 4)], x => x[0].Permute(2, 0, 1).Contiguous() * Tensor.Arange(3, x[0].DType));
        Add("transpose_neg_dims", g => [Randn(g, 2, 3, 4)], x => x[0].Transpose(-1, 0).Sin());
        Add("t", g => [Randn(g, 2, 3)], x => x[0].T.Exp());
        Add("slice_step2", g => [Randn(g, 7, 3)], x => x[0].Slice(0, 1, 7, 2));
        Add("slice_negative_bounds", g => [Randn(g, 3, 6)], x => x[0].Slice(-1, -4, -1));
        Add("narrow", g => [Randn(g, 3, 5)], x => x[0].Narrow(1, 1, 3));
        Add("select_negative_index", g => [Randn(g, 3, 4)], x => x[0].Select(1, -2));
        Add("squeeze", g => [Randn(g, 3, 1, 2, 1)], x => x[0].Squeeze());
        Add("squeeze_dim", g => [Randn(g, 3, 1, 2)], x => x[0].Squeeze(1));
        Add("unsqueeze_negative", g => [Randn(g, 3, 2)], x => x[0].Unsqueeze(-1) * Tensor.Arange(1, 4, 1, x[0].DType));
        Add("expand", g => [Randn(g, 3, 1)], x => x[0].Expand(2, 3, 4));
        Add("expand_0d", g => [Randn(g)], x => x[0].Expand(3));
        Add("contiguous_of_transposed", g => [Randn(g, 3, 4)], x => x[0].T.Contiguous());
        Add("clone", g => [Randn(g, 3, 4)], x => x[0].Clone() * x[0]);

        // ---- joining ----
        Add("cat_dim1", g => [Randn(g, 2, 3), Randn(g, 2, 2)], x => Tensor.Cat([x[0], x[1]], 1));
        Add("cat_dim_neg1_three_noncontiguous", g => [Randn(g, 2, 2, 3), Randn(g, 2, 2, 1), Randn(g, 2, 2, 2)],
            x => Tensor.Cat([x[0], x[1], x[2].Transpose(0, 1)], -1));
        Add("cat_same_tensor_twice", g => [Randn(g, 2, 3)], x => Tensor.Cat([x[0], x[0].Exp()], 0));
        Add("stack_dim1", g => [Randn(g, 2, 3), Randn(g, 2, 3)], x => Tensor.Stack([x[0], x[1]], 1));
        Add("stack_dim_neg1", g => [Randn(g, 3), Randn(g, 3), Randn(g, 3)], x => Tensor.Stack([x[0], x[1], x[2]], -1));
        Add("split_sizes_dim1", g => [Randn(g, 2, 6)], x =>
        {
            var p = x[0].Split([1, 3, 2], 1);
            return Tensor.Cat([p[2] * 3.0, p[0], p[1].Exp()], 1);
        });
        Add("split_chunks_dim_neg1", g => [Randn(g, 2, 5)], x =>
        {
            var p = x[0].Split(2, -1);
            return Tensor.Cat([p[0].Sin(), p[1] * p[1], p[2]], -1);
        });

        // ---- indexing ----
        Add("gather_dim1_repeated", g => [Randn(g, 3, 4)], x => x[0].Gather(1, Index([0, 0, 3, 2, 2, 2, 1, 0, -1], 3, 3)));
        Add("gather_dim0_smaller_index", g => [Randn(g, 4, 3)], x => x[0].Gather(0, Index([3, 0, 1, 1, 1, 2], 2, 3)));
        Add("gather_transposed", g => [Randn(g, 4, 3)], x => x[0].T.Gather(1, Index([0, 3, 3, 2, 1, 1], 3, 2)));
        Add("index_select_dim0_repeated", g => [Randn(g, 4, 3)], x => x[0].IndexSelect(0, Index([2, 0, 2, 3])));
        Add("index_select_dim1", g => [Randn(g, 2, 4)], x => x[0].IndexSelect(1, Index([3, 1])));

        // ---- fused losses (class indices captured, not differentiated) ----
        Add("cross_entropy_mean", g => [Randn(g, 4, 3)], x => Tensor.CrossEntropy(x[0], Index([2, 0, 1, 2])));
        Add("cross_entropy_sum", g => [Randn(g, 4, 3)], x => Tensor.CrossEntropy(x[0], Index([1, 1, 0, 2]), reduction: Reduction.Sum));
        Add("cross_entropy_none_ignore_index", g => [Randn(g, 4, 3)], x => Tensor.CrossEntropy(x[0].T.Contiguous().T, Index([0, -100, 2, 1]), reduction: Reduction.None));

        // ---- custom Function, graph shapes ----
        Add("custom_function_cube", g => [Randn(g, 2, 3)], x => new Cube().Apply(x[0]));
        Add("custom_function_two_inputs", g => [Randn(g, 3), Randn(g, 3)], x => new MulSin().Apply(x[0], x[1]).Exp());
        // one tensor feeding three successors: its gradient is the sum of their residuals
        Add("multi_successor", g => [Randn(g, 2, 3)], x => x[0] * x[0] + x[0].Exp() + x[0].Sum());
        Add("diamond", g => [Randn(g, 3)], x =>
        {
            var h = x[0].Tanh();
            return (h.Sin() * h.Exp()).Sum();
        });
        Add("layer_norm_composite", g => [Randn(g, 3, 5), Randn(g, 5), Randn(g, 5)], x =>
        {
            var mean = x[0].Mean([-1], keepDim: true);
            var v = x[0].Var([-1], correction: 0, keepDim: true);
            return (x[0] - mean) / (v + 1e-5).Sqrt() * x[1] + x[2];
        });
        Add("mlp_composite", g => [Randn(g, 4, 3), Randn(g, 5, 3), Randn(g, 5), Randn(g, 2, 5)], x =>
            Tensor.Linear(Tensor.Linear(x[0], x[1], x[2]).Tanh(), x[3]).LogSoftmax(-1).Mean());
        // ops of the layer families, each in its own file (OpCatalog.<Family>.cs)
        list.AddRange(ConvCases());
        list.AddRange(NormCases());
        list.AddRange(RecurrentCases());
        list.AddRange(ActivationCases());
        list.AddRange(LossCases());
        list.AddRange(DtypeCases());
        list.AddRange(AttentionCases());
        return list;
    }
}
