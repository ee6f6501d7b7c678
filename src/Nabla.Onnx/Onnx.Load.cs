using Google.Protobuf;
using Nabla.Onnx.Import;
using Nabla.Onnx.Protos;

namespace Nabla.Onnx;

public static partial class Onnx
{
    /// <summary>
    /// Loads an ONNX model file as a module that runs its graph with Nabla's ops (inference; float32 data, int64
    /// shapes and indices): a model written by <see cref="Export"/>, or one PyTorch's torch.onnx wrote. Operators
    /// outside the set Nabla runs are refused here, naming them.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    public static OnnxModule Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelProto model;
        try
        {
            using var stream = File.OpenRead(path);
            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"Onnx.Load: {path} is not an ONNX model ({e.Message}).", e);
        }
        return new OnnxModule(model, path);
    }
}
