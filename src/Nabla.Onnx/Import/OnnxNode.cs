using Nabla.Onnx.Protos;

namespace Nabla.Onnx.Import;

// One node being run: its (possibly omitted) inputs and typed access to its attributes.
internal sealed class OnnxNode(NodeProto node, OnnxValueData?[] inputs, int opset)
{
    public string OpType => node.OpType;

    public int Opset => opset;

    public int InputCount => inputs.Length;

    public int OutputCount => node.Output.Count;

    public OnnxValueData? Optional(int i) => i < inputs.Length ? inputs[i] : null;

    public OnnxValueData In(int i) => Optional(i) ?? throw new ArgumentException($"input {i} is required.");

    public Tensor X(int i = 0) => In(i).T;

    private AttributeProto? Attr(string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    public bool Has(string name) => Attr(name) is not null;

    public long Int(string name, long fallback) => Attr(name) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Attr(name) is { } a ? a.F : fallback;

    public string Str(string name, string fallback) => Attr(name) is { } a ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => Attr(name)?.Ints.ToArray();

    public string[]? Strings(string name) => Attr(name)?.Strings.Select(s => s.ToStringUtf8()).ToArray();

    public TensorProto? TensorAttr(string name) => Attr(name)?.T;

    /// <summary>Refuses an attribute value Nabla does not compute.</summary>
    public void Refuse(bool condition, string what)
    {
        if (condition) throw new NotSupportedException($"{OpType} with {what} is not supported.");
    }
}
