using Nabla.Data;
using Nabla.NN;

namespace Nabla.Cli;

/// <summary>Accuracy of a classifier.</summary>
internal static class Evaluate
{
    /// <summary>How many rows of <paramref name="logits"/> have their largest value at the target class.</summary>
    public static int Correct(Tensor logits, Tensor targets)
    {
        var predicted = logits.Detach().ArgMax(1).ToArray();
        var expected = targets.ToArray();
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == expected[i]) correct++;
        return correct;
    }

    /// <summary>The fraction of <paramref name="data"/> the model classifies correctly, in evaluation mode without a graph.</summary>
    public static double Accuracy(Module model, TensorDataset data, int batchSize)
    {
        model.Eval();
        int correct = 0;
        using (Tensor.NoGrad())
        {
            foreach (var (x, y) in new DataLoader(data, batchSize).Epoch()) correct += Correct(model.Forward(x), y);
        }
        model.Train();
        return (double)correct / data.Count;
    }
}
