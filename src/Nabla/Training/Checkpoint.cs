using Nabla.IO;
using Nabla.NN;

namespace Nabla.Training;

/// <summary>
/// Saves and loads a model's weights as a safetensors file with PyTorch's state-dict keys (<c>0.weight</c>,
/// <c>fc1.bias</c>, <c>bn.running_mean</c>), so PyTorch (<c>safetensors.torch.load_file</c> + <c>load_state_dict</c>)
/// and Nabla can exchange them. The file's metadata holds <c>format = pt</c>, as Hugging Face tools expect.
/// For a resumable training run use <see cref="TrainingCheckpoint"/>.
/// </summary>
public static class Checkpoint
{
    /// <summary>Writes <paramref name="model"/>'s state dict to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The destination (conventionally <c>*.safetensors</c>).</param>
    /// <param name="model">The model.</param>
    /// <param name="metadata">Extra string metadata to store (must not use the key <c>format</c>).</param>
    public static void SaveModel(string path, Module model, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt" };
        if (metadata is not null)
            foreach (var (k, v) in metadata)
                if (!meta.TryAdd(k, v)) throw new ArgumentException($"Checkpoint.SaveModel: the metadata key '{k}' is reserved.");
        SafeTensors.Save(path, model.StateDict(), meta);
    }

    /// <summary>
    /// Loads weights from <paramref name="path"/> into <paramref name="model"/>. Every missing or unexpected key (when
    /// <paramref name="strict"/>), shape mismatch and dtype mismatch is reported at once; nothing is changed then.
    /// </summary>
    /// <returns>The file's metadata.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file.</exception>
    /// <exception cref="ArgumentException">The weights do not fit the model.</exception>
    public static Dictionary<string, string> LoadModel(string path, Module model, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        var file = SafeTensors.Load(path);
        model.LoadStateDict(file.Tensors, strict);
        return file.Metadata;
    }
}
