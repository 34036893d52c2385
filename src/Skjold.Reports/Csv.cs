namespace Skjold.Reports;

/// <summary>CSV (RFC 4180) fields for every CSV output Skjold writes.</summary>
public static class Csv
{
    /// <summary>The field as is, or quoted with inner quotes doubled when it holds a comma, quote or line break.</summary>
    public static string Field(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : s;
}
