using System.Globalization;
using System.Text;

namespace Nabla.IO;

/// <summary>
/// Quotes a value read from a file in an error message: on one line and at most <see cref="MaxQuoted"/> characters, so
/// a damaged or hostile file (a 20,000-line metadata value) cannot turn an error into pages of text.
/// </summary>
internal static class Untrusted
{
    public const int MaxQuoted = 80;

    /// <summary><c>'value'</c> with control characters escaped (<c>\n</c>, <c>\u0000</c>), cut at <see cref="MaxQuoted"/> characters with "…" and the full length.</summary>
    public static string Quote(string? value) => value is null ? "(absent)" : "'" + Excerpt(value, MaxQuoted, "'");

    /// <summary>
    /// <paramref name="text"/> on one line (control characters escaped), cut at <paramref name="max"/> characters with
    /// "…" and the full length: for a message built by other code around a file's values. <paramref name="close"/> ends
    /// the excerpt itself (the closing quote of <see cref="Quote"/>).
    /// </summary>
    public static string Excerpt(string text, int max, string close = "")
    {
        var sb = new StringBuilder();
        int shown = 0;
        foreach (char ch in text)
        {
            if (shown == max) break;
            if (ch == '\n') sb.Append("\\n");
            else if (ch == '\r') sb.Append("\\r");
            else if (char.IsControl(ch)) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:x4}");
            else sb.Append(ch);
            shown++;
        }
        return shown < text.Length ? sb.Append('…').Append(close).Append(CultureInfo.InvariantCulture, $" ({text.Length:N0} characters)").ToString() : sb.Append(close).ToString();
    }
}
