using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.RegularExpressions;
using StbImageWriteSharp;

namespace Nabla.Tests.Cli;

/// <summary>
/// `nabla predict`'s image reading: every format it claims, from files made here (StbImageWriteSharp for PNG, JPEG,
/// BMP and TGA; an interlaced PNG and a GIF encoded by hand below), the EXIF orientation, and the limits that refuse
/// huge images before decoding them.
/// </summary>
public sealed class ImageFileTests(TinyRun run) : IClassFixture<TinyRun>
{
    private const int H = 19, W = 23; // odd sizes: partial interlace passes and JPEG blocks

    /// <summary>A smooth grey pattern (JPEG-friendly), distinct in every row and column.</summary>
    private static byte[] Pattern(int h = H, int w = W)
    {
        var p = new byte[h * w];
        for (int r = 0; r < h; r++)
            for (int c = 0; c < w; c++) p[r * w + c] = (byte)(20 + 200.0 * (0.6 * r / (h - 1) + 0.4 * c / (w - 1)));
        return p;
    }

    private static byte[] Write(Action<ImageWriter, Stream> write)
    {
        var s = new MemoryStream();
        write(new ImageWriter(), s);
        return s.ToArray();
    }

    private static (float[] Gray, int Height, int Width) Decode(byte[] file) => Nabla.Cli.PngTestHook.DecodeGray(file);

