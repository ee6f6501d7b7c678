using Nabla.Data;
using Nabla.NN;

namespace Nabla.Training;

/// <summary>Classification metrics: correct counts, accuracy and mean loss over a data set.</summary>
public static class Metrics
{
    /// <summary>How many rows of <paramref name="logits"/> have their largest value at the target class. Shape: logits (B, C), targets (B).</summary>
    public static int Correct(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        var predicted = logits.Detach().ArgMax(1).ToArray();
        var expected = targets.ToArray();
        if (predicted.Length != expected.Length)
            throw new ArgumentException($"Metrics.Correct: {predicted.Length} predictions but {expected.Length} targets.");
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++) if (predicted[i] == expected[i]) correct++;
        return correct;
    }

    /// <summary>
    /// Mean loss (weighted by batch size) and accuracy of <paramref name="model"/> on <paramref name="data"/>, in
    /// evaluation mode without a graph; the model's previous mode is restored afterwards.
    /// </summary>
    public static (double Loss, double Accuracy) Evaluate(Module model, Func<Tensor, Tensor, Tensor> loss, DataLoader data)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(data);
        bool wasTraining = model.Training;
        model.Eval();
        double lossSum = 0;
        long correct = 0, seen = 0;
        try
        {
            using (Tensor.NoGrad())
            {
                foreach (var (x, y) in data.Epoch())
                {
                    var logits = model.Call(x);
                    int n = x.Size(0);
                    lossSum += loss(logits, y).Item() * n;
                    correct += Correct(logits, y);
                    seen += n;
                }
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return (lossSum / seen, (double)correct / seen);
    }
}
