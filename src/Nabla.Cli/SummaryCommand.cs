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
        var command = new Command("summary", Description) { shared.Model, shared.Hidden, shared.Json };
        command.SetAction(r => Run(r.GetValue(shared.Model), r.ListOrNull(shared.Hidden), r.GetValue(shared.Json), r.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(string? modelName, int[]? hidden, bool json, TextWriter stdout)
    {
        if (modelName == GptConfig.ModelName)
        {
            if (hidden is not null) throw new CliException("nabla summary: --hidden applies to the mlp model only, not 'gpt'.");
            return GptSummary(json, stdout);
        }
        var (c, model, rows, cols) = InspectModel.FreshModel(modelName, hidden, 1, "summary");
        var layers = InspectModel.Layers(model);
        var jsonLayers = new List<SummaryLayer>();
        Tensor x = Tensor.Zeros([1, .. c.SampleShape(rows * cols)]);
        model.Eval();
        using (Tensor.NoGrad())
        {
            foreach (var (name, layer) in layers)
            {
                x = layer.Forward(x);
                jsonLayers.Add(new SummaryLayer(name, layer.GetType().Name, x.Shape[1..].ToArray(), layer.ParameterCount()));
            }
        }
        return Print(new SummaryJson(c.Model, c.SampleShape(rows * cols), jsonLayers, model.ParameterCount(), model.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Numel), 0), json, stdout);
    }

    // the gpt preset with its default sizes and the bundled text's vocabulary, on one window of context characters
    private static int GptSummary(bool json, TextWriter stdout)
    {
        var text = GptText.Load(null, "summary");
        var model = new Gpt(text.Vocab.Length, GptConfig.DefaultContext, GptConfig.DefaultDim, GptConfig.DefaultLayers, GptConfig.DefaultHeads, 0, new Generator(1));
        model.Eval();
        var jsonLayers = new List<SummaryLayer>();
        int[] hidden = [GptConfig.DefaultContext, GptConfig.DefaultDim];
        Tensor x = Tensor.Zeros([1, GptConfig.DefaultContext]);
        using (Tensor.NoGrad())
        {
            var y = model.Forward(x); // checks the shapes below
            foreach (var (name, child) in model.NamedChildren())
            {
                if (child is NN.ModuleList blocks)
                    for (int i = 0; i < blocks.Count; i++)
                        jsonLayers.Add(new SummaryLayer($"{name}.{i.ToString(s_inv)}", blocks[i].GetType().Name, hidden, blocks[i].ParameterCount()));
                else
                    jsonLayers.Add(new SummaryLayer(name, child.GetType().Name, hidden, child.ParameterCount()));
            }
            jsonLayers.Add(new SummaryLayer("head (tok_emb.weight)", "Linear", y.Shape[1..].ToArray(), 0));
        }
        long total = model.ParameterCount();
        return Print(new SummaryJson(GptConfig.ModelName, [GptConfig.DefaultContext], jsonLayers, total, total, 0), json, stdout);
    }

    private static int Print(SummaryJson s, bool json, TextWriter stdout)
    {
        s = s with { NonTrainableParams = s.TotalParams - s.TrainableParams };
        if (json)
        {
            CliJson.Write(stdout, s, CliJsonContext.Default.SummaryJson);
            return 0;
        }
        long total = s.TotalParams, trainable = s.TrainableParams;
        var rowsOut = s.Layers.Select(l => (Layer: $"{l.Name} ({l.Type})", Shape: InspectModel.Shape([1, .. l.OutputShape]), l.Params)).ToList();
        int w1 = Math.Max(28, rowsOut.Max(r => r.Layer.Length) + 2), w2 = Math.Max(20, rowsOut.Max(r => r.Shape.Length) + 2);
        string rule = new('─', w1 + w2 + 12), thick = new('═', w1 + w2 + 12);
        stdout.WriteLine($"Model: {s.Model}, input {InspectModel.Shape([1, .. s.InputShape])}");
        stdout.WriteLine(rule);
        stdout.WriteLine($"{"Layer (type)".PadRight(w1)}{"Output Shape".PadRight(w2)}{"Param #",12}");
        stdout.WriteLine(thick);
        foreach (var r in rowsOut) stdout.WriteLine(string.Create(s_inv, $"{r.Layer.PadRight(w1)}{r.Shape.PadRight(w2)}{r.Params,12:N0}"));
        stdout.WriteLine(thick);
        stdout.WriteLine(string.Create(s_inv, $"Total params: {total:N0} ({total * 4 / 1024.0:F1} KiB as float32)"));
        stdout.WriteLine(string.Create(s_inv, $"Trainable params: {trainable:N0}"));
        stdout.WriteLine(string.Create(s_inv, $"Non-trainable params: {total - trainable:N0}"));
        return 0;
    }
}
