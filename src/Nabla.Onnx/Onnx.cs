using Google.Protobuf;
using Nabla.IO;
using Nabla.NN;
using Nabla.Onnx.Protos;

namespace Nabla.Onnx;

/// <summary>
/// ONNX interchange: <see cref="Export"/> writes a Nabla model as an ONNX graph that ONNX Runtime (or any ONNX
/// runtime) runs; <see cref="Load"/> runs an ONNX graph (Nabla's, or one PyTorch's torch.onnx wrote) with Nabla's ops.
/// </summary>
public static partial class Onnx
{
    /// <summary>The lowest opset <see cref="Export"/> writes (Softmax over one axis, Squeeze/Unsqueeze axes as inputs).</summary>
    public const int MinOpset = 13;

    /// <summary>The highest opset <see cref="Export"/> writes (RMSNormalization).</summary>
    public const int MaxOpset = 23;

    /// <summary>
    /// Writes <paramref name="module"/> as an ONNX model file (atomically). The model runs in eval mode (dropout off,
    /// normalisation by running statistics) on <paramref name="sampleInput"/> in Nabla while its nodes are written,
    /// so every shape is known; its train/eval modes are restored afterwards. The graph has one input
    /// <c>input</c> (float32, or int64 when the model starts with an Embedding) and one output <c>output</c>; the
    /// <paramref name="batchAxis"/> of the input, and the output axis that follows it, are named <c>batch</c> and
    /// may take any size. Initializers are named by the state-dict keys. Modules ONNX cannot express (or that Nabla
    /// does not know how to write) are refused with a <see cref="NotSupportedException"/> naming them.
    /// Shape: sampleInput as the model takes it, e.g. (N, 1, 28, 28).
    /// </summary>
    /// <param name="module">The model: a <see cref="Sequential"/>, a known layer, or a module implementing <see cref="IOnnxExportable"/>.</param>
    /// <param name="sampleInput">One input batch (float32).</param>
    /// <param name="path">The .onnx file to write.</param>
    /// <param name="opset">ONNX opset version, <see cref="MinOpset"/> to <see cref="MaxOpset"/>; 17 has LayerNormalization, 23 RMSNormalization.</param>
    /// <param name="batchAxis">The input's batch axis, or null for fixed shapes.</param>
    public static void Export(Module module, Tensor sampleInput, string path, int opset = 17, int? batchAxis = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ToModel(module, sampleInput, opset, batchAxis).ToByteArray();
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The IR version that goes with an opset (onnx/helper.py's VERSION_TABLE).</summary>
    private static long IrVersion(int opset) => opset switch
    {
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        <= 22 => 10,
        _ => 11,
    };

    internal static ModelProto ToModel(Module module, Tensor sampleInput, int opset, int? batchAxis)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(sampleInput);
        if (opset < MinOpset || opset > MaxOpset)
            throw new ArgumentOutOfRangeException(nameof(opset), $"Onnx.Export: opset must be in {MinOpset}..{MaxOpset}, got {opset}.");
        if (sampleInput.DType != DType.Float32)
            throw new ArgumentException($"Onnx.Export: the sample input must be float32, got {sampleInput.DType}.", nameof(sampleInput));
        foreach (var (key, t) in module.NamedParameters())
            if (t.DType != DType.Float32)
                throw new ArgumentException($"Onnx.Export: only float32 models export; '{key}' is {t.DType} (convert the model first).", nameof(module));
        if (batchAxis is int ba && (ba < 0 || ba >= sampleInput.Rank))
            throw new ArgumentOutOfRangeException(nameof(batchAxis), $"Onnx.Export: batchAxis {ba} is outside the sample input's {sampleInput.Rank} dimensions.");

        var modes = Modes(module);
        module.Eval();
        try
        {
            using var _ = Tensor.NoGrad();
            var graph = new GraphProto { Name = "nabla" };
            var context = new OnnxExportContext(graph, opset);
            context.Reserve("input");
            context.Reserve("output");
            bool indices = FirstLayer(module) is Embedding || module is IOnnxExportable { InputIsIndices: true };
            if (indices) context.MarkInt64("input");
            var output = context.Emit(module, new OnnxValue("input", sampleInput));
            graph.Node.Add(new NodeProto { OpType = "Identity", Name = "output_identity", Input = { output.Name }, Output = { "output" } });

            // the output axis that follows the batch: where a one-larger batch makes the output larger
            int? outBatch = null;
            if (batchAxis is int axis)
            {
                var bigger = Tensor.Cat([sampleInput, sampleInput.Narrow(axis, 0, 1)], axis);
                var y2 = module.Forward(bigger);
                for (int d = 0; d < y2.Rank && d < output.Sample.Rank; d++)
                    if (y2.Size(d) != output.Sample.Size(d)) { outBatch = d; break; }
            }
            graph.Input.Add(ValueInfo("input", indices ? TensorProto.Types.DataType.Int64 : TensorProto.Types.DataType.Float, sampleInput.Shape, batchAxis));
            graph.Output.Add(ValueInfo("output", TensorProto.Types.DataType.Float, output.Sample.Shape, outBatch));
            var model = new ModelProto
            {
                IrVersion = IrVersion(opset),
                ProducerName = "Nabla",
                ProducerVersion = typeof(Onnx).Assembly.GetName().Version?.ToString() ?? "",
                Graph = graph,
            };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
            return model;
        }
        finally
        {
            foreach (var (m, training) in modes) m.Train(training);
        }
    }

    // every module's mode in pre-order: restoring in this order undoes Eval()'s recursion exactly
    private static List<(Module, bool)> Modes(Module m)
    {
        var list = new List<(Module, bool)> { (m, m.Training) };
        foreach (var (_, child) in m.NamedChildren()) list.AddRange(Modes(child));
        return list;
    }

    private static Module FirstLayer(Module m) => m is Sequential s && s.Layers.Count > 0 ? FirstLayer(s.Layers[0]) : m;

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, ReadOnlySpan<int> shape, int? batchAxis)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto() };
        for (int d = 0; d < shape.Length; d++)
            tensorType.Shape.Dim.Add(d == batchAxis ? new TensorShapeProto.Types.Dimension { DimParam = "batch" } : new TensorShapeProto.Types.Dimension { DimValue = shape[d] });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
