using System.Globalization;
using Skjold.Engine.Compliance;

namespace Skjold.Reports.Compliance;

/// <summary>Dates as every compliance format writes them.</summary>
internal static class ComplianceText
{
    public static DateOnly Today(ComplianceReport r) => DateOnly.FromDateTime(r.GeneratedAt.UtcDateTime);

    public static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    public static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";

    public static string Join(IEnumerable<(string Control, string Before, string After)> changes)
    {
        var list = changes.Select(c => $"{c.Control} ({c.Before} → {c.After})").ToList();
        return list.Count == 0 ? "none" : string.Join(", ", list);
    }
}
