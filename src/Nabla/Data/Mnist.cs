namespace Nabla.Data;

/// <summary>One split of MNIST (or of the bundled sample) loaded into plain arrays.</summary>
/// <param name="Images">The pixels, <paramref name="Count"/> x <paramref name="Rows"/> x <paramref name="Cols"/> in row-major order, scaled to [0, 1].</param>
/// <param name="Labels">The class of each image, 0 to 9.</param>
/// <param name="Count">The number of images (and labels).</param>
/// <param name="Rows">The image height (28 for MNIST).</param>
/// <param name="Cols">The image width (28 for MNIST).</param>
/// <param name="ImagesPath">The file the images came from.</param>
/// <param name="LabelsPath">The file the labels came from.</param>
public sealed record MnistSplit(float[] Images, int[] Labels, int Count, int Rows, int Cols, string ImagesPath, string LabelsPath);

/// <summary>
/// Loads MNIST-style data: IDX image files (unsigned bytes, n x rows x cols) and IDX label files (unsigned bytes,
/// n, each 0 to 9), gzipped or raw, and the 10,000-digit sample embedded in this library (<see cref="LoadSample"/>).
/// </summary>
public static class Mnist
{
    /// <summary>The repository-relative folder of the bundled 10,000-digit sample.</summary>
    public const string BundledDataFolder = "data/mnist-sample";

    /// <summary>The name under which the embedded sample is reported: the <see cref="MnistSplit.ImagesPath"/> and
    /// <see cref="MnistSplit.LabelsPath"/> of <see cref="LoadSample"/>'s splits start with it.</summary>
    public const string SampleName = "bundled:mnist-sample";

    private static readonly string[] Suffixes = ["", ".gz"];

    // b / 255f, correctly rounded (multiplying by 1f / 255f is not: 51 * (1f / 255f) != 0.2f).
    private static readonly float[] ByteToUnit = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();

    /// <summary>Loads an IDX image file (type 0x08, rank 3) and scales its pixels to [0, 1].</summary>
    /// <param name="path">The file, gzipped or raw.</param>
    /// <returns>The pixels (n x rows x cols, row-major, each byte / 255), the image count, the height and the width.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an unsigned-byte IDX file of rank 3, or is malformed.</exception>
    public static (float[] pixels, int n, int rows, int cols) LoadImages(string path) => ToImages(Idx.Read(path), path);

    private static (float[] pixels, int n, int rows, int cols) ToImages(IdxArray array, string path)
    {
        if (array.Type != IdxDataType.UnsignedByte || array.Rank != 3)
        {
            throw new InvalidDataException($"IDX file '{path}': expected images (unsigned bytes, rank 3: count x rows x cols, magic 0x00000803), "
                + $"found {array.Type} of rank {array.Rank} with shape [{string.Join(" x ", array.Shape)}].");
        }

        byte[] data = array.Data;
        var pixels = new float[data.Length];
        float[] scaled = ByteToUnit;
        for (int i = 0; i < data.Length; i++)
        {
            pixels[i] = scaled[data[i]];
        }

        return (pixels, array.Shape[0], array.Shape[1], array.Shape[2]);
    }

    /// <summary>Loads an IDX label file (type 0x08, rank 1) whose labels must all be 0 to 9.</summary>
    /// <param name="path">The file, gzipped or raw.</param>
    /// <returns>The labels.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an unsigned-byte IDX file of rank 1, holds a label
    /// above 9, or is malformed.</exception>
    public static int[] LoadLabels(string path) => ToLabels(Idx.Read(path), path);

    private static int[] ToLabels(IdxArray array, string path)
    {
        if (array.Type != IdxDataType.UnsignedByte || array.Rank != 1)
        {
            throw new InvalidDataException($"IDX file '{path}': expected labels (unsigned bytes, rank 1, magic 0x00000801), "
                + $"found {array.Type} of rank {array.Rank} with shape [{string.Join(" x ", array.Shape)}].");
        }

        byte[] data = array.Data;
        var labels = new int[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] > 9)
            {
                throw new InvalidDataException($"IDX file '{path}': label {i} is {data[i]}, expected 0 to 9.");
            }

