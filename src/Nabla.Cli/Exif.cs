using System.Buffers.Binary;

namespace Nabla.Cli;

/// <summary>
/// The EXIF orientation of a JPEG (TIFF tag 0x0112 in IFD0 of the APP1 "Exif" segment): cameras store the sensor's
/// pixels as they came and record how to turn them for display, and stb_image does not apply it, so a digit
/// photographed in portrait would reach the model on its side. A missing or damaged tag means 1 (as stored).
/// </summary>
internal static class Exif
{
    /// <summary>The orientation, 1..8 (1: as stored; 3: 180°; 6: 90° clockwise; 8: 90° anticlockwise; 2, 4, 5, 7 mirrored).</summary>
    public static int Orientation(ReadOnlySpan<byte> jpeg)
    {
        // markers after SOI: FF xx, then a big-endian length that counts itself; the pixels start at SOS (FF DA)
        for (int at = 2; at + 4 <= jpeg.Length && jpeg[at] == 0xFF;)
        {
            int marker = jpeg[at + 1], len = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 2)..]);
            if (marker == 0xDA || len < 2 || at + 2 + len > jpeg.Length) break;
            var segment = jpeg.Slice(at + 4, len - 2);
            if (marker == 0xE1 && segment.StartsWith("Exif\0\0"u8)) return FromTiff(segment[6..]);
            at += 2 + len;
        }
        return 1;
    }

    private static int FromTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8) return 1;
        bool little = tiff.StartsWith("II"u8);
        if (!little && !tiff.StartsWith("MM"u8)) return 1;
        if (U16(tiff, 2, little) != 42) return 1;
        long ifd = U32(tiff, 4, little);
        if (ifd + 2 > tiff.Length) return 1;
        int count = U16(tiff, (int)ifd, little);
        for (int i = 0; i < count; i++)
        {
            long entry = ifd + 2 + 12L * i;
            if (entry + 12 > tiff.Length) return 1;
            // tag, type 3 (SHORT), count 1, the value in the first two bytes of the value field
            if (U16(tiff, (int)entry, little) == 0x0112)
                return U16(tiff, (int)entry + 2, little) == 3 && U32(tiff, (int)entry + 4, little) == 1 && U16(tiff, (int)entry + 8, little) is >= 1 and <= 8 and int o ? o : 1;
        }
        return 1;
    }

    private static int U16(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt16BigEndian(b[at..]);

    private static long U32(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(b[at..]) : BinaryPrimitives.ReadUInt32BigEndian(b[at..]);

    /// <summary>Turns the h x w image <paramref name="gray"/> as <paramref name="orientation"/> says; 5-8 swap height and width.</summary>
    public static (float[] Gray, int Height, int Width) Orient(float[] gray, int h, int w, int orientation)
    {
        if (orientation == 1) return (gray, h, w);
        bool swap = orientation >= 5;
        int oh = swap ? w : h, ow = swap ? h : w;
        var output = new float[gray.Length];
        for (int r = 0; r < oh; r++)
            for (int c = 0; c < ow; c++)
            {
                // the stored pixel (y, x) shown at (r, c)
                var (y, x) = orientation switch
                {
                    2 => (r, w - 1 - c),             // mirrored left-right
                    3 => (h - 1 - r, w - 1 - c),     // 180°
                    4 => (h - 1 - r, c),             // mirrored top-bottom
                    5 => (c, r),                     // transposed
                    6 => (h - 1 - c, r),             // turned 90° clockwise
                    7 => (h - 1 - c, w - 1 - r),     // transversed
                    _ => (c, w - 1 - r),             // 8: turned 90° anticlockwise
                };
                output[r * ow + c] = gray[y * w + x];
            }
        return (output, oh, ow);
    }
}
