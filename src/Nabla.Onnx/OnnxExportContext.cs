using System.Globalization;
using Nabla.NN;
using Nabla.Onnx.Export;
using Nabla.Onnx.Protos;

namespace Nabla.Onnx;

/// <summary>
/// The graph <see cref="Onnx.Export"/> is building: modules add nodes and initializers here. Values flow by name;
/// each <see cref="OnnxValue"/> also carries Nabla's tensor for the sample input, so an emitter knows every shape.
/// </summary>
public sealed class OnnxExportContext
{
    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = [];
    private readonly Stack<string> _path = new();
    private readonly HashSet<string> _int64Values = [];
    private int _counter;

    internal OnnxExportContext(GraphProto graph, int opset)
    {
        _graph = graph;
        Opset = opset;
    }

    /// <summary>The opset version of the default ONNX domain being written.</summary>
    public int Opset { get; }

    /// <summary>Where the module being emitted sits in the model (e.g. <c>features.3</c>), for names and errors.</summary>
    public string Path => _path.Count == 0 ? "(model)" : string.Join(".", _path.Reverse());

    /// <summary>
    /// Emits <paramref name="module"/> applied to <paramref name="input"/> (a known Nabla module, a
    /// <see cref="Sequential"/>, or an <see cref="IOnnxExportable"/>) and returns its output.
    /// </summary>
    /// <param name="module">The module.</param>
    /// <param name="input">Its input.</param>
    /// <param name="name">Its name inside its parent (state-dict prefix), or null.</param>
    public OnnxValue Emit(Module module, OnnxValue input, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (name is not null) _path.Push(name);
        try
        {
            if (module is IOnnxExportable custom) return custom.ExportOnnx(this, input);
            if (module is Sequential seq)
            {
                var v = input;
                foreach (var (childName, child) in seq.NamedChildren()) v = Emit(child, v, childName);
                return v;
            }
            return ModuleExporters.Emit(this, module, input);
        }
        finally
        {
            if (name is not null) _path.Pop();
        }
    }

    /// <summary>
    /// Emits a <see cref="TransformerEncoderLayer"/> or <see cref="TransformerEncoder"/> run with is_causal: each
    /// position attends to itself and the earlier ones (a decoder-only language model's blocks). The mask is a constant
    /// of the sample input's sequence length, which the exported input keeps.
    /// </summary>
    /// <param name="module">The layer or the stack.</param>
    /// <param name="input">Its input: (L, N, E), (N, L, E) with batch_first, or (L, E).</param>
    /// <param name="name">Its name inside its parent (state-dict prefix), or null.</param>
    public OnnxValue EmitCausal(Module module, OnnxValue input, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (name is not null) _path.Push(name);
        try
        {
            return module switch
            {
                TransformerEncoderLayer layer => ModuleExporters.EncoderLayer(this, layer, input, isCausal: true),
                TransformerEncoder encoder => ModuleExporters.EncoderStack(this, encoder, input, isCausal: true),
                _ => throw new NotSupportedException($"Onnx.Export: EmitCausal takes a TransformerEncoderLayer or a TransformerEncoder, got {module.GetType().Name} at {Path}."),
            };
        }
        finally
        {
            if (name is not null) _path.Pop();
        }
    }

    internal void PushPath(string name) => _path.Push(name);

    internal void PopPath() => _path.Pop();

    /// <summary>
    /// Adds one node with one output and returns the output's name. Attributes are (name, value) pairs with values
    /// <c>long</c>/<c>int</c>, <c>long[]</c>/<c>int[]</c>, <c>float</c>/<c>double</c>, <c>float[]</c> or <c>string</c>.
    /// An empty input name is an omitted optional input.
    /// </summary>
    public string Node(string opType, IReadOnlyList<string> inputs, params (string Name, object Value)[] attributes) =>
        Node(opType, inputs, 1, attributes)[0];

