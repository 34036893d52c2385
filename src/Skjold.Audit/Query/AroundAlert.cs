using System.Globalization;
using System.Text.Json;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Query;

/// <summary>
/// "What did this identity do around the time the alert fired": finds a sealed alert by its id
/// (<c>detection-alert</c> from Skjold's rules, <c>falco-alert</c> from Falco) and builds the question
/// for a window around it. For a rule on an audit event the subject is the user of that event; for
/// a Falco alert naming a pod it is the pod's service account (requests whose bound token names the
/// pod, as Kubernetes records in <c>user.extra["authentication.kubernetes.io/pod-name"]</c>) and the
/// requests made on the pod itself (exec, attach, delete...).
/// </summary>
public static class AroundAlert
{
    public const string DetectionVerb = "detection-alert";
    public const string FalcoVerb = "falco-alert";
    private const string Prefix = "skjold.io/";

    /// <summary>The alert found and the question about its window.</summary>
    public sealed record Resolution(long AlertLeaf, string Rule, DateTimeOffset Time, string Subject, AuditQuery Query, Func<JsonElement, bool> Matches);

    /// <summary>Resolves <paramref name="alertId"/> (the full id, or a unique prefix of at least 8 characters); throws <see cref="KeyNotFoundException"/> with a message otherwise.</summary>
    public static async Task<Resolution> ResolveAsync(ConfirmedQuery confirmed, AuditQuery filters, string alertId, TimeSpan window, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(confirmed);
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(alertId);
        var id = alertId.Trim().ToLowerInvariant();
        if (id.Length < 8)
        {
            throw new KeyNotFoundException($"alert id '{alertId}' is too short: give at least 8 characters of the id the SIEM shows");
        }

        var alerts = await confirmed.RunAsync(new AuditQuery { Verbs = [DetectionVerb, FalcoVerb], Limit = int.MaxValue - 1 }, payloads: true, ct).ConfigureAwait(false);
        var found = new List<(long Leaf, string Verb, Dictionary<string, string> Details)>();
        foreach (var (record, payload) in alerts.Rows)
        {
            if (payload is null)
            {
                continue; // purged
            }

            var details = Annotations(payload);
            if (details.TryGetValue(Prefix + "alert-id", out var aid) && aid.StartsWith(id, StringComparison.Ordinal))
            {
                found.Add((record.Index, record.Verb!, details));
            }
        }

        if (found.Select(f => f.Details[Prefix + "alert-id"]).Distinct(StringComparer.Ordinal).Count() > 1)
        {
            throw new KeyNotFoundException($"alert id '{alertId}' matches {found.Count} alerts; give more of the id");
        }

        if (found.Count == 0)
        {
            throw new KeyNotFoundException($"no alert with id '{alertId}' is sealed in this trail (ids are in the SIEM's message: skjold@... id=, CEF externalId, Alertmanager label alert_id)");
        }

        var (leaf, verb, d) = found[0];
        var rule = d.GetValueOrDefault(Prefix + "rule", "?");
        if (verb == DetectionVerb && d.TryGetValue(Prefix + "leaf", out var leafText) && long.TryParse(leafText, NumberStyles.None, CultureInfo.InvariantCulture, out var eventLeaf))
        {
            var source = await confirmed.RunAsync(new AuditQuery { FromIndex = eventLeaf, ToIndex = eventLeaf + 1, Limit = 1 }, payloads: false, ct).ConfigureAwait(false);
            var ev = source.Rows.Count == 1 ? source.Rows[0].Record : throw new KeyNotFoundException($"the event behind alert {alertId} (leaf {eventLeaf}) is not in the trail");
            if (ev.Username is null)
            {
                throw new KeyNotFoundException($"the event behind alert {alertId} (leaf {eventLeaf}) names no user (purged?)");
            }

            return new Resolution(leaf, rule, ev.Time, $"user {ev.Username}", Window(filters, ev.Time, window) with { User = ev.Username }, _ => true);
        }

        var time = d.TryGetValue(Prefix + "time", out var t) && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed
            : alerts.Rows.First(r => r.Record.Index == leaf).Record.Time;
        if (d.TryGetValue(Prefix + "falco-user", out var user))
        {
            return new Resolution(leaf, rule, time, $"user {user}", Window(filters, time, window) with { User = user }, _ => true);
        }

        if (d.TryGetValue(Prefix + "falco-namespace", out var ns) && d.TryGetValue(Prefix + "falco-pod", out var pod))
        {
            var accountPrefix = $"system:serviceaccount:{ns}:";
            return new Resolution(leaf, rule, time, $"the service account of pod {ns}/{pod}, and requests on the pod", Window(filters, time, window), e => ByPod(e, accountPrefix, ns, pod));
        }

        throw new KeyNotFoundException($"alert {alertId} ({rule}) names no user and no pod to follow");
    }

    private static AuditQuery Window(AuditQuery q, DateTimeOffset at, TimeSpan window) => q with { Since = at - window, Until = at + window, Limit = q.Limit };

    /// <summary>A request made with a token bound to the pod, or on the pod itself.</summary>
    internal static bool ByPod(JsonElement e, string accountPrefix, string ns, string pod)
    {
        if (e.TryGetProperty("objectRef", out var o) && o.ValueKind == JsonValueKind.Object
            && Str(o, "resource") == "pods" && Str(o, "namespace") == ns && Str(o, "name") == pod)
        {
            return true;
        }

        if (!e.TryGetProperty("user", out var u) || u.ValueKind != JsonValueKind.Object || Str(u, "username") is not { } name || !name.StartsWith(accountPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        return u.TryGetProperty("extra", out var extra) && extra.ValueKind == JsonValueKind.Object
            && extra.TryGetProperty("authentication.kubernetes.io/pod-name", out var names) && names.ValueKind == JsonValueKind.Array
            && names.EnumerateArray().Any(n => n.ValueKind == JsonValueKind.String && n.GetString() == pod);
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Dictionary<string, string> Annotations(byte[] payload)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var doc = JsonDocument.Parse(payload);
        if (doc.RootElement.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in a.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.String)
                {
                    result[p.Name] = p.Value.GetString()!;
                }
            }
        }

        return result;
    }
}
