using Nabla.NN;
using Nabla.Onnx.Protos;

namespace Nabla.Onnx.Import;

/// <summary>
/// An ONNX graph run by Nabla's ops (what <see cref="Onnx.Load"/> returns), for inference: float32 values, int64
/// shapes and indices. Every operator is checked when the model is loaded; one outside the set Nabla runs is refused
/// then, naming it. Forward runs the graph's first input to its first output; <see cref="Run"/> takes every input.
/// Shape: whatever the graph's input and output are (e.g. (N, 1, 28, 28) → (N, 10)).
/// </summary>
public sealed class OnnxModule : Module
{
    private readonly GraphProto _graph;
    private readonly Dictionary<string, OnnxValueData> _constants = [];
    private readonly string[] _inputs;

    internal OnnxModule(ModelProto model, string source)
    {
        Source = source;
        _graph = model.Graph ?? throw new InvalidDataException($"Onnx.Load: {source} has no graph.");
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx");
        Opset = opset is null ? 1 : checked((int)opset.Version);
        foreach (var init in _graph.Initializer) _constants[init.Name] = OnnxValueData.FromProto(init);
        _inputs = _graph.Input.Select(i => i.Name).Where(n => !_constants.ContainsKey(n)).ToArray();
        if (_inputs.Length == 0) throw new InvalidDataException($"Onnx.Load: {source}'s graph has no input.");
        if (_graph.Output.Count == 0) throw new InvalidDataException($"Onnx.Load: {source}'s graph has no output.");
        var unsupported = _graph.Node
            .Where(n => n.Domain is not ("" or "ai.onnx") || !OnnxOps.Supports(n.OpType))
            .Select(n => (n.Domain is "" or "ai.onnx" ? "" : n.Domain + ".") + n.OpType)
            .Distinct().ToList();
        if (unsupported.Count > 0)
            throw new NotSupportedException($"Onnx.Load: {source} uses operator(s) Nabla does not run: {string.Join(", ", unsupported)}. Supported: {string.Join(", ", OnnxOps.Names)}.");
    }

    /// <summary>The file the model came from.</summary>
    public string Source { get; }

    /// <summary>The opset version of the default ONNX domain the model was written for.</summary>
    public int Opset { get; }

    /// <summary>The graph's input names (initializers excluded).</summary>
    public IReadOnlyList<string> InputNames => _inputs;

    /// <summary>The graph's output names.</summary>
    public IReadOnlyList<string> OutputNames => _graph.Output.Select(o => o.Name).ToArray();

    /// <summary>Whether the first input is declared int64 (indices, as an Embedding takes); its values are then rounded.</summary>
    public bool InputIsInt64 => InputElemType(_inputs[0]) == (int)TensorProto.Types.DataType.Int64;

    /// <summary>The ONNX operator types in the graph, in order of first use.</summary>
    public IReadOnlyList<string> Operators => _graph.Node.Select(n => n.OpType).Distinct().ToArray();

    /// <summary>Runs the graph on its first input and returns its first output.</summary>
    public override Tensor Forward(Tensor input) => Run(new Dictionary<string, Tensor> { [_inputs[0]] = input })[OutputNames[0]];

    /// <summary>Runs the graph on named inputs (int64 inputs as integer-valued tensors) and returns every output by name.</summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new Dictionary<string, OnnxValueData>(_constants);
        foreach (string name in _inputs)
        {
            if (!inputs.TryGetValue(name, out var t))
                throw new ArgumentException($"OnnxModule: input '{name}' is missing (the graph's inputs: {string.Join(", ", _inputs)}).");
            CheckInputShape(name, t);
            values[name] = InputElemType(name) is (int)TensorProto.Types.DataType.Int64 or (int)TensorProto.Types.DataType.Int32
                ? new OnnxValueData(t.To(DType.Float64), true)
                : new OnnxValueData(t.To(DType.Float32), false);
        }
        foreach (var node in _graph.Node)
        {
            var args = node.Input.Select(n => n.Length == 0 ? null : values.TryGetValue(n, out var v) ? v
                : throw new InvalidDataException($"OnnxModule: node '{node.Name}' ({node.OpType}) reads '{n}', which no earlier node writes.")).ToArray();
            OnnxValueData[] outs;
            try
            {
                outs = OnnxOps.Run(new OnnxNode(node, args, Opset));
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException or IndexOutOfRangeException)
            {
                throw new InvalidOperationException($"OnnxModule: node '{node.Name}' ({node.OpType}): {e.Message}", e);
            }
            for (int i = 0; i < node.Output.Count && i < outs.Length; i++)
                if (node.Output[i].Length > 0) values[node.Output[i]] = outs[i];
        }
        var result = new Dictionary<string, Tensor>();
        foreach (var o in _graph.Output) result[o.Name] = values[o.Name].T;
        return result;
    }

    private int InputElemType(string name) => _graph.Input.First(i => i.Name == name).Type?.TensorType?.ElemType ?? (int)TensorProto.Types.DataType.Float;

    private void CheckInputShape(string name, Tensor t)
    {
        var shape = _graph.Input.First(i => i.Name == name).Type?.TensorType?.Shape;
        if (shape is null) return;
        bool ok = shape.Dim.Count == t.Rank;
        for (int d = 0; ok && d < t.Rank; d++)
            if (shape.Dim[d].HasDimValue && shape.Dim[d].DimValue != t.Size(d)) ok = false;
        if (!ok)
        {
            string want = string.Join(", ", shape.Dim.Select(d => d.HasDimValue ? d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.DimParam is { Length: > 0 } p ? p : "?"));
            throw new ArgumentException($"OnnxModule: input '{name}' must have shape ({want}), got ({string.Join(", ", t.Shape.ToArray())}).");
        }
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{Source}, opset {Opset}, {_graph.Node.Count} nodes";
}

/// <summary>A value while the graph runs: a float32 tensor, or an int64 one held exactly as a float64 tensor.</summary>
internal sealed record OnnxValueData(Tensor T, bool IsInt)
{
    public static OnnxValueData FromProto(TensorProto p)
    {
        var type = (TensorProto.Types.DataType)p.DataType;
        bool isInt = type is TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Bool;
        var data = OnnxTensors.ToDoubles(p);
        var t = Make(data, OnnxTensors.Shape(p));
        return new OnnxValueData(isInt ? t : t.To(DType.Float32), isInt);
    }

    public long[] Longs() => T.ToDoubleArray().Select(v => (long)v).ToArray();

    public int[] Ints() => T.ToDoubleArray().Select(v => checked((int)v)).ToArray();

    public static OnnxValueData Float(Tensor t) => new(t.DType == DType.Float32 ? t : t.To(DType.Float32), false);

    public static OnnxValueData Int(Tensor t) => new(t.DType == DType.Float64 ? t : t.To(DType.Float64), true);

    /// <summary>A float64 tensor of <paramref name="shape"/>; a rank-0 shape makes a scalar (FromArray would make it 1-D).</summary>
    public static Tensor Make(double[] data, int[] shape) => shape.Length == 0 ? Tensor.Scalar(data[0], DType.Float64) : Tensor.FromArray(data, shape);

    public OnnxValueData Reshaped(int[] shape) => this with { T = T.Reshape(shape) };

    public static OnnxValueData Int(long[] values, params int[] shape) => new(Make(values.Select(v => (double)v).ToArray(), shape), true);
}
