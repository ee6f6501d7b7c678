using Microsoft.ML.OnnxRuntime;
using Nabla.Cli;

namespace Nabla.Onnx.Tests;

/// <summary>docs/interop.md's ONNX Runtime deployment snippet is this test's code, line for line, and it works.</summary>
public class DocSnippetTests
{
    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Nabla.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("Nabla.sln not found above " + AppContext.BaseDirectory);
    }

    private static string[] Block(string text, string start, string fence, string end)
    {
        int a = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(a >= 0, $"'{start}' not found");
        int b = text.IndexOf(fence, a, StringComparison.Ordinal) + fence.Length;
        int e = text.IndexOf(end, b, StringComparison.Ordinal);
        return text[b..e].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
    }

    [Fact]
    public void TheDeploymentSnippetIsThisCode()
    {
        string root = RepoRoot();
        var doc = Block(File.ReadAllText(Path.Combine(root, "docs", "interop.md")), "<!-- snippet: ort-deploy", "```csharp\n", "```");
        var code = Block(File.ReadAllText(Path.Combine(root, "tests", "Nabla.Onnx.Tests", "DocSnippetTests.cs")), "// snippet:" + " begin", "\n", "// snippet:" + " end");
        Assert.Equal(code, doc);
    }

    [Fact]
    public void TheDeploymentSnippetRuns()
    {
        var model = Models.LeNet(1, 10, new Generator(1));
        model.Eval();
        try
        {
            // snippet: begin
            Onnx.Export(model, Tensor.Zeros([1, 1, 28, 28]), "lenet.onnx");   // with Nabla, once

            using var session = new InferenceSession("lenet.onnx");           // in the app: Microsoft.ML.OnnxRuntime
            float[] pixels = new float[2 * 28 * 28];                          // two images (N, 1, 28, 28), values in [0, 1]
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [2, 1, 28, 28]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ["input"], [input], ["output"]);
            float[] logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();   // (2, 10), row by row
            // snippet: end
            Tensor expected;
            using (Tensor.NoGrad()) expected = model.Forward(Tensor.Zeros([2, 1, 28, 28]));
            double err = Ort.ScaledError(Tensor.FromArray(logits, 2, 10), expected);
            Assert.True(err <= 1e-5, $"the snippet's logits differ from Nabla's by {err:G3} of their scale");
        }
        finally
        {
            File.Delete("lenet.onnx");
        }
    }
}
