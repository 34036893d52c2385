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
    IReadOnlyDictionary<string, IReadOnlyList<string>> Controls)
{
    /// <summary>Reads any object: the check runs on every non-empty input.</summary>
    public const string AnyKind = "*";

    /// <summary>Runs on nodes: its results come from skjold node-check, not from the objects scanned.</summary>
    public const string NodeCheck = "node-check";

    /// <summary>
    /// The kinds the check reads (group names expanded): it counts as evaluated on an input that
    /// holds any of them. <see cref="AnyKind"/> for every object; empty when only <see cref="Requires"/> decides.
    /// </summary>
    public IReadOnlyList<string> Reads { get; init; } = [];

    /// <summary>What the policy must provide for the check to run (see <see cref="Requirements"/>).</summary>
    public IReadOnlyList<string> Requires { get; init; } = [];
}

/// <summary>The policy requirements a check can declare with <c>requires:</c> in checks.yaml.</summary>
public static class Requirements
{
    /// <summary>The configuration has exemptions.</summary>
    public const string Exemptions = "exemptions";

    /// <summary>The configuration lists trusted registries.</summary>
    public const string TrustedRegistries = "trusted-registries";

    /// <summary>The configuration lists data destinations.</summary>
    public const string DataDestinations = "data-destinations";

    /// <summary>The Pod Security level and version select the check.</summary>
    public const string PssLevel = "pss-level";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Exemptions, TrustedRegistries, DataDestinations, PssLevel };
}
