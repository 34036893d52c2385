using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Skjold.Audit;
using Skjold.Detection.Falco;

namespace Skjold.Server.Detection;

/// <summary>
/// Runs Falco k8s_audit rules on every batch the audit log has made durable (through
/// <see cref="AuditLog.Subscribe"/>, never in the append path) and seals each alert into the same
/// trail as a Skjold event naming the rule, its priority, its output and the leaf it fired on, so
/// an alert is as tamper-evident as the event behind it. Skjold's own events are not judged (an
/// alert does not raise alerts).
/// </summary>
public sealed class AuditDetector(AuditLog log, FalcoRuleSet rules, ILogger logger, Action<FalcoAlert, long>? onAlert = null) : IAuditLogObserver
{
    /// <summary>The verb of a sealed alert.</summary>
    public const string AlertVerb = "detection-alert";

    private long _alerts;

    /// <summary>Alerts raised so far.</summary>
    public long Alerts => Interlocked.Read(ref _alerts);

    public async ValueTask OnCommittedAsync(CommittedBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        for (var i = 0; i < batch.Events.Count; i++)
        {
            var leaf = batch.FirstIndex + i;
            using var doc = JsonDocument.Parse(batch.Events[i].Canonical);
            if (doc.RootElement.TryGetProperty("requestURI", out var uri) && uri.ValueKind == JsonValueKind.String && uri.GetString()!.StartsWith("skjold://", StringComparison.Ordinal))
            {
                continue; // Skjold's own records: purges, rotations, alerts
            }

            foreach (var alert in rules.Evaluate(doc.RootElement))
            {
                Interlocked.Increment(ref _alerts);
                ServerLog.DetectionAlert(logger, alert.Rule, alert.Priority.ToString(), leaf, alert.Output);
                onAlert?.Invoke(alert, leaf);
                await log.RecordSystemEventAsync(AlertVerb, $"{alert.Priority}: {alert.Rule}", new Dictionary<string, string>
                {
                    [Retention.RecordPrefix + "rule"] = alert.Rule,
                    [Retention.RecordPrefix + "priority"] = alert.Priority.ToString(),
                    [Retention.RecordPrefix + "output"] = alert.Output,
                    [Retention.RecordPrefix + "source"] = alert.Source,
                    [Retention.RecordPrefix + "tags"] = string.Join(',', alert.Tags),
                    [Retention.RecordPrefix + "leaf"] = leaf.ToString(CultureInfo.InvariantCulture),
                }, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
