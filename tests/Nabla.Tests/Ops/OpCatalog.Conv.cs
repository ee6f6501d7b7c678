namespace Nabla.Tests.Ops;

// The op-catalog entries of the convolution, pooling, dropout. Outputs stay small (gradcheck runs one backward
// per output element); the shapes still reach every edge: padding, stride, dilation, groups, ceil-mode windows.
public static partial class OpCatalog
{
    private static IEnumerable<OpCase> ConvCases()
    {
        var list = new List<OpCase>();
        void Add(string name, Func<Generator, Tensor[]> inputs, Func<Tensor[], Tensor> op) => list.Add(new OpCase(name, inputs, op));

        // ---- Conv2d ----
        Add("conv2d_bias", g => [Randn(g, 2, 3, 5, 5), Randn(g, 4, 3, 3, 3), Randn(g, 4)], x => Tensor.Conv2d(x[0], x[1], x[2]));
        Add("conv2d_stride2_pad1", g => [Randn(g, 1, 2, 5, 6), Randn(g, 3, 2, 3, 3), Randn(g, 3)], x => Tensor.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1));
        Add("conv2d_dilation2_pad2", g => [Randn(g, 1, 2, 6, 6), Randn(g, 2, 2, 3, 3)], x => Tensor.Conv2d(x[0], x[1], padding: 2, dilation: 2));
        Add("conv2d_groups2_no_bias", g => [Randn(g, 1, 4, 5, 5), Randn(g, 4, 2, 3, 3)], x => Tensor.Conv2d(x[0], x[1], groups: 2));
        Add("conv2d_depthwise_multiplier2_pad1", g => [Randn(g, 1, 3, 4, 4), Randn(g, 6, 1, 3, 3), Randn(g, 6)], x => Tensor.Conv2d(x[0], x[1], x[2], padding: 1, groups: 3));
        Add("conv2d_nonsquare_kernel_tuple_args", g => [Randn(g, 1, 2, 6, 7), Randn(g, 3, 2, 2, 3), Randn(g, 3)],
            x => Tensor.Conv2d(x[0], x[1], x[2], (2, 1), (1, 0), (1, 2)));
        Add("conv2d_same_even_kernel", g => [Randn(g, 1, 2, 4, 5), Randn(g, 2, 2, 2, 4), Randn(g, 2)], x => Tensor.Conv2d(x[0], x[1], x[2], (1, 1), "same", (1, 1)));
        Add("conv2d_same_dilated", g => [Randn(g, 1, 1, 5, 4), Randn(g, 2, 1, 3, 2)], x => Tensor.Conv2d(x[0], x[1], null, (1, 1), "same", (2, 3)));
        Add("conv2d_valid_stride3", g => [Randn(g, 1, 2, 7, 8), Randn(g, 2, 2, 3, 2)], x => Tensor.Conv2d(x[0], x[1], null, (3, 3), "valid", (1, 1)));
        Add("conv2d_pointwise_1x1", g => [Randn(g, 2, 3, 3, 4), Randn(g, 5, 3, 1, 1), Randn(g, 5)], x => Tensor.Conv2d(x[0], x[1], x[2]));
        Add("conv2d_1x1_stride2", g => [Randn(g, 1, 3, 5, 5), Randn(g, 2, 3, 1, 1)], x => Tensor.Conv2d(x[0], x[1], stride: 2));
        Add("conv2d_kernel_larger_than_input_padded", g => [Randn(g, 1, 1, 2, 2), Randn(g, 2, 1, 4, 4)], x => Tensor.Conv2d(x[0], x[1], padding: 2));
        Add("conv2d_noncontiguous_input_and_weight", g => [Randn(g, 1, 5, 5, 2).Permute(0, 3, 1, 2), Randn(g, 2, 3, 3, 3).Permute(1, 0, 2, 3)],
            x => Tensor.Conv2d(x[0], x[1], padding: 1));
        Add("conv2d_unbatched", g => [Randn(g, 2, 4, 4), Randn(g, 2, 2, 3, 3)], x => Tensor.Conv2d(x[0], x[1]));
        // 3x3 stride 1 with 8 channels each way: Winograd in float32 (the float32 comparisons), im2col in float64
        Add("conv2d_3x3_8_channels_winograd", g => [Randn(g, 2, 8, 3, 5), Randn(g, 8, 8, 3, 3), Randn(g, 8)], x => Tensor.Conv2d(x[0], x[1], x[2], padding: 1));
        Add("conv2d_input_used_twice", g => [Randn(g, 1, 2, 4, 4), Randn(g, 2, 2, 3, 3)], x => Tensor.Conv2d(x[0], x[1], padding: 1) * x[0]);

