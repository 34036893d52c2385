using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Skjold.Alerts;
using Skjold.Audit;
using Skjold.Detection.Falco;
using Skjold.Detection.Skjold;

namespace Skjold.Server.Detection;

/// <summary>
/// Runs Falco k8s_audit rules on every batch the audit log has made durable (through
/// <see cref="AuditLog.Subscribe"/>, never in the append path) and seals each alert into the same
/// trail as a Skjold event naming the rule, its priority, its output, its id and the leaf it fired
/// on, so an alert is as tamper-evident as the event behind it; then hands the batch's alerts to
/// <paramref name="forward"/> (the alert outbox). Stateful rules measure their windows on <paramref name="time"/>. Skjold's own events are not judged (an alert
/// does not raise alerts). The events are the sealed, redacted payloads: Secret values were
/// removed before the rules see them.
/// </summary>
public sealed class AuditDetector(AuditLog log, DetectionEngine rules, ILogger logger, Action<Alert>? onAlert = null,
    Func<IReadOnlyList<Alert>, CancellationToken, Task>? forward = null, TimeProvider? time = null, Skjold.Incidents.AutoOpen? autoOpen = null) : IAuditLogObserver
{
    /// <summary>The verb of a sealed alert.</summary>
    public const string AlertVerb = "detection-alert";

    private long _alerts;

    /// <summary>Alerts raised so far.</summary>
    public long Alerts => Interlocked.Read(ref _alerts);

    public async ValueTask OnCommittedAsync(CommittedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        List<Alert>? raised = null;
        List<(string, string, IReadOnlyDictionary<string, string>)>? records = null;
        List<(string, string, IReadOnlyDictionary<string, string>)>? incidents = null;
        var now = (time ?? TimeProvider.System).GetUtcNow();
        for (var i = 0; i < batch.Events.Count; i++)
        {
            var leaf = batch.FirstIndex + i;
            if (batch.Events[i].Fields.RequestUri is { } uri && uri.StartsWith("skjold://", StringComparison.Ordinal))
            {
                continue; // Skjold's own records (purges, rotations, alerts), known from the indexed fields without parsing
            }

            using var doc = JsonDocument.Parse(batch.Events[i].Canonical);
            var root = doc.RootElement;

            foreach (var hit in rules.Evaluate(root, now))
            {
                Interlocked.Increment(ref _alerts);
                var alert = FromAudit(hit, root, leaf);
                ServerLog.DetectionAlert(logger, alert.Rule, alert.Priority.ToString(), leaf, alert.Output);
                (records ??= []).Add((AlertVerb, $"{hit.Priority}: {hit.Rule}", new Dictionary<string, string>
                {
                    [Retention.RecordPrefix + "rule"] = hit.Rule,
                    [Retention.RecordPrefix + "priority"] = hit.Priority.ToString(),
                    [Retention.RecordPrefix + "output"] = hit.Output,
                    [Retention.RecordPrefix + "source"] = hit.Source,
                    [Retention.RecordPrefix + "tags"] = string.Join(',', hit.Tags),
                    [Retention.RecordPrefix + "leaf"] = leaf.ToString(CultureInfo.InvariantCulture),
                    [Retention.RecordPrefix + "alert-id"] = alert.Id,
                }));
                (raised ??= []).Add(alert);
                if (autoOpen?.OnAlert(hit.Rule, hit.Priority.ToString(), alert.Id, root, now) is { } open)
                {
                    (incidents ??= []).Add(open); // sealed after the batch's alerts, in the same append
                }
            }
        }

        if (raised is null)
        {
            return;
        }

        // The batch's alerts are sealed together (one durable commit), then queued for the outputs.
        if (incidents is not null)
        {
            records!.AddRange(incidents);
        }

        var sealedAt = await log.RecordSystemEventsAsync(records!, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < raised.Count; i++)
        {
            raised[i] = raised[i] with { Leaves = [raised[i].Leaves[0], sealedAt.FirstIndex + i] };
            onAlert?.Invoke(raised[i]);
        }

        if (forward is not null)
        {
            await forward(raised, cancellationToken).ConfigureAwait(false); // durable in the outbox before the next batch is judged
        }
    }

    /// <summary>The alert of a rule that fired on the audit event at <paramref name="leaf"/>, with the event's context for correlation.</summary>
    public static Alert FromAudit(FalcoAlert hit, JsonElement audit, long leaf)
    {
        ArgumentNullException.ThrowIfNull(hit);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string name, JsonElement parent, string property)
        {
            if (parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s)
            {
                fields[name] = s;
            }
        }

        Add("verb", audit, "verb");
        Add("auditID", audit, "auditID");
        if (audit.TryGetProperty("user", out var user))
        {
            Add("user", user, "username");
        }

        if (audit.TryGetProperty("objectRef", out var obj))
        {
            Add("namespace", obj, "namespace");
            Add("resource", obj, "resource");
            Add("subresource", obj, "subresource");
            Add("name", obj, "name");
        }

        if (audit.TryGetProperty("sourceIPs", out var ips) && ips.ValueKind == JsonValueKind.Array && ips.GetArrayLength() > 0 && ips[0].ValueKind == JsonValueKind.String)
        {
            fields["sourceIP"] = ips[0].GetString()!;
        }

        var time = DateTimeOffset.UnixEpoch;
        foreach (var name in new[] { "stageTimestamp", "requestReceivedTimestamp" })
        {
            if (audit.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(t.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
            {
                break;
            }
        }

        return new Alert
        {
            Id = Alert.IdFor(hit.Rule, hit.Source, [leaf]),
            Time = time,
            Rule = hit.Rule,
            Priority = hit.Priority,
            Output = hit.Output,
            Source = hit.Source,
            Tags = hit.Tags,
            Leaves = [leaf],
            Fields = fields,
        };
    }
}
