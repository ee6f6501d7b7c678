namespace Nabla.Cli.Plotting;

/// <summary>An sRGB colour, 8 bits a channel.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static readonly Rgb White = new(255, 255, 255);

    /// <summary>#rrggbb, as SVG writes it.</summary>
    public string Hex => $"#{R:x2}{G:x2}{B:x2}";
}

/// <summary>The three text styles of a chart, each a size of the glyph atlas.</summary>
internal enum TextStyle
{
    /// <summary>Tick labels and the legend: DejaVu Sans 12 px.</summary>
    Small,

    /// <summary>Axis labels: DejaVu Sans 14 px.</summary>
    Label,

    /// <summary>The title: DejaVu Sans Bold 16 px.</summary>
    Title,
}

/// <summary>Where a text's position lies along its baseline.</summary>
internal enum TextAnchor
{
    Start,
    Middle,
    End,
}

/// <summary>
/// What a chart draws with, in pixels from the top-left corner (a pixel's centre is at +0.5). The raster canvas makes
/// the PNG and the SVG canvas the vector file from the same calls, so both show the same picture.
/// </summary>
internal interface ICanvas
{
    /// <summary>An axis-aligned rectangle; edges that cut a pixel cover it partly.</summary>
    void FillRect(double x, double y, double width, double height, Rgb color);

    /// <summary>
    /// A series' line: a polyline with round joins and, when <paramref name="markerRadius"/> &gt; 0, a disc at each
    /// point; <paramref name="label"/> names a data series (null for a legend's sample).
    /// </summary>
    void Series(ReadOnlySpan<(double X, double Y)> points, double lineWidth, double markerRadius, Rgb color, string? label);

    /// <summary>One line of text whose baseline passes through (x, y); vertical text reads upwards.</summary>
    void Text(string text, double x, double y, TextStyle style, Rgb color, TextAnchor anchor, bool vertical = false);

    /// <summary>Starts a named group (an SVG &lt;g class=...&gt;); the raster canvas ignores groups.</summary>
    void BeginGroup(string name);

    /// <summary>Ends the group started last.</summary>
    void EndGroup();
}
