namespace Nabla.Cli.Plotting;

/// <summary>The legend box: its size, a place inside the plot area that covers no data, and its drawing.</summary>
internal sealed class Legend
{
    private const double Padding = 8, Sample = 26, Gap = 6, RowHeight = 18;

    /// <summary>Pixels between the box and the plot area's edge.</summary>
    public const double Margin = 10;

    private readonly IReadOnlyList<Series> _series;
    private readonly bool _markers;

    public Legend(IReadOnlyList<Series> series, bool markers)
    {
        _series = series;
        _markers = markers;
        var font = GlyphAtlas.For(TextStyle.Small);
        Width = Math.Ceiling(2 * Padding + Sample + Gap + series.Max(s => font.Measure(s.Label)));
        Height = 2 * Padding + RowHeight * series.Count - (RowHeight - font.Ascent - font.Descent);
    }

    public double Width { get; }

    public double Height { get; }

    /// <summary>
    /// The candidate place (the four corners, then the middles of the edges) with the fewest data points under it,
    /// then the fewest line segments through it; a point counts within <paramref name="clearance"/> pixels of the box.
    /// </summary>
    public (double X, double Y, int Points, int Segments) Place(Rect area, IReadOnlyList<(double X, double Y)[]> curves, double clearance)
    {
        double l = area.X + Margin, r = area.Right - Margin - Width, cx = area.X + (area.Width - Width) / 2;
        double t = area.Y + Margin, b = area.Bottom - Margin - Height, cy = area.Y + (area.Height - Height) / 2;
        (double X, double Y)[] candidates = [(r, t), (l, t), (r, b), (l, b), (cx, t), (cx, b), (r, cy), (l, cy)];
        (double X, double Y, int Points, int Segments) best = (r, t, int.MaxValue, int.MaxValue);
        foreach (var (x, y) in candidates)
        {
            var box = new Rect(x - clearance, y - clearance, Width + 2 * clearance, Height + 2 * clearance);
            int points = 0, segments = 0;
            foreach (var curve in curves)
            {
                for (int i = 0; i < curve.Length; i++)
                {
                    if (box.Contains(curve[i])) points++;
                    if (i > 0 && box.Crosses(curve[i - 1], curve[i])) segments++;
                }
            }
            if (points < best.Points || (points == best.Points && segments < best.Segments)) best = (x, y, points, segments);
        }
        return best;
    }

    public void Draw(ICanvas canvas, double x, double y)
    {
        canvas.BeginGroup("legend");
        x = Math.Round(x);
        y = Math.Round(y);
        canvas.FillRect(x, y, Width, Height, Chart.Frame);
        canvas.FillRect(x + 1, y + 1, Width - 2, Height - 2, Rgb.White);
        var font = GlyphAtlas.For(TextStyle.Small);
        for (int i = 0; i < _series.Count; i++)
        {
            double baseline = y + Padding + font.Ascent + i * RowHeight, mid = baseline - font.Ascent / 2.0 + 1;
            var s = _series[i];
            canvas.Series([(x + Padding, mid), (x + Padding + Sample, mid)], Chart.LineWidth, 0, s.Color, label: null);
            if (_markers) canvas.Series([(x + Padding + Sample / 2, mid)], 0, Chart.MarkerRadius, s.Color, label: null);
            canvas.Text(s.Label, x + Padding + Sample + Gap, baseline, TextStyle.Small, Chart.Ink, TextAnchor.Start);
        }
        canvas.EndGroup();
    }
}

/// <summary>An axis-aligned rectangle in pixels.</summary>
internal readonly record struct Rect(double X, double Y, double Width, double Height)
{
    public double Right => X + Width;

    public double Bottom => Y + Height;

    public bool Contains((double X, double Y) p) => p.X >= X && p.X <= Right && p.Y >= Y && p.Y <= Bottom;

    /// <summary>Whether segment ab passes through the rectangle (Liang–Barsky clipping).</summary>
    public bool Crosses((double X, double Y) a, (double X, double Y) b)
    {
        double t0 = 0, t1 = 1, dx = b.X - a.X, dy = b.Y - a.Y;
        foreach (var (p, q) in (ReadOnlySpan<(double, double)>)[(-dx, a.X - X), (dx, Right - a.X), (-dy, a.Y - Y), (dy, Bottom - a.Y)])
        {
            if (p == 0)
            {
                if (q < 0) return false;
                continue;
            }
            double t = q / p;
            if (p < 0) t0 = Math.Max(t0, t);
            else t1 = Math.Min(t1, t);
            if (t0 > t1) return false;
        }
        return true;
    }
}
