using System.Globalization;
using System.Text;

namespace Nabla.Cli.Plotting;

/// <summary>Writes the drawing calls as an SVG document; text stays text, in DejaVu Sans where the viewer has it.</summary>
internal sealed class SvgCanvas : ICanvas
{
    private readonly StringBuilder _svg = new();

    public SvgCanvas(int width, int height, Rgb background)
    {
        _svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" ")
            .Append("font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\">\n");
        FillRect(0, 0, width, height, background);
    }

    public void FillRect(double x, double y, double width, double height, Rgb color) =>
        _svg.Append($"<rect x=\"{N(x)}\" y=\"{N(y)}\" width=\"{N(width)}\" height=\"{N(height)}\" fill=\"{color.Hex}\"/>\n");

    public void Series(ReadOnlySpan<(double X, double Y)> points, double lineWidth, double markerRadius, Rgb color, string? label)
    {
        _svg.Append(label is null ? "<g" : $"<g class=\"series\" data-label=\"{Escape(label)}\"").Append($" fill=\"{color.Hex}\">\n<polyline points=\"");
        for (int i = 0; i < points.Length; i++) _svg.Append(i > 0 ? " " : "").Append(N(points[i].X)).Append(',').Append(N(points[i].Y));
        _svg.Append($"\" fill=\"none\" stroke=\"{color.Hex}\" stroke-width=\"{N(lineWidth)}\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n");
        if (markerRadius > 0)
            foreach (var (x, y) in points) _svg.Append($"<circle cx=\"{N(x)}\" cy=\"{N(y)}\" r=\"{N(markerRadius)}\"/>\n");
        _svg.Append("</g>\n");
    }

    public void Text(string text, double x, double y, TextStyle style, Rgb color, TextAnchor anchor, bool vertical = false)
    {
        var font = GlyphAtlas.For(style);
        string position = vertical ? $"transform=\"translate({N(x)},{N(y)}) rotate(-90)\"" : $"x=\"{N(x)}\" y=\"{N(y)}\"";
        string weight = style == TextStyle.Title ? " font-weight=\"bold\"" : "";
        string align = anchor switch { TextAnchor.Start => "start", TextAnchor.Middle => "middle", _ => "end" };
        _svg.Append($"<text {position} font-size=\"{font.Size}\"{weight} text-anchor=\"{align}\" fill=\"{color.Hex}\">{Escape(text)}</text>\n");
    }

    public void BeginGroup(string name) => _svg.Append($"<g class=\"{name}\">\n");

    public void EndGroup() => _svg.Append("</g>\n");

    /// <summary>The finished document.</summary>
    public override string ToString() => _svg + "</svg>\n";

    private static string N(double v) => Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture);

    // XML 1.0 allows no control characters, not even as references
    private static string Escape(string s) => string.Concat(s.Select(c => char.IsControl(c) ? '?' : c))
        .Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
        .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