        // ---- Conv1d ----
        Add("conv1d_stride2_pad1", g => [Randn(g, 2, 3, 7), Randn(g, 4, 3, 3), Randn(g, 4)], x => Tensor.Conv1d(x[0], x[1], x[2], stride: 2, padding: 1));
        Add("conv1d_same_dilation2", g => [Randn(g, 1, 2, 6), Randn(g, 3, 2, 4)], x => Tensor.Conv1d(x[0], x[1], null, 1, "same", dilation: 2));
        Add("conv1d_depthwise", g => [Randn(g, 1, 4, 6), Randn(g, 4, 1, 3), Randn(g, 4)], x => Tensor.Conv1d(x[0], x[1], x[2], groups: 4));
        Add("conv1d_transposed_input", g => [Randn(g, 6, 2, 2)], x => Tensor.Conv1d(x[0].Permute(1, 2, 0), Tensor.Arange(12, x[0].DType).Reshape(2, 2, 3) * 0.1));

        // ---- ConvTranspose2d ----
        Add("conv_transpose2d_stride2_pad1_outpad1", g => [Randn(g, 1, 2, 3, 3), Randn(g, 2, 3, 3, 3), Randn(g, 3)],
            x => Tensor.ConvTranspose2d(x[0], x[1], x[2], stride: 2, padding: 1, outputPadding: 1));
        Add("conv_transpose2d_groups2_dilation2", g => [Randn(g, 1, 4, 3, 3), Randn(g, 4, 1, 2, 2)],
            x => Tensor.ConvTranspose2d(x[0], x[1], null, groups: 2, dilation: 2));
        Add("conv_transpose2d_nonsquare", g => [Randn(g, 2, 2, 2, 3), Randn(g, 2, 2, 3, 2), Randn(g, 2)],
            x => Tensor.ConvTranspose2d(x[0], x[1], x[2], (2, 1), (0, 1), (1, 0), 1, (1, 1)));
        Add("conv_transpose2d_outpad_below_dilation", g => [Randn(g, 1, 1, 2, 2), Randn(g, 1, 2, 2, 2)],
            x => Tensor.ConvTranspose2d(x[0], x[1], null, (1, 1), (0, 0), (1, 1), 1, (2, 2)));

