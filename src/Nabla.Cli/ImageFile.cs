using System.Buffers.Binary;
using System.IO.Compression;
using StbImageSharp;

namespace Nabla.Cli;

/// <summary>
/// Reads the image `nabla predict` classifies: PNG (interlaced too, 1-16 bits, palette), JPEG (baseline and
/// progressive; the EXIF orientation a camera records is applied), BMP, GIF (its first frame) and TGA, decoded by
/// StbImageSharp, a managed port of stb_image. The header is read first: an image over <see cref="MaxPixels"/> is
/// refused before a pixel is decoded, and a PNG whose compressed data would inflate past what its header declares is
/// refused before stb_image grows a buffer for it (its inflater doubles its output as long as the data goes on).
/// Returns luminance in [0, 1] (BT.601 weights) with transparency composited over white.
/// </summary>
internal static class ImageFile
{
    /// <summary>The largest image read: 24 megapixels (6000x4000); decoding one takes a few hundred MB.</summary>
    public const long MaxPixels = 24_000_000;

    /// <summary>The largest file read (an uncompressed 24-megapixel RGBA BMP is 96 MB).</summary>
    public const long MaxFileBytes = 128L << 20;

    public const string Formats = "PNG, JPEG, BMP, GIF or TGA";

    public static (float[] Gray, int Height, int Width) ReadGray(string path)
    {
        byte[] file;
        try
        {
            long length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
                throw new CliException($"'{path}' is {length:N0} bytes; nabla predict reads image files of at most {MaxFileBytes >> 20} MB.");
            file = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"cannot read '{path}': {e.Message}"); }
        try { return Decode(file); }
        catch (InvalidDataException e) { throw new CliException($"'{path}' {e.Message}"); }
    }

    /// <summary>Decodes <paramref name="file"/>; failures are <see cref="InvalidDataException"/>s whose message follows the file's name.</summary>
    public static (float[] Gray, int Height, int Width) Decode(byte[] file)
    {
        string format = FormatOf(file);
        ImageInfo? info;
        try { info = ImageInfo.FromStream(new MemoryStream(file, writable: false)); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or OverflowException or EndOfStreamException)
        {
            info = null;
        }
        if (info is not { Width: > 0, Height: > 0 } header)
            throw new InvalidDataException(format == "TGA" ? $"is not a readable {Formats} image (no image header found)" : $"is not a readable {format}: its header is damaged");
        int w = header.Width, h = header.Height;
        if ((long)w * h > MaxPixels)
            throw new InvalidDataException(
                $"is {w}x{h} pixels ({(double)w * h / 1e6:F0} megapixels); nabla predict reads images of at most {MaxPixels / 1_000_000} megapixels: scale it down first (a digit needs a few hundred pixels).");
        if (format == "PNG") CheckPngData(file, w, h);

        // grey sources stay grey (exact 8-bit levels); colour ones are weighted here as BT.601, as MNIST-style tools do
        bool grey = header.ColorComponents is ColorComponents.Grey or ColorComponents.GreyAlpha;
        var want = grey ? ColorComponents.GreyAlpha : ColorComponents.RedGreenBlueAlpha;
        ImageResult image;
        try { image = ImageResult.FromMemory(file, want); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or OverflowException or IndexOutOfRangeException or EndOfStreamException)
        {
            throw new InvalidDataException($"is not a readable {format}: {(string.IsNullOrEmpty(e.Message) ? e.GetType().Name : e.Message)}");
        }
        if (image.Width != w || image.Height != h)
            throw new InvalidDataException($"is not a readable {format}: its header says {w}x{h} but its pixels are {image.Width}x{image.Height}");

        var gray = new float[(long)w * h];
        var data = image.Data;
        for (int i = 0; i < gray.Length; i++)
        {
            float lum, alpha;
            if (grey) (lum, alpha) = (data[2 * i] / 255f, data[2 * i + 1] / 255f);
            else
            {
                int p = 4 * i;
                byte r = data[p], g = data[p + 1], b = data[p + 2];
                lum = r == g && g == b ? r / 255f : (0.299f * r + 0.587f * g + 0.114f * b) / 255f; // grey stored as RGB stays exact
                alpha = data[p + 3] / 255f;
            }
            gray[i] = alpha * lum + (1 - alpha); // over white
        }
        int orientation = format == "JPEG" ? Exif.Orientation(file) : 1;
        return Exif.Orient(gray, h, w, orientation);
    }

    /// <summary>The format the file's signature names (stb_image decides for itself; this is for messages).</summary>
    private static string FormatOf(ReadOnlySpan<byte> f) =>
        f.StartsWith((ReadOnlySpan<byte>)[137, 80, 78, 71, 13, 10, 26, 10]) ? "PNG"
        : f.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]) ? "JPEG"
        : f.StartsWith("GIF8"u8) ? "GIF"
        : f.StartsWith("BM"u8) ? "BMP"
        : "TGA"; // the one format without a signature

    /// <summary>
    /// Refuses a PNG whose image data inflates past the most its header allows (8 bytes a pixel, a filter byte a row,
    /// 7 interlace passes), inflating it once into a counter; damaged data is left to stb_image to report.
    /// </summary>
    private static void CheckPngData(byte[] file, int w, int h)
    {
        var idat = new MemoryStream();
        for (int at = 8; at + 8 <= file.Length;)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            if (len < 0 || at + 12L + len > file.Length) break;
            var type = file.AsSpan(at + 4, 4);
            if (type.SequenceEqual("IDAT"u8)) idat.Write(file, at + 8, len);
            else if (type.SequenceEqual("IEND"u8)) break;
            at += 12 + len;
        }
        long limit = 8L * w * h + 7L * (h + 7) + 1024;
        idat.Position = 0;
        var buffer = new byte[1 << 16];
        long total = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            for (int n; (n = z.Read(buffer)) > 0;)
                if ((total += n) > limit)
                    throw new InvalidDataException($"is not a readable PNG: its image data inflates past {limit:N0} bytes, more than a {w}x{h} image holds");
        }
        catch (InvalidDataException) when (total <= limit) { } // damaged data: stb_image says what is wrong with it
    }
}

/// <summary>Lets tests read images as `nabla predict` does and write PNG inputs for it (the CLI's types are internal).</summary>
public static class PngTestHook
{
    /// <summary>An 8-bit PNG of the grey <paramref name="pixels"/> (row-major, height × width), written by the plots' encoder.</summary>
    public static byte[] EncodeGray(byte[] pixels, int height, int width)
    {
        var rgb = new byte[3 * pixels.Length];
        for (int i = 0; i < pixels.Length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[i];
        return Plotting.PngEncoder.Encode(rgb, width, height);
    }

    /// <summary>An image file's luminance in [0, 1], row by row, as `nabla predict` reads it (the plots are checked with it).</summary>
    public static (float[] Gray, int Height, int Width) DecodeGray(byte[] file) => ImageFile.Decode(file);

    /// <summary>Reads an image file as `nabla predict` does; a bad one raises an exception with the CLI's message.</summary>
    public static (float[] Gray, int Height, int Width) ReadGray(string path) => ImageFile.ReadGray(path);
}
