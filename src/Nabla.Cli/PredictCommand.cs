using System.CommandLine;
using System.Globalization;

namespace Nabla.Cli;

/// <summary>`nabla predict DIR IMAGE`: class probabilities for a digit image.</summary>
internal static class PredictCommand
{
    private const string Description = """
        class probabilities for a digit image

        Classifies one image with a run's model and prints the probability of each class. The image (PNG, JPEG, BMP, GIF or TGA, up to 24 megapixels; a JPEG's EXIF orientation is applied; transparency counts as white) is converted to gray and prepared as MNIST's digits were: inverted when its background is light (MNIST digits are white on black), the ink's bounding box scaled to fit a 20x20 box keeping its aspect ratio (area averaging), and placed in the 28x28 field with its centre of mass at the centre. A blank image gets a warning.
        """;

    public static Command Create(SharedOptions shared)
    {
        var dir = new Argument<string>("DIR") { Description = "the run folder (runs/NAME)" };
        var image = new Argument<string>("IMAGE") { Description = "the image file" };
        var command = new Command("predict", Description) { dir, image, shared.Best };
        command.SetAction(r => Run(r.GetValue(dir)!, r.GetValue(image)!, r.GetValue(shared.Best), r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string dir, string image, bool best, TextWriter stdout, TextWriter stderr)
    {
        var inv = CultureInfo.InvariantCulture;
        var run = RunFolder.Open("predict", dir);
        if (!File.Exists(image)) throw new CliException($"nabla predict: image '{image}' does not exist.");
        var (gray, h, w) = ImageFile.ReadGray(image);
        var (config, model, raw) = RunModel.LoadModel("predict", run, best);
        var (rows, cols) = RunModel.ImageSize(raw, run.ConfigFile);
        var digit = DigitImage.Prepare(gray, h, w, rows, cols);
        if (digit.Blank) stderr.WriteLine(string.Create(inv, $"warning: '{image}' is blank (no ink: its pixels differ by less than {DigitImage.MinContrast:P0}); the prediction means nothing."));
        var x = digit.Pixels;
        var shape = config.SampleShape(rows * cols);
        config.NormalizeInPlace(x);
        Tensor probs;
        using (Tensor.NoGrad()) probs = model.Forward(Tensor.FromArray(x, [1, .. shape])).Softmax(1);
        var p = probs.ToArray();
        int top = Array.IndexOf(p, p.Max());
        string how = digit.Blank ? "blank" : $"digit {digit.Box.W}x{digit.Box.H} → {digit.Scaled.W}x{digit.Scaled.H}, centred by its centre of mass in {cols}x{rows}";
        stdout.WriteLine($"image: {image} ({w}x{h}{(digit.Inverted ? ", inverted: light background" : "")}; {how})");
        for (int k = 0; k < p.Length; k++)
            stdout.WriteLine(string.Create(inv, $"  {k}  {100 * p[k],6:F2}%  {new string('#', (int)Math.Round(p[k] * 40))}"));
        stdout.WriteLine(string.Create(inv, $"prediction: {top} ({100 * p[top]:F2}%)"));
        return 0;
    }
}