    private static void AssertPixels(byte[] expected, (float[] Gray, int Height, int Width) actual, double tolerance, int h = H, int w = W)
    {
        Assert.Equal((h, w), (actual.Height, actual.Width));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual.Gray[i] - expected[i] / 255.0) <= tolerance, $"pixel {i}: {actual.Gray[i]} vs {expected[i] / 255.0}");
    }

    [Fact]
    public void GreyPngBmpAndTgaDecodeExactly()
    {
        var grey = Pattern();
        var rgb = grey.SelectMany(v => new[] { v, v, v }).ToArray();
        AssertPixels(grey, Decode(Write((w, s) => w.WritePng(grey, W, H, ColorComponents.Grey, s))), 1e-7);
        AssertPixels(grey, Decode(Write((w, s) => w.WriteBmp(rgb, W, H, ColorComponents.RedGreenBlue, s))), 1e-7);
        AssertPixels(grey, Decode(Write((w, s) => w.WriteTga(grey, W, H, ColorComponents.Grey, s))), 1e-7);
        AssertPixels(grey, Decode(Write((w, s) => w.WriteTga(rgb, W, H, ColorComponents.RedGreenBlue, s))), 1e-7);
    }

    [Fact]
    public void ColourIsWeightedAsBt601AndTransparencyIsCompositedOverWhite()
    {
        var rgba = new byte[H * W * 4];
        var expected = new double[H * W];
        for (int i = 0; i < H * W; i++)
        {
            byte r = (byte)(i * 7), g = (byte)(i * 13 + 50), b = (byte)(255 - i), a = (byte)(i * 29);
            (rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2], rgba[4 * i + 3]) = (r, g, b, a);
            double lum = (0.299 * r + 0.587 * g + 0.114 * b) / 255, alpha = a / 255.0;
            expected[i] = alpha * lum + (1 - alpha);
        }
        foreach (var file in new[]
        {
            Write((w, s) => w.WritePng(rgba, W, H, ColorComponents.RedGreenBlueAlpha, s)),
            Write((w, s) => w.WriteTga(rgba, W, H, ColorComponents.RedGreenBlueAlpha, s)),
        })
        {
            var (gray, h, w) = Decode(file);
            Assert.Equal((H, W), (h, w));
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(gray[i] - expected[i]) < 1e-6, $"pixel {i}: {gray[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void JpegDecodesWithinItsLoss()
    {
        var grey = Pattern();
        var (gray, h, w) = Decode(Write((w, s) => w.WriteJpg(grey, W, H, ColorComponents.Grey, s, 100)));
        AssertPixels(grey, (gray, h, w), 3 / 255.0);
        var rgb = grey.SelectMany(v => new[] { v, v, v }).ToArray();
        AssertPixels(grey, Decode(Write((w, s) => w.WriteJpg(rgb, W, H, ColorComponents.RedGreenBlue, s, 95))), 6 / 255.0);
    }

    [Fact]
    public void InterlacedPngDecodes()
    {
        var grey = Pattern();
        AssertPixels(grey, Decode(Adam7Png(grey, H, W)), 1e-7);
        AssertPixels(grey[..1], Decode(Adam7Png(grey[..1], 1, 1)), 1e-7, 1, 1); // only the first pass has pixels
    }

    [Fact]
    public void GifDecodes()
    {
        var grey = Pattern();
        AssertPixels(grey, Decode(Gif(grey, H, W)), 1e-7);
    }

    // the EXIF orientations as the TIFF specification words them, built from two turns: mirror left-right, 90° clockwise
    private static (byte[] P, int H, int W) Mirror((byte[] P, int H, int W) x) =>
        (Enumerable.Range(0, x.P.Length).Select(i => x.P[i / x.W * x.W + x.W - 1 - i % x.W]).ToArray(), x.H, x.W);

    private static (byte[] P, int H, int W) Clockwise((byte[] P, int H, int W) x) =>
        (Enumerable.Range(0, x.P.Length).Select(i => x.P[(x.H - 1 - i % x.H) * x.W + i / x.H]).ToArray(), x.W, x.H);

    private static (byte[] P, int H, int W) Display((byte[] P, int H, int W) x, int orientation) => orientation switch
    {
        1 => x,
        2 => Mirror(x),
        3 => Clockwise(Clockwise(x)),
        4 => Clockwise(Clockwise(Mirror(x))),                // mirrored top to bottom
        5 => Clockwise(Clockwise(Clockwise(Mirror(x)))),     // mirrored, then 270° clockwise
        6 => Clockwise(x),
        7 => Clockwise(Mirror(x)),                           // mirrored, then 90° clockwise
        _ => Clockwise(Clockwise(Clockwise(x))),
    };

    [Theory]
    [InlineData(1, false)] [InlineData(2, true)] [InlineData(3, false)] [InlineData(4, true)]
    [InlineData(5, false)] [InlineData(6, true)] [InlineData(7, false)] [InlineData(8, true)]
    public void JpegExifOrientationIsApplied(int orientation, bool bigEndian)
    {
        // a grey ramp with a dark corner, so every turn and mirror gives a different image
        var grey = Pattern();
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 6; c++) grey[r * W + c] = 0;
        var jpeg = Write((w, s) => w.WriteJpg(grey, W, H, ColorComponents.Grey, s, 100));
        var (p, h, wd) = Display((grey, H, W), orientation);
        AssertPixels(p, Decode(WithExifOrientation(jpeg, orientation, bigEndian)), 12 / 255.0, h, wd);
    }

    [Fact]
    public void DamagedExifIsIgnoredAsAViewerWould()
    {
        var grey = Pattern();
        var jpeg = Write((w, s) => w.WriteJpg(grey, W, H, ColorComponents.Grey, s, 100));
        var exif = WithExifOrientation(jpeg, 6, false);
        exif[4 + 2 + 6 + 4] = 0xFF; // the IFD offset now points past the segment
        AssertPixels(grey, Decode(exif), 3 / 255.0);
    }

    [Theory]
    [InlineData("png", 8000, 8000)]
    [InlineData("jpg", 4000, 7000)]
    [InlineData("bmp", 30000, 1000)]
    [InlineData("gif", 6000, 5000)]
    [InlineData("tga", 5000, 5000)]
    public void HugeDeclaredSizesAreRefusedBeforeDecoding(string ext, int width, int height)
    {
        // a small valid image whose header then claims the huge size: decoding would fail (or take GBs); the refusal names the size
        var grey = Pattern();
        var rgb = grey.SelectMany(v => new[] { v, v, v }).ToArray();
        var file = ext switch
        {
            "png" => Write((w, s) => w.WritePng(grey, W, H, ColorComponents.Grey, s)),
            "jpg" => Write((w, s) => w.WriteJpg(grey, W, H, ColorComponents.Grey, s, 90)),
            "bmp" => Write((w, s) => w.WriteBmp(rgb, W, H, ColorComponents.RedGreenBlue, s)),
            "tga" => Write((w, s) => w.WriteTga(grey, W, H, ColorComponents.Grey, s)),
            _ => Gif(grey, H, W),
        };
        SetDeclaredSize(file, ext, width, height);
        string path = Path.Combine(run.Root, $"huge-{ext}.{ext}");
        File.WriteAllBytes(path, file);
        var (code, output, err) = TinyRun.Run("predict", run.RunDir, path);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal($"error: '{path}' is {width}x{height} pixels ({(double)width * height / 1e6:F0} megapixels); nabla predict reads images of at most 24 megapixels: scale it down first (a digit needs a few hundred pixels).",
            err.TrimEnd());
    }

    [Fact]
    public void PngDataInflatingPastItsDeclaredSizeIsRefused()
    {
        // 64x64 grey declares 64 x 65 bytes of rows; its data inflates to 4 MB of zeros (a 4 KB file)
        var rows = new byte[4 << 20];
        string path = Path.Combine(run.Root, "bomb.png");
        File.WriteAllBytes(path, PngFile(64, 64, interlaced: false, ZLib(rows)));
        var (code, _, err) = TinyRun.Run("predict", run.RunDir, path);
        Assert.Equal(2, code);
        Assert.Matches(new Regex(@"^error: '.*bomb\.png' is not a readable PNG: its image data inflates past [\d,]+ bytes, more than a 64x64 image holds\n$"), err);
        Assert.True(new FileInfo(path).Length < 16_000);
    }

    [Fact]
    public void OversizedFilesAreRefusedUnread()
    {
        string path = Path.Combine(run.Root, "big.jpg");
        using (var f = File.Create(path)) f.SetLength((128L << 20) + 1); // sparse: nothing is written
        var (code, _, err) = TinyRun.Run("predict", run.RunDir, path);
        Assert.Equal(2, code);
        Assert.Equal($"error: '{path}' is 134,217,729 bytes; nabla predict reads image files of at most 128 MB.", err.TrimEnd());
        File.Delete(path);
    }

    [Fact]
    public void DamagedFilesNameTheirFormat()
    {
        var jpeg = Write((w, s) => w.WriteJpg(Pattern(), W, H, ColorComponents.Grey, s, 90));
        string path = Path.Combine(run.Root, "cut.jpg");
        File.WriteAllBytes(path, jpeg[..Array.IndexOf(jpeg, (byte)0xC0)]); // cut before the frame header
        var (code, _, err) = TinyRun.Run("predict", run.RunDir, path);
        Assert.Equal(2, code);
        Assert.StartsWith($"error: '{path}' is not a readable JPEG", err);
        Assert.Single(err.TrimEnd().Split('\n'));

        File.WriteAllText(path, "plain text, whatever the name says");
        (code, _, err) = TinyRun.Run("predict", run.RunDir, path);
        Assert.Equal(2, code);
        Assert.Equal($"error: '{path}' is not a readable PNG, JPEG, BMP, GIF or TGA image (no image header found)", err.TrimEnd());
    }

    [Fact]
    public void PredictReadsAPortraitPhotoAsAUserWould()
    {
        // a dark vertical bar on light paper stored on its side (a phone's landscape sensor) with orientation 6: the
        // CLI must report the upright size and find a tall, thin digit
        const int h = 40, w = 64;
        var stored = Enumerable.Repeat((byte)235, h * w).ToArray();
        for (int r = 17; r < 23; r++)
            for (int c = 10; c < 54; c++) stored[r * w + c] = 30; // horizontal as stored
        var jpeg = WithExifOrientation(Write((wr, s) => wr.WriteJpg(stored, w, h, ColorComponents.Grey, s, 95)), 6, bigEndian: true);
        string path = Path.Combine(run.Root, "photo.jpg");
        File.WriteAllBytes(path, jpeg);
        var (code, output, err) = CliProcess.Run("predict", run.RunDir, path);
        Assert.True(code == 0, err);
        var m = Regex.Match(output, @"image: .*photo\.jpg \(40x64, inverted: light background; digit (\d+)x(\d+) → ");
        Assert.True(m.Success, output);
        Assert.True(int.Parse(m.Groups[2].Value) > 4 * int.Parse(m.Groups[1].Value), output); // taller than wide
        Assert.Contains("prediction: ", output);
    }

    // ---- files written by hand ----

    private static byte[] ZLib(byte[] data)
    {
        var s = new MemoryStream();
        using (var z = new ZLibStream(s, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return s.ToArray();
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    private static void Chunk(MemoryStream png, string type, byte[] data)
    {
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        var word = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typed));
        png.Write(word);
    }

    /// <summary>An 8-bit grey PNG around already-compressed image data.</summary>
    private static byte[] PngFile(int w, int h, bool interlaced, byte[] idat)
    {
        var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, w);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), h);
        ihdr[8] = 8; // bits
        ihdr[9] = 0; // grey
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// An Adam7-interlaced 8-bit grey PNG: seven passes, each a small image of every (dx, dy)-th pixel from (x0, y0),
    /// its rows filtered on their own (here: none for a pass's first row, Up for the others); empty passes are left out.
    /// </summary>
    private static byte[] Adam7Png(byte[] grey, int h, int w)
    {
        (int X0, int Y0, int Dx, int Dy)[] passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
        var raw = new MemoryStream();
        foreach (var (x0, y0, dx, dy) in passes)
        {
            int pw = (w - x0 + dx - 1) / dx, ph = (h - y0 + dy - 1) / dy;
            if (pw <= 0 || ph <= 0) continue;
            byte[]? prev = null;
            for (int j = 0; j < ph; j++)
            {
                var row = Enumerable.Range(0, pw).Select(k => grey[(y0 + j * dy) * w + x0 + k * dx]).ToArray();
                raw.WriteByte((byte)(prev is null ? 0 : 2));
                raw.Write(prev is null ? row : row.Select((v, k) => (byte)(v - prev[k])).ToArray());
                prev = row;
            }
        }
        return PngFile(w, h, interlaced: true, ZLib(raw.ToArray()));
    }

    /// <summary>
    /// A GIF89a with a 256-level grey palette and one image, LZW-coded with literal codes only: 9-bit codes, and a
    /// clear code every 250 codes so the decoder's table never reaches 512 entries (where codes would widen).
    /// </summary>
    private static byte[] Gif(byte[] grey, int h, int w)
    {
        var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        gif.Write([(byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0xF7, 0, 0]); // global table of 2^(7+1) colours
        for (int i = 0; i < 256; i++) gif.Write([(byte)i, (byte)i, (byte)i]);
        gif.Write([0x2C, 0, 0, 0, 0, (byte)w, (byte)(w >> 8), (byte)h, (byte)(h >> 8), 0]);
        gif.WriteByte(8); // minimum code size: clear = 256, end = 257

        var codes = new List<int>();
        for (int i = 0; i < grey.Length; i++)
        {
            if (i % 250 == 0) codes.Add(256);
            codes.Add(grey[i]);
        }
        codes.Add(257);
        var packed = new List<byte>();
        int acc = 0, bits = 0;
        foreach (int code in codes)
        {
            acc |= code << bits; // least significant bit first
            for (bits += 9; bits >= 8; bits -= 8, acc >>= 8) packed.Add((byte)acc);
        }
        if (bits > 0) packed.Add((byte)acc);
        foreach (var block in packed.Chunk(255))
        {
            gif.WriteByte((byte)block.Length);
            gif.Write(block);
        }
        gif.Write([0, 0x3B]); // end of data, trailer
        return gif.ToArray();
    }

    /// <summary>The JPEG with an APP1 Exif segment (a TIFF header and an IFD0 holding the orientation) after its SOI.</summary>
    private static byte[] WithExifOrientation(byte[] jpeg, int orientation, bool bigEndian)
    {
        var tiff = new byte[8 + 2 + 12 + 4];
        void U16(int at, int v) { if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(tiff.AsSpan(at), (ushort)v); else BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(at), (ushort)v); }
        void U32(int at, int v) { if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(tiff.AsSpan(at), v); else BinaryPrimitives.WriteInt32LittleEndian(tiff.AsSpan(at), v); }
        tiff[0] = tiff[1] = (byte)(bigEndian ? 'M' : 'I');
        U16(2, 42);
        U32(4, 8);    // IFD0 right after the header
        U16(8, 1);    // one entry
        U16(10, 0x0112);
        U16(12, 3);   // SHORT
        U32(14, 1);   // one value
        U16(18, orientation);
        U32(22, 0);   // no next IFD
        var segment = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var app1 = new byte[] { 0xFF, 0xE1, (byte)((segment.Length + 2) >> 8), (byte)(segment.Length + 2) };
        return [.. jpeg[..2], .. app1, .. segment, .. jpeg[2..]];
    }

    /// <summary>Rewrites the width and height the file's header declares.</summary>
    private static void SetDeclaredSize(byte[] f, string ext, int width, int height)
    {
        switch (ext)
        {
            case "png":
                BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(16), width);
                BinaryPrimitives.WriteInt32BigEndian(f.AsSpan(20), height);
                BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(29), Crc32(f.AsSpan(12, 17)));
                break;
            case "jpg":
                int sof = Enumerable.Range(0, f.Length - 1).First(i => f[i] == 0xFF && f[i + 1] == 0xC0);
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(sof + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(sof + 7), (ushort)width);
                break;
            case "bmp":
                BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(18), width);
                BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(22), height);
                break;
            case "tga":
                BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(12), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(14), (ushort)height);
                break;
            default: // gif: the logical screen and the image
                BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(6), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(8), (ushort)height);
                int image = 13 + 3 * 256;
                BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(image + 5), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(image + 7), (ushort)height);
                break;
        }
    }
}
