using Nabla.NN;

namespace Nabla.Cli;

/// <summary>The model presets `nabla train` builds.</summary>
internal static class Models
{
    /// <summary>The text's fully-connected network: Linear + ReLU for each hidden size, then a Linear to the classes.</summary>
    public static Sequential Mlp(int inputs, int[] hidden, int classes, Generator generator)
    {
        var model = new Sequential();
        int width = inputs;
        foreach (int h in hidden)
        {
            model.Add(new Linear(width, h, generator: generator));
            model.Add(new ReLU());
            width = h;
        }
        model.Add(new Linear(width, classes, generator: generator));
        return model;
    }
}
