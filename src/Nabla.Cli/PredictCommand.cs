using System.CommandLine;
using System.Globalization;
using Nabla.NN;

namespace Nabla.Cli;

/// <summary>`nabla predict DIR IMAGE...`: class probabilities for digit images, one image in detail or many as rows.</summary>
internal static class PredictCommand
{
    /// <summary>The files a folder given to predict contributes (compared ignoring case).</summary>
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga"];

    private const string Description = """
        class probabilities for digit images

        Classifies images with a run's model. The image (PNG, JPEG, BMP, GIF or TGA, up to 24 megapixels; a JPEG's EXIF orientation is applied; transparency counts as white) is converted to gray and prepared as MNIST's digits were: inverted when its background is light (MNIST digits are white on black), the ink's bounding box scaled to fit a 20x20 box keeping its aspect ratio (area averaging), and placed in the 28x28 field with its centre of mass at the centre.
        One image: the probability of each class, a blank image warned about on stderr. Several images, or a folder (its .png, .jpg, .jpeg, .bmp, .gif and .tga files, sorted by name): one row each with the predicted class, its probability and any warning; an image that cannot be read gets its error on its row, the others are still classified, and the exit code is 1.
        --json: one JSON object on stdout (docs/cli.md), whatever the number of images.
        """;

    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public static Command Create(SharedOptions shared)
    {
        var dir = new Argument<string>("DIR") { Description = "the run folder (runs/NAME)" };
        var images = new Argument<string[]>("IMAGE") { Description = "image files, or folders of images", Arity = ArgumentArity.OneOrMore };
        var command = new Command("predict", Description) { dir, images, shared.Best, shared.Json };
        command.SetAction(r => Run(r.GetValue(dir)!, r.GetValue(images)!, r.GetValue(shared.Best), r.GetValue(shared.Json),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    /// <summary>
    /// The images to classify: each file as given, each folder's image files sorted by name. A folder's other files
    /// are left out, and said so on <paramref name="notes"/> (one line per folder, naming them).
    /// </summary>
    internal static List<string> Expand(IEnumerable<string> paths, TextWriter notes)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (!Directory.Exists(path))
            {
                files.Add(path);
                continue;
            }
            var all = Directory.EnumerateFiles(path).Order(StringComparer.Ordinal).ToList();
            var found = all.Where(IsImageName).ToList();
            if (found.Count == 0)
                throw new CliException($"nabla predict: folder '{path}' holds no images ({string.Join(", ", ImageExtensions)}).");
            var other = all.Where(f => !IsImageName(f)).Select(Path.GetFileName).ToList();
            if (other.Count > 0)
            {
                string names = string.Join(", ", other.Take(5)) + (other.Count > 5 ? $" and {other.Count - 5} more" : "");
                notes.WriteLine($"note: nabla predict: left out {other.Count} file{(other.Count == 1 ? "" : "s")} of '{path}' without an image extension ({names}).");
            }
            files.AddRange(found);
        }
        return files;
    }

    private static bool IsImageName(string file) => ImageExtensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase);

    private static int Run(string dir, string[] paths, bool best, bool json, TextWriter stdout, TextWriter stderr)
    {
        var run = RunFolder.Open("predict", dir);
        var files = Expand(paths, stderr);
        bool detailed = files.Count == 1 && !Directory.Exists(paths[0]) && !json;
        if (detailed && !File.Exists(files[0])) throw new CliException($"nabla predict: image '{files[0]}' does not exist.");
        var (config, model, raw) = RunModel.LoadModel("predict", run, best);
        var (rows, cols) = RunModel.ImageSize(raw, run.ConfigFile);
        var classifier = new Classifier(config, model, rows, cols);
        if (detailed) return Detailed(files[0], classifier, stdout, stderr);

        var answers = files.Select(classifier.TryClassify).ToList();
        if (json) CliJson.Write(stdout, new PredictJson(run.Path, best ? "best.safetensors" : "model.safetensors", answers), CliJsonContext.Default.PredictJson);
        else Table(answers, stdout);
        int failed = answers.Count(a => a.Error is not null);
        if (failed == 0) return 0;
        stderr.WriteLine($"error: nabla predict: {failed} of {answers.Count} images could not be classified{(json ? "" : " (see their rows)")}.");
        return 1;
    }

