namespace Nabla.Training;

public sealed partial class Trainer
{
    /// <summary>
    /// Writes <see cref="CaptureState"/> to <paramref name="path"/> as one safetensors file, atomically (a crash
    /// leaves the previous checkpoint intact).
    /// </summary>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var s = CaptureState();
        CheckpointFile.Save(path, s.Tensors, s.Metadata);
    }

    /// <summary>Reads a checkpoint written by <see cref="SaveCheckpoint"/> and restores it (<see cref="RestoreState"/>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid training checkpoint.</exception>
    public void LoadCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (tensors, metadata) = CheckpointFile.Load(path);
        RestoreState(new TrainingState(tensors, metadata));
    }

    /// <summary>Reads the training state stored in a checkpoint file without applying it.</summary>
    public static TrainingState ReadCheckpoint(string path)
    {
        var (tensors, metadata) = CheckpointFile.Load(path);
        return new TrainingState(tensors, metadata);
    }
}