            labels[i] = data[i];
        }

        return labels;
    }

    /// <summary>
    /// Loads the training or test split from a folder holding the standard MNIST file names
    /// (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each
    /// either raw or with a ".gz" suffix (the raw file wins when both exist). The variant names with a dot
    /// ("train-images.idx3-ubyte") are accepted too.
    /// </summary>
    /// <param name="dir">The folder, for example the result of <see cref="FindBundledData"/> or a folder of full MNIST.</param>
    /// <param name="train">True for the training files ("train-"), false for the test files ("t10k-").</param>
    /// <returns>The images, scaled to [0, 1], and their labels.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The image or label file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, a label is not 0 to 9, or the image and label
    /// counts differ.</exception>
    public static MnistSplit LoadFolder(string dir, bool train)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"MNIST folder not found: '{dir}'.");
        }

        string prefix = train ? "train" : "t10k";
        string imagesPath = FindFile(dir, prefix, "images", "idx3-ubyte");
        string labelsPath = FindFile(dir, prefix, "labels", "idx1-ubyte");
        var (pixels, n, rows, cols) = LoadImages(imagesPath);
        int[] labels = LoadLabels(labelsPath);
        if (labels.Length != n)
        {
            throw new InvalidDataException($"MNIST files disagree: '{imagesPath}' holds {n} images but '{labelsPath}' holds {labels.Length} labels.");
        }

        return new MnistSplit(pixels, labels, n, rows, cols, imagesPath, labelsPath);
    }

    /// <summary>
    /// Loads a split of the 10,000-digit MNIST sample embedded in this library: the files of the repository's
    /// data/mnist-sample (see its README and LICENSE), so it works from any folder, with no files beside the program.
    /// </summary>
    /// <param name="train">True for the 8,000 training digits, false for the 2,000 test digits.</param>
    /// <returns>The images, scaled to [0, 1], and their labels; the paths are <see cref="SampleName"/>/file name.</returns>
    public static MnistSplit LoadSample(bool train)
    {
        string prefix = train ? "train" : "t10k";
        string imagesName = $"{prefix}-images-idx3-ubyte.gz", labelsName = $"{prefix}-labels-idx1-ubyte.gz";
        string imagesPath = $"{SampleName}/{imagesName}", labelsPath = $"{SampleName}/{labelsName}";
        var (pixels, n, rows, cols) = ToImages(ReadEmbedded(imagesName), imagesPath);
        int[] labels = ToLabels(ReadEmbedded(labelsName), labelsPath);
        return new MnistSplit(pixels, labels, n, rows, cols, imagesPath, labelsPath);
    }

    private static IdxArray ReadEmbedded(string fileName)
    {
        // Nabla.csproj embeds data/mnist-sample/*.gz under these names
        using Stream stream = typeof(Mnist).Assembly.GetManifestResourceStream("Nabla.Data.mnist-sample." + fileName)
            ?? throw new InvalidOperationException($"The embedded MNIST sample file '{fileName}' is missing from {typeof(Mnist).Assembly.GetName().Name}.");
        return Idx.Read(stream);
    }

    /// <summary>
    /// Finds the repository's bundled sample (data/mnist-sample) by walking up from the application's folder
    /// (<see cref="AppContext.BaseDirectory"/>) and then from the current directory: for code that needs the files
    /// themselves; <see cref="LoadSample"/> loads the same data from any folder.
    /// </summary>
    /// <returns>The full path of the data/mnist-sample folder.</returns>
    /// <exception cref="DirectoryNotFoundException">No parent folder of either start holds data/mnist-sample.</exception>
    public static string FindBundledData()
    {
        string[] starts = [AppContext.BaseDirectory, Directory.GetCurrentDirectory()];
        foreach (string start in starts)
        {
            string? found = FindBundledDataFrom(start);
            if (found is not null)
            {
                return found;
            }
        }

        throw new DirectoryNotFoundException(
            $"Could not find the bundled MNIST sample ('{BundledDataFolder}' with train-images-idx3-ubyte.gz) in any parent folder of "
            + $"'{starts[0]}' or '{starts[1]}'; pass the data folder explicitly.");
    }

    /// <summary>Walks up from a folder looking for data/mnist-sample holding the training images.</summary>
    /// <param name="startDirectory">The folder to start from (it is checked first, then each parent).</param>
    /// <returns>The full path of the first data/mnist-sample folder found, or null when there is none.</returns>
    public static string? FindBundledDataFrom(string startDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(startDirectory);
        for (DirectoryInfo? d = new(Path.GetFullPath(startDirectory)); d is not null; d = d.Parent)
        {
            string candidate = Path.Combine(d.FullName, "data", "mnist-sample");
            if (File.Exists(Path.Combine(candidate, "train-images-idx3-ubyte.gz")) || File.Exists(Path.Combine(candidate, "train-images-idx3-ubyte")))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string FindFile(string dir, string prefix, string kind, string format)
    {
        string[] stems = [$"{prefix}-{kind}-{format}", $"{prefix}-{kind}.{format}"];
        foreach (string stem in stems)
        {
            foreach (string suffix in Suffixes)
            {
                string path = Path.Combine(dir, stem + suffix);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        string expected = Path.Combine(dir, stems[0]);
        throw new FileNotFoundException($"MNIST {kind} file not found: expected '{expected}' or '{expected}.gz'.", expected);
    }
}
