using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using StbImageWriteSharp;

namespace Nabla.Tests.Cli;

/// <summary>
/// `nabla predict DIR IMAGE...|FOLDER`: one row per image, a bad file reported on its row while the others are
/// classified; and `--json` on predict, eval and summary: one JSON object on stdout and nothing else.
/// </summary>
public sealed class PredictManyTests(TinyRun run) : IClassFixture<TinyRun>
{
    /// <summary>The first bundled test digits, drawn dark on light as a person would, as gray 28x28 pixels.</summary>
    private static byte[] Digit(int index)
    {
        var test = Nabla.Data.Mnist.LoadFolder(Nabla.Data.Mnist.FindBundledData(), train: false);
        return test.Images.Skip(784 * index).Take(784).Select(v => (byte)(255 - Math.Round(v * 255))).ToArray();
    }

    private static void WriteJpg(string path, byte[] gray)
    {
        using var s = File.Create(path);
        new ImageWriter().WriteJpg(gray, 28, 28, ColorComponents.Grey, s, 95);
    }

    /// <summary>A folder with two PNG digits, a JPEG digit, a blank PNG, a broken "PNG" and a text file (not an image).</summary>
    private string Folder(string name)
    {
        string dir = Directory.CreateDirectory(Path.Combine(run.Root, name)).FullName;
        File.WriteAllBytes(Path.Combine(dir, "b-digit0.png"), Nabla.Cli.PngTestHook.EncodeGray(Digit(0), 28, 28));
        File.WriteAllBytes(Path.Combine(dir, "a-digit1.png"), Nabla.Cli.PngTestHook.EncodeGray(Digit(1), 28, 28));
        WriteJpg(Path.Combine(dir, "c-digit2.JPG"), Digit(2));
        File.WriteAllBytes(Path.Combine(dir, "d-blank.png"), Nabla.Cli.PngTestHook.EncodeGray(Enumerable.Repeat((byte)250, 28 * 28).ToArray(), 28, 28));
        File.WriteAllText(Path.Combine(dir, "e-broken.png"), "not an image");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "ignored: not an image extension");
        return dir;
    }

    /// <summary>The class the one-image view predicts for <paramref name="image"/>.</summary>
    private string SinglePrediction(string image)
    {
        var (code, output, err) = TinyRun.Run("predict", run.RunDir, image);
        Assert.True(code == 0, err);
        return Regex.Match(output, @"^prediction: (\d) \(([0-9.]+)%\)", RegexOptions.Multiline).Groups[1].Value;
    }

    [Fact]
    public void AFolderGivesOneRowPerImageAndTheBadFileItsError()
    {
        string dir = Folder("folder");
        var (code, output, err) = TinyRun.Run("predict", run.RunDir, dir);
        Assert.Equal(1, code); // one image failed
        Assert.Equal($"note: nabla predict: left out 1 file of '{dir}' without an image extension (notes.txt).\n"
            + "error: nabla predict: 1 of 5 images could not be classified (see their rows).\n", err);
        var lines = output.TrimEnd().Split('\n');
        Assert.Matches(@"^image +class  probability  note$", lines[0]);
        string[] names = ["a-digit1.png", "b-digit0.png", "c-digit2.JPG", "d-blank.png", "e-broken.png"]; // sorted; notes.txt left out
        Assert.Equal(names.Length + 1, lines.Length);
        for (int i = 0; i < names.Length; i++) Assert.StartsWith(Path.Combine(dir, names[i]) + " ", lines[i + 1]);
        foreach (int i in new[] { 0, 1, 2 })
        {
            // each row's class is what the one-image view predicts for that file
            var m = Regex.Match(lines[i + 1], @" +(\d)  +([0-9.]+)%$");
            Assert.True(m.Success, lines[i + 1]);
            Assert.Equal(SinglePrediction(Path.Combine(dir, names[i])), m.Groups[1].Value);
        }
        Assert.Contains("warning: is blank (no ink", lines[4]);
        Assert.Matches(@"  -            -  error: '.*e-broken\.png' is not a readable PNG, JPEG, BMP, GIF or TGA image", lines[5]);
    }

    [Fact]
    public void SeveralFilesAreRowsInTheOrderGiven()
    {
        string dir = Folder("files");
        string missing = Path.Combine(dir, "missing.png");
        string[] files = [Path.Combine(dir, "c-digit2.JPG"), missing, Path.Combine(dir, "a-digit1.png")];
        var (code, output, err) = TinyRun.Run(["predict", run.RunDir, .. files]);
        Assert.Equal(1, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        for (int i = 0; i < files.Length; i++) Assert.StartsWith(files[i] + " ", lines[i + 1]);
        Assert.EndsWith($"error: '{missing}' does not exist", lines[2]);

        // all readable: exit code 0, nothing on stderr
        (code, _, err) = TinyRun.Run("predict", run.RunDir, files[0], files[2]);
        Assert.True(code == 0, err);
        Assert.Equal("", err);
    }

    [Fact]
    public void AFolderWithoutImagesIsAUsageError()
    {
        string dir = Directory.CreateDirectory(Path.Combine(run.Root, "empty")).FullName;
        File.WriteAllText(Path.Combine(dir, "readme.txt"), "no images here");
        var (code, output, err) = TinyRun.Run("predict", run.RunDir, dir);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal($"error: nabla predict: folder '{dir}' holds no images (.png, .jpg, .jpeg, .bmp, .gif, .tga).\n", err);
    }

    [Fact]
    public void PredictJsonHasOneEntryPerImage()
    {
        string dir = Folder("json");
        var (code, output, err) = CliProcess.Run("predict", run.RunDir, dir, "--json");
        Assert.Equal(1, code);
        Assert.Equal($"note: nabla predict: left out 1 file of '{dir}' without an image extension (notes.txt).\n"
            + "error: nabla predict: 1 of 5 images could not be classified.\n", err);
        using var doc = JsonDocument.Parse(output); // the whole of stdout is the object
        var root = doc.RootElement;
        Assert.Equal(run.RunDir, root.GetProperty("run").GetString());
        Assert.Equal("model.safetensors", root.GetProperty("weights").GetString());
        var images = root.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(5, images.Count);
        foreach (var image in images.Take(4))
        {
            Assert.Equal(JsonValueKind.Null, image.GetProperty("error").ValueKind);
            var p = image.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(10, p.Length);
            Assert.InRange(p.Sum(), 0.999, 1.001);
            int prediction = image.GetProperty("prediction").GetInt32();
            Assert.Equal(p.Max(), p[prediction]);
            Assert.Equal(p[prediction], image.GetProperty("probability").GetDouble());
            Assert.Equal(28, image.GetProperty("width").GetInt32());
            Assert.True(image.GetProperty("inverted").GetBoolean());
        }
        Assert.Equal(SinglePrediction(Path.Combine(dir, "a-digit1.png")), images[0].GetProperty("prediction").GetInt32().ToString(CultureInfo.InvariantCulture));
        Assert.StartsWith("is blank", images[3].GetProperty("warning").GetString());
        var broken = images[4];
        Assert.EndsWith("e-broken.png", broken.GetProperty("file").GetString());
        Assert.Contains("is not a readable PNG", broken.GetProperty("error").GetString());
        foreach (var key in new[] { "prediction", "probability", "probabilities", "width", "height", "inverted", "warning" })
            Assert.Equal(JsonValueKind.Null, broken.GetProperty(key).ValueKind);

        // one image with --json: the same shape, not the one-image view
        (code, output, err) = TinyRun.Run("predict", run.RunDir, Path.Combine(dir, "a-digit1.png"), "--json");
        Assert.True(code == 0, err);
        using var one = JsonDocument.Parse(output);
        Assert.Single(one.RootElement.GetProperty("images").EnumerateArray());
    }

    [Fact]
    public void EvalJsonMatchesTheTextReport()
    {
        var (code, text, err) = TinyRun.Run("eval", run.RunDir);
        Assert.True(code == 0, err);
        (code, var output, err) = CliProcess.Run("eval", run.RunDir, "--json");
        Assert.True(code == 0, err);
        Assert.Equal("", err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(["run", "weights", "model", "data", "test_images", "test_loss", "test_accuracy", "correct"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("mlp", root.GetProperty("model").GetString());
        Assert.Equal(100, root.GetProperty("test_images").GetInt32());
        double accuracy = root.GetProperty("test_accuracy").GetDouble(), loss = root.GetProperty("test_loss").GetDouble();
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {100 * accuracy:F2}% ({root.GetProperty("correct").GetInt32()}/100)"), text);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"test loss: {loss:F4}"), text);
    }

    [Fact]
    public void SummaryJsonListsLayersAndParameterCounts()
    {
        var (code, output, err) = TinyRun.Run("summary", "--hidden", "32", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal("mlp", root.GetProperty("model").GetString());
        Assert.Equal([784], root.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt32()));
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(["Linear", "ReLU", "Linear"], layers.Select(l => l.GetProperty("type").GetString()));
        Assert.Equal([32], layers[1].GetProperty("output_shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(25_120, layers[0].GetProperty("params").GetInt64()); // 784·32 + 32
        Assert.Equal(25_450, root.GetProperty("total_params").GetInt64()); // + 32·10 + 10
        Assert.Equal(25_450, root.GetProperty("trainable_params").GetInt64());
        Assert.Equal(0, root.GetProperty("non_trainable_params").GetInt64());
    }
}
