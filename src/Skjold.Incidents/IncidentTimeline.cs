using System.Text.Json;
using Skjold.Audit.Storage;

namespace Skjold.Incidents;

/// <summary>One line of the merged timeline: when, from where (an API request, an alert, the incident itself), its leaf, what.</summary>
public sealed record TimelineItem(DateTimeOffset At, string Source, long Leaf, string Text);

/// <summary>
/// An incident's timeline, merged in time order from the trail: the API requests about its targets (from a
/// window before awareness until now), the Falco and Skjold alerts that name them, and the incident's own
/// changes (notes, actions, decisions). Every line carries the leaf it is sealed at.
/// </summary>
public static class IncidentTimeline
{
    public const int MaxEvents = 5000;

    public static async Task<IReadOnlyList<TimelineItem>> BuildAsync(IAuditStore store, Incident incident, TimeSpan before, CancellationToken ct)
    {
        var items = new List<TimelineItem>();
        var since = incident.AwareAt - before;
        foreach (var query in Queries(incident, since))
        {
            await foreach (var (r, _) in store.QueryAsync(query, false, ct).ConfigureAwait(false))
            {
                if (r.Verb is { } v && (v.StartsWith("incident-", StringComparison.Ordinal) || v == "detection-alert"))
                {
                    continue;
                }

                items.Add(new TimelineItem(r.Time, "api", r.Index,
                    $"{r.Username} {r.Verb} {r.Resource}{(r.Subresource is null ? "" : "/" + r.Subresource)} {(r.Namespace is null ? "" : r.Namespace + "/")}{r.Name} from {r.SourceIp} -> {r.Code}"));
            }
        }

        var names = incident.Targets.Select(t => t.Namespace is null ? t.Name : $"{t.Namespace}/{t.Name}").ToList();
        await foreach (var (r, payload) in store.QueryAsync(new AuditQuery { Verbs = ["detection-alert"], Since = since, Limit = MaxEvents }, true, ct).ConfigureAwait(false))
        {
            if (payload is null)
            {
                continue;
            }

            using var doc = JsonDocument.Parse(payload);
            var a = doc.RootElement.TryGetProperty("annotations", out var ann) ? ann : default;
            var output = a.ValueKind == JsonValueKind.Object && a.TryGetProperty("skjold.io/output", out var o) ? o.GetString() ?? "" : "";
            if (names.Any(n => output.Contains(n, StringComparison.Ordinal)))
            {
                var rule = a.TryGetProperty("skjold.io/rule", out var rn) ? rn.GetString() : "?";
                items.Add(new TimelineItem(r.Time, "alert", r.Index, $"{rule}: {output}"));
            }
        }

        foreach (var e in incident.Timeline)
        {
            items.Add(new TimelineItem(e.At, "incident", e.Leaf, $"{e.Actor}: {e.Text}"));
        }

        return [.. items.DistinctBy(i => i.Leaf).OrderBy(i => i.At).ThenBy(i => i.Leaf)];
    }

    private static IEnumerable<AuditQuery> Queries(Incident incident, DateTimeOffset since)
    {
        foreach (var t in incident.Targets)
        {
            var q = new AuditQuery { Since = since, Limit = MaxEvents };
            yield return t.Kind switch
            {
                "pod" => q with { Resource = "pods", Namespace = t.Namespace, Name = t.Name },
                "secret" => q with { Resource = "secrets", Namespace = t.Namespace, Name = t.Name },
                "node" => q with { Resource = "nodes", Name = t.Name },
                "serviceaccount" => q with { User = $"system:serviceaccount:{t.Namespace}:{t.Name}" },
                "source-ip" => q with { SourceIp = t.Name },
                _ => q with { User = t.Name },
            };
        }
    }
}
