namespace Nabla.Cli.Plotting;

/// <summary>
/// Draws into an RGB image in managed code. Anti-aliasing is by coverage: a pixel takes the fraction of its area a
/// rectangle covers, and for lines and discs a linear ramp of its centre's distance to the shape's edge (one pixel
/// wide), the usual approximation of the area. A series is rasterised into a coverage mask first (the maximum over
/// its segments and markers) and blended once, so joins are not blended twice. Only +, −, ×, ÷ and square roots of
/// doubles: the same image, bit for bit, on every machine.
/// </summary>
internal sealed class RasterCanvas : ICanvas
{
    private readonly byte[] _rgb;
    private readonly float[] _mask;

    public RasterCanvas(int width, int height, Rgb background)
    {
        Width = width;
        Height = height;
        _rgb = new byte[width * height * 3];
        _mask = new float[width * height];
        FillRect(0, 0, width, height, background);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The pixels, row by row, three bytes (R, G, B) each.</summary>
    public ReadOnlySpan<byte> Pixels => _rgb;

    public void FillRect(double x, double y, double width, double height, Rgb color)
    {
        int x0 = Math.Max(0, (int)Math.Floor(x)), x1 = Math.Min(Width, (int)Math.Ceiling(x + width));
        int y0 = Math.Max(0, (int)Math.Floor(y)), y1 = Math.Min(Height, (int)Math.Ceiling(y + height));
        for (int j = y0; j < y1; j++)
        {
            double cy = Math.Min(j + 1, y + height) - Math.Max(j, y);
            for (int i = x0; i < x1; i++)
                Blend(j * Width + i, color, cy * (Math.Min(i + 1, x + width) - Math.Max(i, x)));
        }
    }

    public void Series(ReadOnlySpan<(double X, double Y)> points, double lineWidth, double markerRadius, Rgb color, string? label)
    {
        if (points.Length == 0) return;
        double reach = Math.Max(lineWidth / 2, markerRadius) + 1;
        double minX = double.MaxValue, maxX = double.MinValue, minY = double.MaxValue, maxY = double.MinValue;
        foreach (var (x, y) in points)
        {
            minX = Math.Min(minX, x); maxX = Math.Max(maxX, x);
            minY = Math.Min(minY, y); maxY = Math.Max(maxY, y);
        }
        int x0 = Clamp(minX - reach, Width), x1 = Clamp(maxX + reach + 1, Width), y0 = Clamp(minY - reach, Height), y1 = Clamp(maxY + reach + 1, Height);
        for (int j = y0; j < y1; j++) _mask.AsSpan(j * Width + x0, x1 - x0).Clear();
        for (int k = 0; k + 1 < points.Length; k++) Segment(points[k], points[k + 1], lineWidth / 2);
        if (points.Length == 1 && markerRadius <= 0) Segment(points[0], points[0], lineWidth / 2);
        if (markerRadius > 0)
            foreach (var p in points) Segment(p, p, markerRadius);
        for (int j = y0; j < y1; j++)
            for (int i = x0; i < x1; i++)
                if (_mask[j * Width + i] > 0) Blend(j * Width + i, color, _mask[j * Width + i]);
    }

    // Coverage of the pixels within r of segment ab (a disc when a == b) into the mask, taking the maximum.
    private void Segment((double X, double Y) a, (double X, double Y) b, double r)
    {
        double dx = b.X - a.X, dy = b.Y - a.Y, len2 = dx * dx + dy * dy, len = Math.Sqrt(len2), reach = r + 0.5;
        double left = Math.Min(a.X, b.X) - reach, right = Math.Max(a.X, b.X) + reach;
        int j0 = Clamp(Math.Min(a.Y, b.Y) - reach, Height), j1 = Clamp(Math.Max(a.Y, b.Y) + reach + 1, Height);
        for (int j = j0; j < j1; j++)
        {
            double cy = j + 0.5, from = left, to = right;
            // only the pixels of this row near the line through a and b: |(x − a.x)·dy − (cy − a.y)·dx| ≤ reach·len
            if (Math.Abs(dy) * 64 > len)
            {
                double mid = a.X + (cy - a.Y) * dx / dy, half = reach * len / Math.Abs(dy);
                from = Math.Max(from, mid - half);
                to = Math.Min(to, mid + half);
            }
            for (int i = Clamp(from - 0.5, Width); i < Clamp(to + 0.5, Width); i++)
            {
                double px = i + 0.5 - a.X, py = cy - a.Y;
                double t = len2 > 0 ? Math.Clamp((px * dx + py * dy) / len2, 0, 1) : 0;
                double ex = px - t * dx, ey = py - t * dy;
                double coverage = Math.Clamp(reach - Math.Sqrt(ex * ex + ey * ey), 0, 1);
                ref float m = ref _mask[j * Width + i];
                if (coverage > m) m = (float)coverage;
            }
        }
    }

    public void Text(string text, double x, double y, TextStyle style, Rgb color, TextAnchor anchor, bool vertical = false)
    {
        var font = GlyphAtlas.For(style);
        double pen = -font.Measure(text) * anchor switch { TextAnchor.Start => 0, TextAnchor.Middle => 0.5, _ => 1 };
        int ox = (int)Math.Round(x), oy = (int)Math.Round(y);
        foreach (char c in text)
        {
            var g = font[c];
            int u0 = (int)Math.Round(pen) + g.Left;
            for (int r = 0; r < g.Height; r++)
                for (int col = 0; col < g.Width; col++)
                {
                    // along the baseline u, below it v; vertical text turns (u, v) a quarter turn anticlockwise
                    int u = u0 + col, v = r - g.Top;
                    int px = vertical ? ox + v : ox + u, py = vertical ? oy - u - 1 : oy + v;
                    if ((uint)px < (uint)Width && (uint)py < (uint)Height) Blend(py * Width + px, color, g.Coverage[r * g.Width + col] / 255.0);
                }
            pen += g.Advance;
        }
    }

    public void BeginGroup(string name) { }

    public void EndGroup() { }

    private void Blend(int pixel, Rgb color, double coverage)
    {
        int a = (int)(coverage * 255 + 0.5), at = pixel * 3;
        if (a <= 0) return;
        if (a >= 255)
        {
            (_rgb[at], _rgb[at + 1], _rgb[at + 2]) = (color.R, color.G, color.B);
            return;
        }
        _rgb[at] = Mix(_rgb[at], color.R, a);
        _rgb[at + 1] = Mix(_rgb[at + 1], color.G, a);
        _rgb[at + 2] = Mix(_rgb[at + 2], color.B, a);
    }

    private static byte Mix(byte under, byte over, int a) => (byte)((over * a + under * (255 - a) + 127) / 255);

    private static int Clamp(double v, int size) => (int)Math.Clamp(Math.Floor(v), 0, size);
}
