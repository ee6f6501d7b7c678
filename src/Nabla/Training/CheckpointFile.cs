using Nabla.IO;

namespace Nabla.Training;

/// <summary>Training checkpoints are safetensors files: the state's tensors plus its metadata strings (written atomically by <see cref="SafeTensors.Save"/>).</summary>
internal static class CheckpointFile
{
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        SafeTensors.Save(path, tensors, metadata);
    }

    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint '{path}' does not exist.", path);
        var f = SafeTensors.Load(path);
        return (f.Tensors, f.Metadata);
    }
}