        // ---- pooling (the residual goes to the arg-max position) ----
        Add("max_pool2d_2x2", g => [Randn(g, 1, 2, 4, 4)], x => x[0].MaxPool2d(2));
        Add("max_pool2d_k3_s2_p1_dilation2", g => [Randn(g, 1, 2, 6, 6)], x => x[0].MaxPool2d(3, 2, 1, 2));
        Add("max_pool2d_ceil_mode_edge_windows", g => [Randn(g, 1, 1, 5, 5)], x => x[0].MaxPool2d(2, ceilMode: true));
        Add("max_pool2d_ceil_mode_padded", g => [Randn(g, 1, 1, 6, 6)], x => x[0].MaxPool2d(3, 2, 1, ceilMode: true));
        Add("max_pool2d_nonsquare_stride1", g => [Randn(g, 2, 1, 4, 5)], x => x[0].MaxPool2d((2, 3), (1, 2), (1, 1), (1, 1)));
        Add("max_pool2d_transposed_input", g => [Randn(g, 1, 2, 5, 4)], x => x[0].Transpose(2, 3).MaxPool2d(2, 1));
        Add("max_pool2d_unbatched_overlapping", g => [Randn(g, 2, 4, 4)], x => x[0].MaxPool2d(3, 1));
        Add("max_pool1d_k3_s2_p1_ceil", g => [Randn(g, 2, 2, 8)], x => x[0].MaxPool1d(3, 2, 1, ceilMode: true));
        Add("max_pool1d_dilation2", g => [Randn(g, 1, 3, 7)], x => x[0].MaxPool1d(2, 1, 0, 3));
        Add("avg_pool2d_include_pad", g => [Randn(g, 1, 2, 5, 5)], x => x[0].AvgPool2d(3, 2, 1));
        Add("avg_pool2d_exclude_pad", g => [Randn(g, 1, 2, 5, 5)], x => x[0].AvgPool2d(3, 2, 1, countIncludePad: false));
        Add("avg_pool2d_ceil_include_pad", g => [Randn(g, 1, 1, 6, 6)], x => x[0].AvgPool2d(3, 2, 1, ceilMode: true));
        Add("avg_pool2d_ceil_exclude_pad", g => [Randn(g, 1, 1, 6, 7)], x => x[0].AvgPool2d((3, 2), (2, 2), (1, 0), ceilMode: true, countIncludePad: false));
        Add("avg_pool2d_divisor_override", g => [Randn(g, 1, 2, 5, 5)], x => x[0].AvgPool2d(3, 2, 1, ceilMode: true, divisorOverride: 5));
        Add("avg_pool1d_k3_s2_p1_ceil", g => [Randn(g, 2, 2, 8)], x => x[0].AvgPool1d(3, 2, 1, ceilMode: true));
        Add("avg_pool1d_exclude_pad_unbatched", g => [Randn(g, 3, 7)], x => x[0].AvgPool1d(2, 1, 1, countIncludePad: false));
        Add("adaptive_avg_pool2d_3x2", g => [Randn(g, 1, 2, 7, 5)], x => x[0].AdaptiveAvgPool2d(3, 2));
        Add("adaptive_avg_pool2d_upsample", g => [Randn(g, 1, 1, 2, 3)], x => x[0].AdaptiveAvgPool2d(3, 4));
        Add("adaptive_avg_pool2d_global", g => [Randn(g, 2, 3, 4, 5)], x => x[0].AdaptiveAvgPool2d(1, 1));
        Add("adaptive_max_pool2d_2x3", g => [Randn(g, 1, 2, 5, 7)], x => x[0].AdaptiveMaxPool2d(2, 3));
        Add("adaptive_max_pool2d_global_noncontiguous", g => [Randn(g, 2, 4, 3, 3)], x => x[0].Permute(1, 0, 2, 3).AdaptiveMaxPool2d(1, 1));

        // ---- dropout: a fresh generator per call, so every evaluation draws the same mask ----
        Add("dropout_p0.3", g => [Randn(g, 3, 4)], x => x[0].Dropout(0.3, true, new Generator(7)));
        Add("dropout2d_p0.5", g => [Randn(g, 2, 3, 2, 2)], x => x[0].Dropout2d(0.5, true, new Generator(3)));

        // ---- a LeNet-shaped chain ----
        Add("conv_relu_pool_linear_chain", g => [Randn(g, 2, 1, 6, 6), Randn(g, 2, 1, 3, 3), Randn(g, 2), Randn(g, 3, 8)],
            x => Tensor.Linear(Tensor.Conv2d(x[0], x[1], x[2], padding: 1).Relu().MaxPool2d(3).Flatten(1), x[3]).LogSoftmax(-1));
        return list;
    }
}
