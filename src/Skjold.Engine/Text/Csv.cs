using System.Globalization;

namespace Skjold.Engine.Text;

/// <summary>CSV (RFC 4180) fields for every CSV output Skjold writes (reports, audit queries, network maps).</summary>
public static class Csv
{
    /// <summary>
    /// The field as is, or quoted with inner quotes doubled when it holds a comma, quote or line
    /// break. A field a spreadsheet would run as a formula (starting with =, +, @, a tab or a
    /// carriage return, or - when it is not a number) gets a leading apostrophe first: audit user
    /// names, object names and messages come from whoever calls the API, and an exported trail is
    /// opened in spreadsheets (OWASP's advice on CSV injection).
    /// </summary>
    public static string Field(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (s.Length > 0 && (s[0] is '=' or '+' or '@' or '\t' or '\r' || (s[0] == '-' && s.Length > 1 && !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _))))
        {
            s = "'" + s;
        }

        return s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
    }
}