    // one image: how it was prepared, each class's probability as a bar, the prediction
    private static int Detailed(string image, Classifier classifier, TextWriter stdout, TextWriter stderr)
    {
        var (digit, w, h, p) = classifier.Classify(image);
        if (digit.Blank) stderr.WriteLine($"warning: '{image}' {BlankWarning}.");
        int top = Array.IndexOf(p, p.Max());
        string how = digit.Blank ? "blank" : $"digit {digit.Box.W}x{digit.Box.H} → {digit.Scaled.W}x{digit.Scaled.H}, centred by its centre of mass in {classifier.Cols}x{classifier.Rows}";
        stdout.WriteLine($"image: {image} ({w}x{h}{(digit.Inverted ? ", inverted: light background" : "")}; {how})");
        for (int k = 0; k < p.Length; k++)
            stdout.WriteLine(string.Create(s_inv, $"  {k}  {100 * p[k],6:F2}%  {new string('#', (int)Math.Round(p[k] * 40))}"));
        stdout.WriteLine(string.Create(s_inv, $"prediction: {top} ({100 * p[top]:F2}%)"));
        return 0;
    }

    private static readonly string BlankWarning = string.Create(s_inv, $"is blank (no ink: its pixels differ by less than {DigitImage.MinContrast:P0}); the prediction means nothing");

    // many images: one row each, in the order read
    private static void Table(List<PredictedImage> answers, TextWriter stdout)
    {
        int width = Math.Max("image".Length, answers.Max(a => a.File.Length));
        stdout.WriteLine($"{"image".PadRight(width)}  class  probability  note");
        foreach (var a in answers)
        {
            string cls = a.Prediction?.ToString(s_inv) ?? "-", prob = a.Probability is double q ? string.Create(s_inv, $"{100 * q:F2}%") : "-";
            string note = a.Error is not null ? $"error: {a.Error}" : a.Warning is not null ? $"warning: {a.Warning}" : "";
            stdout.WriteLine($"{a.File.PadRight(width)}  {cls,5}  {prob,11}  {note}".TrimEnd());
        }
    }

    /// <summary>A run's model with what it needs to classify an image file: its input size and input preparation.</summary>
    private sealed class Classifier(TrainConfig config, Module model, int rows, int cols)
    {
        public int Rows => rows;

        public int Cols => cols;

        /// <summary>Reads and prepares the image, runs the model: the prepared digit, the image's size and each class's probability.</summary>
        public (DigitImage.Result Digit, int Width, int Height, float[] Probabilities) Classify(string image)
        {
            var (gray, h, w) = ImageFile.ReadGray(image);
            var digit = DigitImage.Prepare(gray, h, w, rows, cols);
            var x = digit.Pixels;
            config.NormalizeInPlace(x);
            Tensor probs;
            using (Tensor.NoGrad()) probs = model.Forward(Tensor.FromArray(x, [1, .. config.SampleShape(rows * cols)])).Softmax(1);
            return (digit, w, h, probs.ToArray());
        }

        /// <summary><see cref="Classify"/> as a row: a file that is missing or cannot be decoded gets its error instead.</summary>
        public PredictedImage TryClassify(string image)
        {
            if (!File.Exists(image)) return Failed(image, $"'{image}' does not exist");
            try
            {
                var (digit, w, h, p) = Classify(image);
                int top = Array.IndexOf(p, p.Max());
                return new PredictedImage(image, w, h, top, p[top], [.. p.Select(v => (double)v)], digit.Inverted, digit.Blank ? BlankWarning : null, null);
            }
            catch (Exception e) when (e is CliException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                return Failed(image, e.Message);
            }
        }

        private static PredictedImage Failed(string image, string error) => new(image, null, null, null, null, null, null, null, error);
    }
}
