using System.CommandLine;
using System.Globalization;
using Nabla.IO;
using Nabla.Onnx;

namespace Nabla.Cli;

/// <summary>`nabla export DIR FILE`: a run's model as an ONNX file.</summary>
internal static class ExportCommand
{
    private const string Description = """
        write a run's model as an ONNX file

        Loads a run's weights (DIR/model.safetensors, the last epoch's; --best: DIR/best.safetensors) and writes the model as an ONNX graph for ONNX Runtime or any ONNX runtime: input 'input' (float32 pixels in [0, 1], shaped as the model takes them, any batch size), output 'output' (the class logits); a gpt run: input (batch, context) int64 character ids, output the next-character logits. The file is written atomically.
        """;

    public static Command Create(SharedOptions shared)
    {
        var dir = new Argument<string>("DIR") { Description = "the run folder (runs/NAME)" };
        var file = new Argument<string>("FILE") { Description = "the .onnx file to write" };
        var opset = CliOptions.Int("--opset", "N", string.Create(CultureInfo.InvariantCulture, $"ONNX opset version, {Onnx.Onnx.MinOpset} to {Onnx.Onnx.MaxOpset} (default 17)"), min: Onnx.Onnx.MinOpset);
        var command = new Command("export", Description) { dir, file, opset, shared.Best };
        command.SetAction(r => Run(r.GetValue(dir)!, r.GetValue(file)!, r.GetValue(opset) ?? 17, r.GetValue(shared.Best), r.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(string dir, string file, int opset, bool best, TextWriter stdout)
    {
        if (opset > Onnx.Onnx.MaxOpset)
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"nabla export: --opset must be at most {Onnx.Onnx.MaxOpset}, got {opset}."));
        if (Directory.Exists(file)) throw new CliException($"nabla export: '{file}' is a folder; give the .onnx file to write.");
        var run = RunFolder.Open("export", dir);
        if (GptConfig.IsGpt(run.ReadConfig())) return ExportGpt(run, file, opset, best, stdout);
        var (config, model, raw) = RunModel.LoadModel("export", run, best);
        var (rows, cols) = RunModel.ImageSize(raw, run.ConfigFile);
        int[] sample = [1, .. config.SampleShape(rows * cols)];
        Onnx.Onnx.Export(model, Tensor.Zeros(sample), file, opset);
        string shape = "(batch, " + string.Join(", ", sample[1..]) + ")";
        stdout.WriteLine($"run: {run.Path} ({(best ? "best.safetensors" : "model.safetensors")}, model {config.Model})");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {file} (ONNX opset {opset}, input 'input' {shape} float32, output 'output' (batch, classes), {new FileInfo(file).Length:N0} bytes)"));
        return 0;
    }

    // a gpt run: character ids (batch, context) in, next-character logits (batch, context, vocab) out
    private static int ExportGpt(RunFolder run, string file, int opset, bool best, TextWriter stdout)
    {
        var c = GptConfig.FromDictionary(run.ReadConfig(), run.ConfigFile);
        string weights = best ? run.BestFile : run.ModelFile;
        if (!File.Exists(weights)) throw new CliException($"nabla export: '{run.Path}' has no {Path.GetFileName(weights)} yet (train it first).");
        var model = c.BuildModel(new Generator((ulong)c.Seed));
        model.LoadStateDict(SafeTensors.Load(weights).Tensors);
        Onnx.Onnx.Export(model, Tensor.Zeros([1, c.Context]), file, opset);
        stdout.WriteLine($"run: {run.Path} ({Path.GetFileName(weights)}, model gpt)");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {file} (ONNX opset {opset}, input 'input' (batch, {c.Context}) int64 character ids, output 'output' (batch, {c.Context}, {c.Vocab.Length}) next-character logits, {new FileInfo(file).Length:N0} bytes)"));
        return 0;
    }
}
