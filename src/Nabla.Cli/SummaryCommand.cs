using System.CommandLine;
using System.Globalization;

namespace Nabla.Cli;

/// <summary>`nabla summary`: a Keras-style table of a model's layers, output shapes and parameter counts.</summary>
internal static class SummaryCommand
{
    private const string Description = """
        the model's layers, output shapes and parameter counts

        Prints a table of the model's layers with their output shapes and parameter counts (like Keras' model.summary()), found by one forward pass of a dummy batch. N stands for the batch dimension.
        """;

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public static Command Create(SharedOptions shared)
    {
        var command = new Command("summary", Description) { shared.Model, shared.Hidden };
        command.SetAction(r => Run(r.GetValue(shared.Model), r.ListOrNull(shared.Hidden), r.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(string? modelName, int[]? hidden, TextWriter stdout)
    {
        var (c, model, rows, cols) = InspectModel.FreshModel(modelName, hidden, 1, "summary");
        var layers = InspectModel.Layers(model);
        var rowsOut = new List<(string Layer, string Shape, long Params)>();
        Tensor x = Tensor.Zeros([1, .. c.SampleShape(rows * cols)]);
        model.Eval();
        using (Tensor.NoGrad())
        {
            foreach (var (name, layer) in layers)
            {
                x = layer.Forward(x);
                rowsOut.Add(($"{name} ({layer.GetType().Name})", InspectModel.Shape(x.Shape), layer.ParameterCount()));
            }
        }
        int w1 = Math.Max(28, rowsOut.Max(r => r.Layer.Length) + 2), w2 = Math.Max(20, rowsOut.Max(r => r.Shape.Length) + 2);
        string rule = new('─', w1 + w2 + 12), thick = new('═', w1 + w2 + 12);
        stdout.WriteLine($"Model: {c.Model}, input {InspectModel.Shape([1, .. c.SampleShape(rows * cols)])}");
        stdout.WriteLine(rule);
        stdout.WriteLine($"{"Layer (type)".PadRight(w1)}{"Output Shape".PadRight(w2)}{"Param #",12}");
        stdout.WriteLine(thick);
        foreach (var r in rowsOut) stdout.WriteLine(string.Create(s_inv, $"{r.Layer.PadRight(w1)}{r.Shape.PadRight(w2)}{r.Params,12:N0}"));
        stdout.WriteLine(thick);
        long total = model.ParameterCount(), trainable = model.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Numel);
        stdout.WriteLine(string.Create(s_inv, $"Total params: {total:N0} ({total * 4 / 1024.0:F1} KiB as float32)"));
        stdout.WriteLine(string.Create(s_inv, $"Trainable params: {trainable:N0}"));
        stdout.WriteLine(string.Create(s_inv, $"Non-trainable params: {total - trainable:N0}"));
        return 0;
    }

}
