namespace Nabla.Cli.Plotting;

/// <summary>One curve of a chart: y over x, in one colour; non-finite points are left out.</summary>
internal sealed record Series(string Label, double[] X, double[] Y, Rgb Color);

/// <summary>
/// A line chart of 800x500 pixels: title, axes with nice ticks and a grid, axis labels, the series with markers when
/// they have at most 40 points, and, for several series, a legend placed where it covers no data (the plot area grows
/// headroom above the data when no place inside is free).
/// </summary>
internal sealed class Chart(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool integerX)
{
    public const int Width = 800, Height = 500;
    public const double LineWidth = 2, MarkerRadius = 3.25;
    private const int Top = 46, Bottom = Height - 56, Right = Width - 24, YLabelBaseline = 22;

    /// <summary>matplotlib's first colours (tab:blue, tab:orange, tab:green).</summary>
    public static readonly Rgb[] Palette = [new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c)];

    public static readonly Rgb Ink = new(0x22, 0x22, 0x22), Frame = new(0x55, 0x55, 0x55), Grid = new(0xe6, 0xe6, 0xe6);

    private readonly (double X, double Y)[][] _points = series
        .Select(s => s.X.Zip(s.Y).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToArray()).ToArray();

    private bool Markers => _points.All(p => p.Length <= 40);

    public void Draw(ICanvas canvas)
    {
        var (xlo, xhi) = Range(_points.SelectMany(p => p).Select(p => p.X), integerX ? 0.5 : 0, 0.03);
        var (ylo, yhi) = Range(_points.SelectMany(p => p).Select(p => p.Y), 0, 0.06);
        var layout = new Layout(xlo, xhi, ylo, yhi, 0, integerX);
        Legend? legend = series.Count > 1 ? new Legend(series, Markers) : null;
        (double X, double Y) legendAt = default;
        if (legend is not null)
        {
            double clearance = MarkerRadius + LineWidth;
            var place = legend.Place(layout.Area, Pixels(layout), clearance);
            if (place.Points > 0 || place.Segments > 0)
            {
                // room above the data for the legend in an upper corner
                layout = new Layout(xlo, xhi, ylo, yhi, Legend.Margin + legend.Height + clearance + 4, integerX);
                place = legend.Place(layout.Area, Pixels(layout), clearance);
            }
            legendAt = (place.X, place.Y);
        }

        var area = layout.Area;
        canvas.BeginGroup("grid");
        foreach (double v in layout.XTicks) canvas.FillRect(Math.Floor(layout.PixelX(v)), area.Y, 1, area.Height, Grid);
        foreach (double v in layout.YTicks) canvas.FillRect(area.X, Math.Floor(layout.PixelY(v)), area.Width, 1, Grid);
        canvas.EndGroup();
        var pixels = Pixels(layout);
        for (int i = 0; i < series.Count; i++) canvas.Series(pixels[i], LineWidth, Markers ? MarkerRadius : 0, series[i].Color, series[i].Label);
        canvas.BeginGroup("frame");
        canvas.FillRect(area.X - 1, area.Y - 1, area.Width + 2, 1, Frame);
        canvas.FillRect(area.X - 1, area.Bottom, area.Width + 2, 1, Frame);
        canvas.FillRect(area.X - 1, area.Y, 1, area.Height, Frame);
        canvas.FillRect(area.Right, area.Y, 1, area.Height, Frame);
        canvas.EndGroup();

        var small = GlyphAtlas.For(TextStyle.Small);
        canvas.BeginGroup("x-ticks");
        for (int i = 0; i < layout.XTicks.Length; i++)
        {
            double x = Math.Floor(layout.PixelX(layout.XTicks[i]));
            canvas.FillRect(x, area.Bottom + 1, 1, 5, Frame);
            canvas.Text(layout.XLabels[i], x + 0.5, area.Bottom + 10 + small.Ascent, TextStyle.Small, Ink, TextAnchor.Middle);
        }
        canvas.EndGroup();
        canvas.BeginGroup("y-ticks");
        for (int i = 0; i < layout.YTicks.Length; i++)
        {
            double y = Math.Floor(layout.PixelY(layout.YTicks[i]));
            canvas.FillRect(area.X - 6, y, 5, 1, Frame);
            canvas.Text(layout.YLabels[i], area.X - 9, y + 0.5 + small['0'].Top / 2.0, TextStyle.Small, Ink, TextAnchor.End);
        }
        canvas.EndGroup();
        canvas.BeginGroup("labels");
        canvas.Text(xLabel, area.X + area.Width / 2, Height - 12, TextStyle.Label, Ink, TextAnchor.Middle);
        canvas.Text(yLabel, YLabelBaseline, area.Y + area.Height / 2, TextStyle.Label, Ink, TextAnchor.Middle, vertical: true);
        canvas.EndGroup();
        canvas.BeginGroup("title");
        canvas.Text(title, area.X + area.Width / 2, 30, TextStyle.Title, Ink, TextAnchor.Middle);
        canvas.EndGroup();
        legend?.Draw(canvas, legendAt.X, legendAt.Y);
    }

    private (double X, double Y)[][] Pixels(Layout layout) =>
        _points.Select(p => p.Select(q => (layout.PixelX(q.X), layout.PixelY(q.Y))).ToArray()).ToArray();

    // The data's range with a margin of `fraction` of it (at least `minPad`); a single value gets ±10% (or ±1 at 0)
    private static (double Lo, double Hi) Range(IEnumerable<double> values, double minPad, double fraction)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double v in values) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        if (lo > hi) return (0, 1);
        double pad = Math.Max(minPad, (hi - lo) * fraction);
        if (hi - lo <= 1e-12 * Math.Max(1, Math.Abs(hi))) pad = Math.Max(pad, hi == 0 ? 1 : Math.Abs(hi) * 0.1);
        return (lo - pad, hi + pad);
    }

    /// <summary>Where the axes go: the plot area, the ticks, and the mapping from data to pixels.</summary>
    private sealed class Layout
    {
        private readonly double _xlo, _xhi, _ylo, _yhi, _headroom;

        public Layout(double xlo, double xhi, double ylo, double yhi, double headroom, bool integerX)
        {
            (_xlo, _xhi, _ylo, _yhi, _headroom) = (xlo, xhi, ylo, yhi, headroom);
            var small = GlyphAtlas.For(TextStyle.Small);
            double plotHeight = Bottom - Top;
            double top = ylo + (yhi - ylo) * plotHeight / (plotHeight - headroom);
            (YTicks, YLabels) = Ticks.Nice(ylo, top, (int)(plotHeight / 40), integers: false);
            double labelWidth = YLabels.Max(small.Measure);
            double left = Math.Ceiling(YLabelBaseline + GlyphAtlas.For(TextStyle.Label).Descent + 10 + labelWidth + 9);
            Area = new Rect(left, Top, Right - left, plotHeight);
            (XTicks, XLabels) = Ticks.Nice(xlo, xhi, (int)(Area.Width / 60), integerX);
        }

        public Rect Area { get; }

        public double[] XTicks { get; }

        public string[] XLabels { get; }

        public double[] YTicks { get; }

        public string[] YLabels { get; }

        public double PixelX(double x) => Area.X + (x - _xlo) / (_xhi - _xlo) * Area.Width;

        public double PixelY(double y) => Area.Bottom - (y - _ylo) / (_yhi - _ylo) * (Area.Height - _headroom);
    }
}
