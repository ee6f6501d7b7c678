using Nabla.NN;

namespace Nabla.Onnx;

/// <summary>
/// A module that writes its own ONNX nodes: <see cref="Onnx.Export"/> calls it for modules it does not know (a model
/// class with its own Forward, say). Emit the children with <see cref="OnnxExportContext.Emit"/> and glue them with
/// <c>OnnxExportContext.Node</c>; every value carries the Nabla tensor it holds for the sample input.
/// </summary>
public interface IOnnxExportable
{
    /// <summary>Adds this module's nodes for <paramref name="input"/> and returns its output value.</summary>
    OnnxValue ExportOnnx(OnnxExportContext context, OnnxValue input);

    /// <summary>Whether the model's input holds indices (an Embedding's): the ONNX input is then int64, not float32.</summary>
    bool InputIsIndices => false;
}

/// <summary>
/// A value of the graph being exported: its ONNX name and what it holds when the model runs the sample input in
/// Nabla (its shape and, in tests, its reference values).
/// </summary>
/// <param name="Name">The ONNX value name.</param>
/// <param name="Sample">Nabla's value for the sample input.</param>
public readonly record struct OnnxValue(string Name, Tensor Sample);
