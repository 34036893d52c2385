using Skjold.Engine.Model;

namespace Skjold.Engine.Admission;

/// <summary>
/// The outcome of one admission request: allowed or denied (with message and HTTP-style code),
/// short warnings for the client, audit annotations, the findings behind it, and for mutation the
/// JSON Patch with a description of each change.
/// </summary>
public sealed record AdmissionVerdict(
    bool Allowed,
    string Decision,
    string? Message,
    IReadOnlyList<string> Warnings,
    IReadOnlyDictionary<string, string> AuditAnnotations,
    IReadOnlyList<Finding> Findings)
{
    public const string DecisionAllow = "allow";
    public const string DecisionDeny = "deny";
    public const string DecisionWarn = "warn";
    public const string DecisionExempt = "exempt";
    public const string DecisionIgnored = "ignored";
    public const string DecisionUnchanged = "unchanged";
    public const string DecisionMutate = "mutate";

    public int Code => Allowed ? 200 : 403;

    /// <summary>RFC 6902 JSON Patch (UTF-8 JSON) for mutation responses; null when nothing changes.</summary>
    public byte[]? Patch { get; init; }

    public IReadOnlyList<string> Mutations { get; init; } = [];

    /// <summary>
    /// Each violated check with its own action: the Pod Security mode that found it (enforce, warn,
    /// audit) or the action configured for a Skjold check (deny, warn, audit).
    /// </summary>
    public IReadOnlyList<(string CheckId, string Mode)> Violations { get; init; } = [];

    public static AdmissionVerdict Allow(string decision, IReadOnlyDictionary<string, string>? annotations = null) =>
        new(true, decision, null, [], annotations ?? new Dictionary<string, string>(), []);
}
