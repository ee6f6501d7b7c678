namespace Nabla.IO.TensorBoard;

/// <summary>
/// Writes a TensorBoard event file (<c>events.out.tfevents.SECONDS.HOST</c>) in <see cref="LogDir"/>: scalars,
/// histograms and images, as PyTorch's <c>torch.utils.tensorboard.SummaryWriter</c> does, so that
/// <c>tensorboard --logdir DIR</c> shows them. Each event is one TFRecord (<see cref="TfRecord"/>) handed to the
/// operating system as it is added (no buffer in the process), so a crash leaves every event added before it
/// readable; <see cref="Flush"/> also forces the file to disk. A new writer in the same folder starts a new file,
/// which TensorBoard reads alongside the others (a resumed run continues its steps there). Thread-safe.
/// </summary>
public sealed class SummaryWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly Func<double> _clock;
    private readonly Lock _lock = new();

    /// <summary>Creates <paramref name="logDir"/> if needed and a new event file in it.</summary>
    /// <param name="logDir">The folder (TensorBoard's run).</param>
    /// <param name="clock">The wall time of events, in seconds since 1970 (default: now); tests fix it.</param>
    /// <exception cref="IOException">The folder or file cannot be created.</exception>
    public SummaryWriter(string logDir, Func<double>? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(logDir);
        _clock = clock ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        LogDir = Directory.CreateDirectory(logDir).FullName;
        double now = _clock();
        string stem = Path.Combine(LogDir, $"events.out.tfevents.{(long)now:D10}.{Environment.MachineName}");
        for (int n = 0; ; n++)
        {
            string path = n == 0 ? stem : $"{stem}.{n}";
            try
            {
                // bufferSize 0: every record goes straight to the OS
                _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0);
                FilePath = path;
                break;
            }
            catch (IOException) when (File.Exists(path) && n < 1000) { }
        }
        Write(EventProto.FileVersion(now));
    }

    /// <summary>The folder the event file is in (full path).</summary>
    public string LogDir { get; }

    /// <summary>The event file (full path).</summary>
    public string FilePath { get; }

    /// <summary>Adds a scalar (TensorBoard's Scalars tab; stored as float32, as TensorFlow does).</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty.</exception>
    public void AddScalar(string tag, double value, long step)
    {
        CheckTag(tag);
        Write(EventProto.Summary(_clock(), step, EventProto.Scalar(tag, (float)value)));
    }

    /// <summary>
    /// Adds a histogram of <paramref name="values"/> (Histograms and Distributions tabs): <paramref name="bins"/>
    /// equal-width buckets from the smallest value to the largest, each counting the values in (its left edge, its
    /// limit], the first one its left edge too.
    /// </summary>
    /// <exception cref="ArgumentException">No values, a NaN or infinite value, fewer than 1 bin, or an empty tag.</exception>
    public void AddHistogram(string tag, ReadOnlySpan<float> values, long step, int bins = 30)
    {
        CheckTag(tag);
        if (values.Length == 0) throw new ArgumentException($"SummaryWriter.AddHistogram('{tag}'): no values.", nameof(values));
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), $"SummaryWriter.AddHistogram('{tag}'): bins must be at least 1, got {bins}.");
        double min = double.PositiveInfinity, max = double.NegativeInfinity, sum = 0, sumSquares = 0;
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (!double.IsFinite(v)) throw new ArgumentException($"SummaryWriter.AddHistogram('{tag}'): value {i} is {v}; a histogram needs finite values.", nameof(values));
            (min, max, sum, sumSquares) = (Math.Min(min, v), Math.Max(max, v), sum + v, sumSquares + v * v);
        }
        if (min == max) bins = 1;
        var limits = new double[bins];
        var counts = new double[bins];
        double width = (max - min) / bins;
        for (int b = 0; b < bins; b++) limits[b] = b == bins - 1 ? max : min + (b + 1) * width;
        foreach (float v in values)
        {
            int b = width > 0 ? (int)Math.Ceiling((v - min) / width) - 1 : 0;
            b = Math.Clamp(b, 0, bins - 1);
            if (b + 1 < bins && v > limits[b]) b++; // rounding at an edge: a value belongs at or below its bucket's limit
            counts[b]++;
        }
        Write(EventProto.Summary(_clock(), step, EventProto.Histogram(tag, min, max, values.Length, sum, sumSquares, limits, counts)));
    }

    /// <summary>Adds a histogram of a tensor's elements (see the span overload). Shape: any.</summary>
    public void AddHistogram(string tag, Tensor values, long step, int bins = 30)
    {
        ArgumentNullException.ThrowIfNull(values);
        AddHistogram(tag, values.ToArray(), step, bins);
    }

    /// <summary>
    /// Adds an image (Images tab), PNG-encoded, from values in [0, 1] (clamped), as PyTorch's <c>add_image</c> with
    /// its default <c>dataformats='CHW'</c>. Shape: (C, H, W) with C = 1 (grey) or 3 (RGB).
    /// </summary>
    /// <exception cref="ArgumentException">The shape is not (1 or 3, H, W), or the tag is empty.</exception>
    public void AddImage(string tag, Tensor image, long step)
    {
        CheckTag(tag);
        ArgumentNullException.ThrowIfNull(image);
        if (image.Rank != 3 || image.Size(0) is not (1 or 3) || image.Size(1) < 1 || image.Size(2) < 1)
            throw new ArgumentException($"SummaryWriter.AddImage('{tag}'): expected an image of shape (C, H, W) with C = 1 or 3, got ({string.Join(", ", image.Shape.ToArray())}).", nameof(image));
        int c = image.Size(0), h = image.Size(1), w = image.Size(2);
        var v = image.ToArray();
        var rgb = new byte[3 * h * w];
        for (int i = 0; i < h * w; i++)
            for (int k = 0; k < 3; k++)
                rgb[3 * i + k] = (byte)Math.Round(255 * Math.Clamp(v[(c == 1 ? 0 : k) * h * w + i], 0f, 1f));
        AddImage(tag, rgb, h, w, step);
    }

    /// <summary>Adds an 8-bit RGB image (height × width × 3 bytes, row-major). Shape: (H, W, 3).</summary>
    public void AddImage(string tag, ReadOnlySpan<byte> rgb, int height, int width, long step)
    {
        CheckTag(tag);
        if (height < 1 || width < 1 || rgb.Length != 3L * height * width)
            throw new ArgumentException($"SummaryWriter.AddImage('{tag}'): {rgb.Length} bytes for a {height}x{width} RGB image (expected {3L * height * width}).", nameof(rgb));
        Write(EventProto.Summary(_clock(), step, EventProto.Image(tag, height, width, 3, PngWriter.Rgb(rgb, height, width))));
    }

    /// <summary>Forces what was written to disk (it is already with the operating system).</summary>
    public void Flush()
    {
        lock (_lock) _file.Flush(flushToDisk: true);
    }

    /// <summary>Flushes and closes the file.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (!_file.CanWrite) return;
            _file.Flush(flushToDisk: true);
            _file.Dispose();
        }
    }

    private static void CheckTag(string tag)
    {
        if (string.IsNullOrEmpty(tag)) throw new ArgumentException("SummaryWriter: a tag must not be empty.", nameof(tag));
    }

    private void Write(byte[] eventBytes)
    {
        var record = TfRecord.Frame(eventBytes);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(!_file.CanWrite, this);
            _file.Write(record);
        }
    }
}
