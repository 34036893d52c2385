using System.Text.Json;

namespace Skjold.Incidents;

/// <summary>A detection rule whose alerts open an incident of a type (incidents.autoOpen in skjold.yaml).</summary>
public sealed record AutoOpenRule(string Rule, IncidentType Type);

/// <summary>
/// Opens incidents from alerts, for the rules configured to: the target comes from the audit event the rule fired
/// on (the pod, the secret, the identity, the node), awareness is the alert's time, and the incident-open event is
/// sealed in the same append as the alert. Opening only: no runbook step runs by itself. One incident per rule and
/// target while the process runs (a burst of alerts does not open a burst of incidents).
/// </summary>
public sealed class AutoOpen(IReadOnlyList<AutoOpenRule> rules)
{
    private readonly HashSet<string> _opened = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public IReadOnlyList<AutoOpenRule> Rules => rules;

    /// <summary>The incident-open record for this alert, or null (no rule configured, no target in the event, or already opened).</summary>
    public (string Verb, string Message, IReadOnlyDictionary<string, string> Fields)? OnAlert(string rule, string priority, string alertId, JsonElement audit, DateTimeOffset now)
    {
        var match = rules.FirstOrDefault(r => r.Rule == rule);
        if (match is null || Target(match.Type, audit) is not { } target)
        {
            return null;
        }

        lock (_lock)
        {
            if (!_opened.Add($"{rule}|{target}"))
            {
                return null;
            }
        }

        var id = IncidentJournal.NewId(now);
        var severity = priority.ToUpperInvariant() switch
        {
            "EMERGENCY" or "ALERT" or "CRITICAL" => "critical",
            "ERROR" => "high",
            "WARNING" => "medium",
            _ => "low",
        };
        var fields = IncidentEvents.Opened(id, match.Type, [target], severity, now, "unassigned", "skjold:detection", new PersonalDataAssessment(null, null));
        fields[IncidentEvents.Prefix + "opened-by-alert"] = alertId;
        fields[IncidentEvents.Prefix + "opened-by-rule"] = rule;
        return (IncidentEvents.Open, $"incident {id} opened by alert {alertId} ({rule})", fields);
    }

    internal static IncidentTarget? Target(IncidentType type, JsonElement audit)
    {
        var obj = audit.TryGetProperty("objectRef", out var o) && o.ValueKind == JsonValueKind.Object ? o : default;
        string? S(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var user = audit.TryGetProperty("user", out var u) ? S(u, "username") : null;
        switch (type)
        {
            case IncidentType.PodCompromise when S(obj, "resource") == "pods" && S(obj, "namespace") is { } ns && S(obj, "name") is { } pod:
                return new IncidentTarget("pod", ns, pod);
            case IncidentType.SecretExposed when S(obj, "resource") == "secrets" && S(obj, "namespace") is { } ns && S(obj, "name") is { } secret:
                return new IncidentTarget("secret", ns, secret);
            case IncidentType.NodeCompromise when S(obj, "resource") == "nodes" && S(obj, "name") is { } node:
                return new IncidentTarget("node", null, node);
            case IncidentType.NodeCompromise when user is not null && user.StartsWith("system:node:", StringComparison.Ordinal):
                return new IncidentTarget("node", null, user["system:node:".Length..]);
            case IncidentType.UnauthorizedAccess when user is not null && user.StartsWith("system:serviceaccount:", StringComparison.Ordinal):
                var parts = user.Split(':');
                return parts.Length == 4 ? new IncidentTarget("serviceaccount", parts[2], parts[3]) : null;
            case IncidentType.UnauthorizedAccess when user is not null:
                return new IncidentTarget("user", null, user);
            default:
                return null;
        }
    }
}
