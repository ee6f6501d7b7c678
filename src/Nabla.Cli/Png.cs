using System.Buffers.Binary;
using System.IO.Compression;

namespace Nabla.Cli;

/// <summary>
/// A small PNG decoder for `nabla predict`: 8-bit grayscale, gray+alpha, RGB, RGBA and palette images (also 1/2/4-bit
/// gray and palette, and 16-bit gray/RGB), non-interlaced; zlib through <see cref="ZLibStream"/>, the five row filters.
/// Returns luminance in [0, 1] with transparency composited over white.
/// </summary>
internal static class Png
{
    private static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    public static (float[] Gray, int Height, int Width) ReadGray(string path)
    {
        byte[] file;
        try { file = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new CliException($"cannot read '{path}': {e.Message}"); }
        try { return Decode(file); }
        catch (InvalidDataException e) { throw new CliException($"'{path}' is not a readable PNG: {e.Message}"); }
    }

    public static (float[] Gray, int Height, int Width) Decode(byte[] file)
    {
        if (file.Length < 8 || !file.AsSpan(0, 8).SequenceEqual(Signature)) throw new InvalidDataException("no PNG signature");
        int width = 0, height = 0, depth = 0, color = -1;
        byte[]? palette = null, paletteAlpha = null;
        var idat = new MemoryStream();
        int at = 8;
        while (true)
        {
            if (at + 8 > file.Length) throw new InvalidDataException("truncated chunk header");
            int len = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            if (len < 0 || at + 12L + len > file.Length) throw new InvalidDataException($"chunk {type} of {len} bytes runs past the end of the file");
            var data = file.AsSpan(at + 8, len);
            at += 12 + len;
            if (type == "IHDR")
            {
                if (len != 13) throw new InvalidDataException("bad IHDR");
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                depth = data[8];
                color = data[9];
                if (data[12] != 0) throw new InvalidDataException("interlaced images are not supported");
                if (width <= 0 || height <= 0 || (long)width * height > 64_000_000) throw new InvalidDataException($"unsupported size {width}x{height}");
                bool ok = color switch { 0 => depth is 1 or 2 or 4 or 8 or 16, 3 => depth is 1 or 2 or 4 or 8, 2 or 4 or 6 => depth is 8 or 16, _ => false };
                if (!ok) throw new InvalidDataException($"color type {color} with bit depth {depth} is not supported");
            }
            else if (type == "PLTE") palette = data.ToArray();
            else if (type == "tRNS") paletteAlpha = data.ToArray();
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
        }
        if (width == 0) throw new InvalidDataException("no IHDR chunk");
        if (color == 3 && palette is null) throw new InvalidDataException("palette image without a PLTE chunk");
        int channels = color switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = channels * depth, bpp = Math.Max(1, bitsPerPixel / 8);
        int stride = (width * bitsPerPixel + 7) / 8;
        var raw = new byte[(long)height * (stride + 1)];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            int read = 0, n;
            while (read < raw.Length && (n = z.Read(raw, read, raw.Length - read)) > 0) read += n;
            if (read != raw.Length) throw new InvalidDataException($"image data holds {read} bytes, {raw.Length} expected");
        }
        var pixels = new byte[(long)height * stride];
        for (int r = 0; r < height; r++)
        {
            int filter = raw[r * (stride + 1)];
            var src = raw.AsSpan(r * (stride + 1) + 1, stride);
            var cur = pixels.AsSpan(r * stride, stride);
            var prev = r > 0 ? pixels.AsSpan((r - 1) * stride, stride) : new byte[stride];
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                cur[i] = (byte)(src[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"row {r} has unknown filter type {filter}"),
                });
            }
        }
        var gray = new float[width * height];
        int maxVal = (1 << Math.Min(depth, 8)) - 1;
        for (int r = 0; r < height; r++)
        {
            var row = pixels.AsSpan(r * stride, stride);
            for (int c = 0; c < width; c++)
            {
                float lum, alpha = 1;
                if (depth < 8)
                {
                    int bit = c * depth, v = (row[bit / 8] >> (8 - depth - bit % 8)) & maxVal;
                    lum = color == 3 ? PaletteLum(palette!, v, paletteAlpha, out alpha) : v / (float)maxVal;
                }
                else
                {
                    int stepBytes = depth / 8;
                    // the high byte of 16-bit samples is enough for 8-bit input to the model
                    int b0 = c * channels * stepBytes;
                    float s0 = row[b0] / 255f;
                    float s1 = channels > 1 ? row[b0 + stepBytes] / 255f : 0, s2 = channels > 2 ? row[b0 + 2 * stepBytes] / 255f : 0;
                    float s3 = channels > 3 ? row[b0 + 3 * stepBytes] / 255f : 1;
                    (lum, alpha) = color switch
                    {
                        0 => (s0, 1f),
                        4 => (s0, s1),
                        2 => (0.299f * s0 + 0.587f * s1 + 0.114f * s2, 1f),
                        6 => (0.299f * s0 + 0.587f * s1 + 0.114f * s2, s3),
                        _ => (PaletteLum(palette!, row[c], paletteAlpha, out float pa), pa),
                    };
                }
                gray[r * width + c] = alpha * lum + (1 - alpha); // over white
            }
        }
        return (gray, height, width);
    }

    private static float PaletteLum(byte[] palette, int index, byte[]? alphas, out float alpha)
    {
        if (3 * index + 2 >= palette.Length) throw new InvalidDataException($"palette index {index} is outside the {palette.Length / 3}-entry palette");
        alpha = alphas is not null && index < alphas.Length ? alphas[index] / 255f : 1f;
        return (0.299f * palette[3 * index] + 0.587f * palette[3 * index + 1] + 0.114f * palette[3 * index + 2]) / 255f;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Box-filter resize (each output pixel averages the source pixels its area covers, weighted by overlap).</summary>
    public static float[] Resize(float[] src, int h, int w, int outH, int outW)
    {
        if (h == outH && w == outW) return (float[])src.Clone();
        var dst = new float[outH * outW];
        double sy = (double)h / outH, sx = (double)w / outW;
        for (int r = 0; r < outH; r++)
        {
            for (int c = 0; c < outW; c++)
            {
                double y0 = r * sy, y1 = y0 + sy, x0 = c * sx, x1 = x0 + sx, sum = 0, wsum = 0;
                for (int yy = (int)y0; yy < Math.Min(h, (int)Math.Ceiling(y1)); yy++)
                {
                    double wy = Math.Min(yy + 1, y1) - Math.Max(yy, y0);
                    for (int xx = (int)x0; xx < Math.Min(w, (int)Math.Ceiling(x1)); xx++)
                    {
                        double wx = Math.Min(xx + 1, x1) - Math.Max(xx, x0);
                        sum += wy * wx * src[yy * w + xx];
                        wsum += wy * wx;
                    }
                }
                dst[r * outW + c] = (float)(sum / wsum);
            }
        }
        return dst;
    }

    /// <summary>Writes an 8-bit grayscale PNG (used by tests and docs to make inputs).</summary>
    public static byte[] EncodeGray(byte[] pixels, int height, int width)
    {
        var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
            for (int r = 0; r < height; r++)
            {
                z.WriteByte(0);
                z.Write(pixels, r * width, width);
            }
        var png = new MemoryStream();
        png.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc(typed));
        s.Write(len);
    }

    private static uint Crc(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return c ^ 0xFFFFFFFF;
    }
}

/// <summary>Lets tests write PNG inputs for `nabla predict` (the CLI's types are internal).</summary>
public static class PngTestHook
{
    /// <summary>An 8-bit grayscale PNG of <paramref name="pixels"/> (row-major, height × width).</summary>
    public static byte[] EncodeGray(byte[] pixels, int height, int width) => Png.EncodeGray(pixels, height, width);

    /// <summary>A PNG file's luminance in [0, 1], row by row, as `nabla predict` reads it (the plots are checked with it).</summary>
    public static (float[] Gray, int Height, int Width) DecodeGray(byte[] file) => Png.Decode(file);
}
