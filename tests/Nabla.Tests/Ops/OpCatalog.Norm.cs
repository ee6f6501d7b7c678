namespace Nabla.Tests.Ops;

// The op-catalog entries of the normalisation layers: every option of BatchNorm (training with batch statistics,
// eval with running ones), GroupNorm, InstanceNorm, LayerNorm and RMSNorm, batch size 1, a LayerNorm feature size
// of 1, non-contiguous inputs, and sizes of 8+ values per run so the float64 Vector512 loops are checked too.
// Module-level checks (momentum, track_running_stats, Train/Eval) are in Norm/NormModuleGradTests.cs.
public static partial class OpCatalog
{
    /// <summary>Running statistics for eval-mode entries: fixed float64 values (variance in [0.5, 2)).</summary>
    private static (Tensor Mean, Tensor Var) Running(int c)
    {
        var g = new Generator(99);
        return (Tensor.Randn([c], DType.Float64, g), Tensor.Uniform([c], 0.5, 2.0, DType.Float64, g));
    }

    private static IEnumerable<OpCase> NormCases()
    {
        // ---- BatchNorm, training: batch statistics (running stats, when given, are updated and do not affect y)
        yield return new("batch_norm_train_2d", g => [Randn(g, 4, 3), Randn(g, 3), Randn(g, 3)],
            x => Tensor.BatchNorm(x[0], null, null, x[1], x[2], training: true));
        yield return new("batch_norm_train_3d", g => [Randn(g, 3, 2, 5), Randn(g, 2), Randn(g, 2)],
            x => Tensor.BatchNorm(x[0], null, null, x[1], x[2], training: true));
        yield return new("batch_norm_train_4d", g => [Randn(g, 2, 2, 3, 4), Randn(g, 2), Randn(g, 2)],
            x => Tensor.BatchNorm(x[0], null, null, x[1], x[2], training: true));
        yield return new("batch_norm_train_4d_batch1", g => [Randn(g, 1, 3, 2, 3), Randn(g, 3), Randn(g, 3)],
            x => Tensor.BatchNorm(x[0], null, null, x[1], x[2], training: true, eps: 1e-3));
        yield return new("batch_norm_train_2d_no_affine", g => [Randn(g, 5, 3)],
            x => Tensor.BatchNorm(x[0], null, null, training: true));
        yield return new("batch_norm_train_4d_weight_only", g => [Randn(g, 2, 3, 2, 2), Randn(g, 3)],
            x => Tensor.BatchNorm(x[0], null, null, x[1], null, training: true));
        yield return new("batch_norm_train_with_running_stats", g => [Randn(g, 3, 2, 4), Randn(g, 2), Randn(g, 2)], x =>
        {
            var (rm, rv) = Running(2);
            return Tensor.BatchNorm(x[0], rm, rv, x[1], x[2], training: true, momentum: 0.3);
        });
        yield return new("batch_norm_train_offset_input", g => [Randn(g, 4, 2, 3), Randn(g, 2), Randn(g, 2)],
            x => Tensor.BatchNorm(x[0] + 50.0, null, null, x[1], x[2], training: true));
        yield return new("batch_norm_train_transposed_input", g => [Randn(g, 3, 4, 2), Randn(g, 2), Randn(g, 2)],
            x => Tensor.BatchNorm(x[0].Transpose(1, 2), null, null, x[1], x[2], training: true));
        yield return new("batch_norm_train_2d_long_channels", g => [Randn(g, 20, 2), Randn(g, 2), Randn(g, 2)],
            x => Tensor.BatchNorm(x[0], null, null, x[1], x[2], training: true));

        // ---- BatchNorm, eval: running statistics are constants
        yield return new("batch_norm_eval_2d", g => [Randn(g, 4, 3), Randn(g, 3), Randn(g, 3)], x =>
        {
            var (rm, rv) = Running(3);
            return Tensor.BatchNorm(x[0], rm, rv, x[1], x[2], training: false);
        });
        yield return new("batch_norm_eval_4d_batch1", g => [Randn(g, 1, 2, 3, 4), Randn(g, 2), Randn(g, 2)], x =>
        {
            var (rm, rv) = Running(2);
            return Tensor.BatchNorm(x[0], rm, rv, x[1], x[2], training: false);
        });
        yield return new("batch_norm_eval_3d_no_affine", g => [Randn(g, 2, 3, 4)], x =>
        {
            var (rm, rv) = Running(3);
            return Tensor.BatchNorm(x[0], rm, rv, training: false);
        });
        yield return new("batch_norm_eval_2d_one_value_per_channel", g => [Randn(g, 1, 3), Randn(g, 3), Randn(g, 3)], x =>
        {
            var (rm, rv) = Running(3);
            return Tensor.BatchNorm(x[0], rm, rv, x[1], x[2], training: false);
        });

        // ---- GroupNorm
        yield return new("group_norm_g2", g => [Randn(g, 2, 4, 3), Randn(g, 4), Randn(g, 4)],
            x => Tensor.GroupNorm(x[0], 2, x[1], x[2]));
        yield return new("group_norm_g1_4d", g => [Randn(g, 2, 3, 2, 2), Randn(g, 3), Randn(g, 3)],
            x => Tensor.GroupNorm(x[0], 1, x[1], x[2]));
        yield return new("group_norm_gc_no_affine", g => [Randn(g, 2, 3, 5)],
            x => Tensor.GroupNorm(x[0], 3));
        yield return new("group_norm_2d_input_batch1", g => [Randn(g, 1, 6), Randn(g, 6), Randn(g, 6)],
            x => Tensor.GroupNorm(x[0], 2, x[1], x[2]));
        yield return new("group_norm_permuted_input", g => [Randn(g, 2, 5, 4), Randn(g, 4), Randn(g, 4)],
            x => Tensor.GroupNorm(x[0].Transpose(1, 2), 2, x[1], x[2]));
        yield return new("group_norm_long_groups", g => [Randn(g, 2, 2, 12), Randn(g, 2), Randn(g, 2)],
            x => Tensor.GroupNorm(x[0], 1, x[1], x[2]));

        // ---- InstanceNorm
        yield return new("instance_norm_1d", g => [Randn(g, 2, 3, 5)], x => Tensor.InstanceNorm(x[0]));
        yield return new("instance_norm_2d_affine", g => [Randn(g, 2, 2, 3, 3), Randn(g, 2), Randn(g, 2)],
            x => Tensor.InstanceNorm(x[0], weight: x[1], bias: x[2]));
        yield return new("instance_norm_2d_batch1_running_stats", g => [Randn(g, 1, 2, 2, 5), Randn(g, 2), Randn(g, 2)], x =>
        {
            var (rm, rv) = Running(2);
            return Tensor.InstanceNorm(x[0], rm, rv, x[1], x[2], useInputStats: true);
        });
        yield return new("instance_norm_eval_running_stats", g => [Randn(g, 2, 3, 4), Randn(g, 3), Randn(g, 3)], x =>
        {
            var (rm, rv) = Running(3);
            return Tensor.InstanceNorm(x[0], rm, rv, x[1], x[2], useInputStats: false);
        });

        // ---- LayerNorm
        yield return new("layer_norm_last_dim", g => [Randn(g, 3, 5), Randn(g, 5), Randn(g, 5)],
            x => Tensor.LayerNorm(x[0], [5], x[1], x[2]));
        yield return new("layer_norm_last_2_dims", g => [Randn(g, 2, 3, 4), Randn(g, 3, 4), Randn(g, 3, 4)],
            x => Tensor.LayerNorm(x[0], [3, 4], x[1], x[2]));
        yield return new("layer_norm_no_affine", g => [Randn(g, 2, 2, 10)], x => Tensor.LayerNorm(x[0], [10]));
        yield return new("layer_norm_no_bias", g => [Randn(g, 3, 9), Randn(g, 9)], x => Tensor.LayerNorm(x[0], [9], x[1]));
        yield return new("layer_norm_feature_size_1", g => [Randn(g, 4, 1), Randn(g, 1), Randn(g, 1)],
            x => Tensor.LayerNorm(x[0], [1], x[1], x[2]));
        yield return new("layer_norm_1d_input", g => [Randn(g, 6), Randn(g, 6), Randn(g, 6)],
            x => Tensor.LayerNorm(x[0], [6], x[1], x[2], eps: 1e-3));
        yield return new("layer_norm_transposed_input", g => [Randn(g, 4, 3), Randn(g, 4), Randn(g, 4)],
            x => Tensor.LayerNorm(x[0].T, [4], x[1], x[2]));
        yield return new("layer_norm_offset_input", g => [Randn(g, 2, 8), Randn(g, 8), Randn(g, 8)],
            x => Tensor.LayerNorm(x[0] - 30.0, [8], x[1], x[2]));

        // ---- RMSNorm
        yield return new("rms_norm_last_dim", g => [Randn(g, 3, 5), Randn(g, 5)], x => Tensor.RmsNorm(x[0], [5], x[1]));
        yield return new("rms_norm_last_2_dims_eps", g => [Randn(g, 2, 2, 5), Randn(g, 2, 5)], x => Tensor.RmsNorm(x[0], [2, 5], x[1], eps: 1e-2));
        yield return new("rms_norm_no_affine", g => [Randn(g, 2, 9)], x => Tensor.RmsNorm(x[0], [9]));
        yield return new("rms_norm_feature_size_1", g => [Randn(g, 3, 1), Randn(g, 1)], x => Tensor.RmsNorm(x[0], [1], x[1], eps: 1e-3));
        yield return new("rms_norm_transposed_input", g => [Randn(g, 4, 3), Randn(g, 4)], x => Tensor.RmsNorm(x[0].T, [4], x[1]));
    }
}
