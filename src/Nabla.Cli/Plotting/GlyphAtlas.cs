using System.Buffers.Binary;

namespace Nabla.Cli.Plotting;

/// <summary>
/// Anti-aliased coverage bitmaps of ASCII 32–126 in DejaVu Sans at the chart's three text sizes, rendered once by
/// Font/make_atlas.py and embedded in the CLI, so text is drawn without a native font engine and the same on every
/// machine. Other characters are drawn as '?'.
/// </summary>
internal sealed class GlyphAtlas
{
    private const int First = 32, Count = 95;

    private static readonly Lazy<GlyphAtlas[]> s_fonts = new(Load);

    private readonly Glyph[] _glyphs;

    private GlyphAtlas(int size, int ascent, int descent, Glyph[] glyphs)
    {
        Size = size;
        Ascent = ascent;
        Descent = descent;
        _glyphs = glyphs;
    }

    /// <summary>One character: its advance in pixels, its bitmap's offset from the pen (right, and up from the baseline), and coverage 0–255 row by row.</summary>
    public sealed record Glyph(double Advance, int Left, int Top, int Width, int Height, byte[] Coverage);

    /// <summary>The em size in pixels.</summary>
    public int Size { get; }

    /// <summary>Pixels above the baseline that the font's tallest glyphs reach.</summary>
    public int Ascent { get; }

    /// <summary>Pixels below the baseline that the font's descenders reach.</summary>
    public int Descent { get; }

    public static GlyphAtlas For(TextStyle style) => s_fonts.Value[(int)style];

    public Glyph this[char c] => _glyphs[c is >= (char)First and < (char)(First + Count) ? c - First : '?' - First];

    /// <summary>The width of <paramref name="text"/> in pixels: the sum of its advances.</summary>
    public double Measure(string text)
    {
        double w = 0;
        foreach (char c in text) w += this[c].Advance;
        return w;
    }

    private static GlyphAtlas[] Load()
    {
        using var stream = typeof(GlyphAtlas).Assembly.GetManifestResourceStream("Nabla.Cli.Plotting.glyphs.atlas")
            ?? throw new InvalidOperationException("the plot font (glyphs.atlas) is missing from the nabla binary");
        var data = new byte[stream.Length];
        stream.ReadExactly(data);
        if (data.Length < 5 || !data.AsSpan(0, 4).SequenceEqual("NGA1"u8)) throw new InvalidDataException("glyphs.atlas: not a glyph atlas");
        var fonts = new GlyphAtlas[data[4]];
        int at = 5;
        for (int f = 0; f < fonts.Length; f++)
        {
            int size = data[at], ascent = data[at + 2], descent = data[at + 3];
            at += 4;
            var glyphs = new Glyph[Count];
            for (int g = 0; g < Count; g++)
            {
                double advance = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at)) / 64.0;
                int left = (sbyte)data[at + 2], top = (sbyte)data[at + 3], width = data[at + 4], height = data[at + 5];
                at += 6;
                glyphs[g] = new Glyph(advance, left, top, width, height, data.AsSpan(at, width * height).ToArray());
                at += width * height;
            }
            fonts[f] = new GlyphAtlas(size, ascent, descent, glyphs);
        }
        return fonts;
    }
}
