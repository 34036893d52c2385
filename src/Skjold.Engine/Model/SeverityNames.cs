using System.Diagnostics.CodeAnalysis;

namespace Skjold.Engine.Model;

/// <summary>Lower-case names of severities as they appear in config, flags and output.</summary>
public static class SeverityNames
{
    public static string ToName(this Severity severity) => severity switch
    {
        Severity.Info => "info",
        Severity.Low => "low",
        Severity.Medium => "medium",
        Severity.High => "high",
        Severity.Critical => "critical",
        _ => throw new ArgumentOutOfRangeException(nameof(severity)),
    };

    public static bool TryParse(string? text, [NotNullWhen(true)] out Severity? severity)
    {
        severity = text?.Trim().ToLowerInvariant() switch
        {
            "info" => Severity.Info,
            "low" => Severity.Low,
            "medium" => Severity.Medium,
            "high" => Severity.High,
            "critical" => Severity.Critical,
            _ => null,
        };
        return severity is not null;
    }

    /// <summary>A comma-separated list of severities (critical,high); false with the first name that is not one.</summary>
    public static bool TryParseList(string text, out HashSet<Severity> severities, out string? unknown)
    {
        severities = [];
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryParse(name, out var s))
            {
                unknown = name;
                return false;
            }

            severities.Add(s.Value);
        }

        unknown = null;
        return true;
    }

    public const string AllowedList = "info, low, medium, high, critical";
}
