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
    public static string Quote(string? value)
    {
        if (value is null) return "(absent)";
        var sb = new StringBuilder("'");
        int shown = 0;
        foreach (char ch in value)
        {
            if (shown == MaxQuoted) break;
            if (ch == '\n') sb.Append("\\n");
            else if (ch == '\r') sb.Append("\\r");
            else if (char.IsControl(ch)) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)ch:x4}");
            else sb.Append(ch);
            shown++;
        }
        sb.Append('\'');
        if (shown < value.Length) sb.Insert(sb.Length - 1, '…').Append(CultureInfo.InvariantCulture, $" ({value.Length:N0} characters)");
        return sb.ToString();
    }
}
