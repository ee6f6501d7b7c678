using Nabla.NN;

namespace Nabla.Training;

/// <summary>
/// Draws sample predictions as one RGB image for <see cref="TensorBoardLogger"/>: a near-square grid of cells, each
/// the sample at twice its size (grey, its own minimum black and maximum white) over a strip with the predicted
/// class in a 3x5 pixel font, green when right, red when wrong followed by the true class in grey.
/// </summary>
internal static class PredictionGrid
{
    private const int Scale = 2, Pad = 2, Strip = 5 * Scale + 2 * Pad;

    // digits 0-9, five rows of three bits each, top row first
    private static readonly int[] s_font =
    [
        0b111_101_101_101_111, 0b010_110_010_010_111, 0b111_001_111_100_111, 0b111_001_111_001_111, 0b101_101_111_001_001,
        0b111_100_111_001_111, 0b111_100_111_101_111, 0b111_001_001_001_001, 0b111_101_111_101_111, 0b111_101_111_001_111,
    ];

    private static readonly byte[] s_right = [40, 200, 70], s_wrong = [230, 50, 40], s_truth = [170, 170, 170];

    /// <summary>The grid (rows x cols x 3 bytes) of the model's predictions on <paramref name="inputs"/>. Shape: inputs (N, ...), targets (N).</summary>
    public static byte[] Draw(Module model, Tensor inputs, Tensor targets, int height, int width, out int rows, out int cols)
    {
        int n = inputs.Size(0);
        float[] predicted;
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using (Tensor.NoGrad()) predicted = model.Call(inputs).ArgMax(1).ToArray();
        }
        finally
        {
            model.Train(wasTraining);
        }
        var pixels = inputs.ToArray();
        var truth = targets.ToArray();
        int gridCols = (int)Math.Ceiling(Math.Sqrt(n)), gridRows = (n + gridCols - 1) / gridCols;
        int cellW = width * Scale + 2 * Pad, cellH = height * Scale + 2 * Pad + Strip;
        (rows, cols) = (gridRows * cellH, gridCols * cellW);
        var rgb = new byte[rows * cols * 3];
        for (int s = 0; s < n; s++)
        {
            int top = s / gridCols * cellH + Pad, left = s % gridCols * cellW + Pad;
            var image = pixels.AsSpan(s * height * width, height * width);
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (float v in image) (lo, hi) = (Math.Min(lo, v), Math.Max(hi, v));
            for (int r = 0; r < height * Scale; r++)
                for (int c = 0; c < width * Scale; c++)
                {
                    float v = image[r / Scale * width + c / Scale];
                    byte g = (byte)(hi > lo && float.IsFinite(v) ? Math.Round(255 * (v - lo) / (hi - lo)) : 0);
                    Fill(rgb, cols, top + r, left + c, 1, [g, g, g]);
                }
            int p = (int)predicted[s], t = (int)truth[s];
            int x = Text(rgb, cols, top + height * Scale + Pad, left, p, p == t ? s_right : s_wrong);
            if (p != t) Text(rgb, cols, top + height * Scale + Pad, x + 2 * Scale, t, s_truth);
        }
        return rgb;
    }

    /// <summary>Writes <paramref name="value"/> in decimal from (<paramref name="top"/>, <paramref name="left"/>); returns the column after it.</summary>
    private static int Text(byte[] rgb, int cols, int top, int left, int value, byte[] colour)
    {
        foreach (char ch in value.ToString(System.Globalization.CultureInfo.InvariantCulture))
        {
            if (ch is < '0' or > '9') continue; // a minus sign: class indices are not negative
            int glyph = s_font[ch - '0'];
            for (int r = 0; r < 5; r++)
                for (int c = 0; c < 3; c++)
                    if ((glyph >> (14 - 3 * r - c) & 1) != 0) Fill(rgb, cols, top + r * Scale, left + c * Scale, Scale, colour);
            left += 4 * Scale;
        }
        return left;
    }

    private static void Fill(byte[] rgb, int cols, int top, int left, int size, ReadOnlySpan<byte> colour)
    {
        for (int r = top; r < top + size; r++)
            for (int c = left; c < left + size; c++)
            {
                if (c >= cols || (long)(r * cols + c) * 3 + 2 >= rgb.Length) continue;
                colour.CopyTo(rgb.AsSpan((r * cols + c) * 3, 3));
            }
    }
}