    /// <summary>Adds one node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Node(string opType, IReadOnlyList<string> inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var node = new NodeProto { OpType = opType, Name = Fresh(opType) };
        node.Input.AddRange(inputs);
        var names = new string[outputs];
        for (int i = 0; i < outputs; i++) names[i] = Fresh(opType + "_output");
        node.Output.AddRange(names);
        foreach (var (name, value) in attributes) node.Attribute.Add(Attribute(name, value));
        _graph.Node.Add(node);
        return names;
    }

    /// <summary>Adds a float32 initializer holding <paramref name="tensor"/>'s values and returns its name (unique, from <paramref name="name"/>).</summary>
    public string Initializer(Tensor tensor, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        string n = Unique(name);
        _graph.Initializer.Add(OnnxTensors.FromFloats(n, tensor.ToArray(), tensor.Shape));
        return n;
    }

    /// <summary>Adds a 1-D int64 initializer (axes, shapes, indices) and returns its name.</summary>
    public string Int64s(params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        string n = Unique(Prefix + "const");
        _graph.Initializer.Add(OnnxTensors.FromInt64s(n, values, [values.Length]));
        return n;
    }

    /// <summary>Adds a 0-D int64 initializer and returns its name.</summary>
    public string Int64Scalar(long value)
    {
        string n = Unique(Prefix + "const");
        _graph.Initializer.Add(OnnxTensors.FromInt64s(n, [value], []));
        return n;
    }

    /// <summary>Whether the value is an int64 tensor (indices fed to an Embedding), not float32.</summary>
    public bool IsInt64(string value) => _int64Values.Contains(value);

    internal void MarkInt64(string value) => _int64Values.Add(value);

    /// <summary>A module-scoped prefix for names (<c>/features.3/</c>).</summary>
    private string Prefix => _path.Count == 0 ? "/" : "/" + Path + "/";

    /// <summary>Unsqueeze (the axes as an input from opset 13).</summary>
    public string Unsqueeze(string input, params long[] axes) => Node("Unsqueeze", [input, Int64s(axes)]);

    /// <summary>Squeeze (the axes as an input from opset 13).</summary>
    public string Squeeze(string input, params long[] axes) => Node("Squeeze", [input, Int64s(axes)]);

    /// <summary>ReduceMean over <paramref name="axes"/> keeping them (axes an attribute before opset 18, an input from 18).</summary>
    public string ReduceMean(string input, params long[] axes) => Opset >= 18
        ? Node("ReduceMean", [input, Int64s(axes)], ("keepdims", 1L))
        : Node("ReduceMean", [input], ("axes", axes), ("keepdims", 1L));

    /// <summary>A float32 scalar constant (0-D initializer).</summary>
    public string Scalar(double value, string name = "scalar") => Initializer(Tensor.Scalar(value), Prefix + name);

    private string Fresh(string what) => Unique(Prefix + what);

    private string Unique(string name)
    {
        if (_names.Add(name)) return name;
        string n;
        do n = string.Create(CultureInfo.InvariantCulture, $"{name}_{++_counter}"); while (!_names.Add(n));
        return n;
    }

    internal void Reserve(string name) => _names.Add(name);

    private static AttributeProto Attribute(string name, object value)
    {
        var a = new AttributeProto { Name = name };
        switch (value)
        {
            case int i: a.Type = AttributeProto.Types.AttributeType.Int; a.I = i; break;
            case long l: a.Type = AttributeProto.Types.AttributeType.Int; a.I = l; break;
            case float f: a.Type = AttributeProto.Types.AttributeType.Float; a.F = f; break;
            case double d: a.Type = AttributeProto.Types.AttributeType.Float; a.F = (float)d; break;
            case string s: a.Type = AttributeProto.Types.AttributeType.String; a.S = Google.Protobuf.ByteString.CopyFromUtf8(s); break;
            case int[] ia: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(ia.Select(x => (long)x)); break;
            case long[] la: a.Type = AttributeProto.Types.AttributeType.Ints; a.Ints.AddRange(la); break;
            case float[] fa: a.Type = AttributeProto.Types.AttributeType.Floats; a.Floats.AddRange(fa); break;
            case string[] sa: a.Type = AttributeProto.Types.AttributeType.Strings; a.Strings.AddRange(sa.Select(Google.Protobuf.ByteString.CopyFromUtf8)); break;
            default: throw new ArgumentException($"OnnxExportContext.Node: attribute '{name}' has a value of type {value?.GetType().Name ?? "null"}; use long, long[], float, float[], string or string[].");
        }
        return a;
    }
}
