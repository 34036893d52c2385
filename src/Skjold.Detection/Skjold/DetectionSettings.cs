using System.Net;
using Skjold.Engine.Model;

namespace Skjold.Detection.Skjold;

/// <summary>A threshold over time: at least <see cref="Count"/> within <see cref="Within"/>.</summary>
public sealed record Threshold(int Count, TimeSpan Within);

/// <summary>
/// An alert that is expected and accepted: rule, who (user globs), where (namespace globs) and from
/// where (source ranges), why, and until when. Any of users, namespaces and source ranges left out
/// matches everything; an expired exception no longer applies.
/// </summary>
public sealed record DetectionException(string Rule, IReadOnlyList<string> Users, IReadOnlyList<string> Namespaces, IReadOnlyList<IPNetwork> SourceRanges,
    string Reason, DateTimeOffset? Expires, SourceLocation At);

/// <summary>The <c>detection:</c> section of skjold.yaml: Skjold's own detections, their thresholds and lists, and exceptions.</summary>
public sealed record DetectionSettings
{
    public static DetectionSettings Default { get; } = new();

    /// <summary>Whether Skjold's own detections run (the shipped rule file and the stateful rules).</summary>
    public bool Builtin { get; init; } = true;

    /// <summary>Rules switched off by name (Skjold's or a rule file's).</summary>
    public IReadOnlyList<string> Disabled { get; init; } = [];

    /// <summary>One identity reading Secrets in more than <c>Count</c> namespaces within the window.</summary>
    public Threshold SecretsAcrossNamespaces { get; init; } = new(3, TimeSpan.FromMinutes(10));

    /// <summary>One identity refused (401/403) at least <c>Count</c> times within the window.</summary>
    public Threshold Probing { get; init; } = new(10, TimeSpan.FromMinutes(5));

    /// <summary>How long after a new (Cluster)RoleBinding its subject's use of the new permission is reported.</summary>
    public TimeSpan NewBindingUsedWithin { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Where service-account tokens are expected to be used from (pod and node ranges); empty: not checked.</summary>
    public IReadOnlyList<IPNetwork> ClusterCidrs { get; init; } = [];

    /// <summary>Where any request may come from (data residency, office and VPN ranges); empty: not checked.</summary>
    public IReadOnlyList<IPNetwork> AllowedSourceRanges { get; init; } = [];

    /// <summary>Namespaces (globs) treated as production, besides those whose labels match <see cref="ProductionLabels"/>.</summary>
    public IReadOnlyList<string> ProductionNamespaces { get; init; } = ["production", "prod", "prod-*"];

    /// <summary>Labels (all of them) that mark a namespace as production, looked up in the cluster where the host can.</summary>
    public IReadOnlyDictionary<string, string> ProductionLabels { get; init; } = new Dictionary<string, string>();

    /// <summary>Skjold's own namespaces (changes there by anyone but Skjold are reported).</summary>
    public IReadOnlyList<string> SkjoldNamespaces { get; init; } = ["skjold-system"];

    public IReadOnlyList<DetectionException> Exceptions { get; init; } = [];

    /// <summary>Where the settings came from (for messages).</summary>
    public string? Source { get; init; }
}
