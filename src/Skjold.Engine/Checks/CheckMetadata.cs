using Skjold.Engine.Model;

namespace Skjold.Engine.Checks;

/// <summary>What Skjold says about a check: loaded from the check catalog data file.</summary>
public sealed record CheckMetadata(
    string Id,
    string Title,
    Severity Severity,
    string Category,
    string Description,
    string Remediation,
    bool DefaultEnabled,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Controls);
