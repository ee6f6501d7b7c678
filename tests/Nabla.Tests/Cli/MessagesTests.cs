using Nabla.IO;

namespace Nabla.Tests.Cli;

/// <summary>Bad option values and unusable inputs: one `error:` line naming the option or file and what is allowed, checked before any work.</summary>
public sealed class MessagesTests(TinyRun run) : IClassFixture<TinyRun>
{
    private static void AssertOneError((int Code, string Out, string Err) r, int code, string expected)
    {
        Assert.True(r.Code == code, $"exit {r.Code}: {r.Err}{r.Out}");
        Assert.Contains(expected, r.Err);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.TrimEnd().Split('\n'));
    }

    private (int Code, string Out, string Err) Train(params string[] args) =>
        TinyRun.Run(["train", "--runs-dir", run.Root, "--run", Guid.NewGuid().ToString("N"), "--epochs", "1", "--hidden", "8", .. args]);

    [Theory]
    [InlineData("--scale=1", "--scale must be in [0, 1)")]
    [InlineData("--scale=2.5", "got 2.5")]
    [InlineData("--shear=90", "--shear must be in [0, 90) degrees, got 90")]
    public void AugmentationOutOfRangeIsAUsageError(string option, string expected)
    {
        var r = Train("--data", run.Data, option);
        AssertOneError(r, 2, expected);
        Assert.Equal("", r.Out); // refused before the data was read
    }

    [Fact]
    public void ShiftAsLargeAsTheImageIsAUsageError()
    {
        var r = Train("--data", run.Data, "--shift", "28");
        AssertOneError(r, 2, "--shift must be smaller than the images (28x28: at most 27), got 28");
        Assert.Equal("", r.Out); // no model was built, no run folder written
    }

    [Theory]
    [InlineData(784, 1, "mlp", "--shift must be smaller than the images (784x1: at most 0), got 2")]
    [InlineData(1, 1, "mlp", "--shift must be smaller than the images (1x1: at most 0), got 2")]
    [InlineData(784, 1, "cnn", "model 'cnn' takes 28x28 images but the images in")]
    [InlineData(1, 784, "lstm", "model 'lstm' takes 28x28 images but the images in")]
    public void ImagesTheModelCannotTakeAreNamed(int rows, int cols, string model, string expected)
    {
        string dir = Path.Combine(run.Root, $"data-{rows}x{cols}");
        TinyRun.WriteSubset(dir, train: 8, test: 8, rows, cols);
        var r = TinyRun.Run("train", "--runs-dir", run.Root, "--run", Guid.NewGuid().ToString("N"), "--epochs", "1", "--model", model, "--data", dir);
        AssertOneError(r, 2, expected);
        if (model != "mlp") Assert.Contains($"are {rows}x{cols}.", r.Err);
    }

    [Fact]
    public void EvalOnImagesOfAnotherSizeNamesBothSizes()
    {
        string dir = Path.Combine(run.Root, "data-14x56");
        TinyRun.WriteSubset(dir, train: 8, test: 8, 14, 56);
        AssertOneError(TinyRun.Run("eval", run.RunDir, "--data", dir), 2, "takes 28x28 images but the test images in");
        AssertOneError(TinyRun.Run("eval", run.RunDir, "--data", dir), 2, "are 14x56.");
    }

    [Fact]
    public void NonFiniteWeightsAreRefusedByEvalAndPredict()
    {
        string copy = Path.Combine(run.Root, "nan-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(run.RunDir)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        string model = Path.Combine(copy, "model.safetensors");
        var tensors = SafeTensors.Load(model).Tensors;
        var bias = tensors["2.bias"].ToArray();
        bias[3] = float.NaN;
        tensors["2.bias"] = Tensor.FromArray(bias, bias.Length);
        SafeTensors.Save(model, tensors);

        AssertOneError(TinyRun.Run("eval", copy), 1, "tensor '2.bias' holds NaN at index 3");
        string png = Path.Combine(copy, "digit.png");
        File.WriteAllBytes(png, Nabla.Cli.PngTestHook.EncodeGray(new byte[28 * 28], 28, 28));
        AssertOneError(TinyRun.Run("predict", copy, png), 1, "tensor '2.bias' holds NaN");
        Assert.Equal(0, TinyRun.Run("eval", run.RunDir).Code);
    }

    [Fact]
    public void CharLmRefusesAnEmptyPromptBeforeTraining()
    {
        string text = Path.Combine(run.Root, "text.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog. ", 40)));
        var r = TinyRun.Run("charlm", "--text", text, "--steps", "2", "--seq-len", "8", "--prompt", "");
        AssertOneError(r, 2, "--prompt must not be empty");
        Assert.Equal("", r.Out); // nothing was trained
    }

    [Theory]
    [InlineData("rows", "x28")]
    [InlineData("cols", "-3")]
    [InlineData("classes", "99999999999")]
    public void ADamagedImageSizeInRunJsonIsOneLine(string key, string value)
    {
        string copy = Path.Combine(run.Root, "damaged-" + key);
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(run.RunDir)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        string json = Path.Combine(copy, "run.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!.AsObject();
        Assert.Equal(key == "classes" ? "10" : "28", (string?)config[key]); // the field exists: this replaces it
        config[key] = value;
        File.WriteAllText(json, config.ToJsonString());
        AssertOneError(TinyRun.Run("eval", copy), 1, $"'{key}' must be an integer in 1..65536, got '{value}'");
    }
}
