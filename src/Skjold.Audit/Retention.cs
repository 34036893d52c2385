using System.Globalization;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

/// <summary>A retention rule: events of <see cref="Resource"/> (all others when null) are kept <see cref="Days"/> days.</summary>
public sealed record RetentionRule(string? Resource, int Days);

/// <summary>
/// Retention: by default events are kept 400 days (PCI DSS 10.5.1 asks for twelve months); rules
/// may set other periods per resource. A purge removes payloads and identifying fields of expired
/// events that no legal hold covers, keeps their leaf hashes and the signed tree heads so every
/// proof of the remaining events still verifies, and records itself in the log.
/// </summary>
public sealed class Retention(AuditLog log, IReadOnlyList<RetentionRule> rules, TimeProvider time)
{
    public const int DefaultDays = 400;

    public async Task<long> PurgeAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var holds = (await log.Store.HoldsAsync(ct).ConfigureAwait(false)).Where(h => h.Until is null || h.Until > now).ToList();
        var specific = rules.Where(r => r.Resource is not null).ToList();
        var defaultDays = rules.FirstOrDefault(r => r.Resource is null)?.Days ?? DefaultDays;
        long total = 0;
        var details = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rule in specific)
        {
            var before = now.AddDays(-rule.Days);
            var n = await log.Store.PurgeAsync(before, rule.Resource, [], holds, ct).ConfigureAwait(false);
            details[$"skjold.io/purged-{rule.Resource}"] = $"{n} before {before:yyyy-MM-dd}";
            total += n;
        }

        var defaultBefore = now.AddDays(-defaultDays);
        var rest = await log.Store.PurgeAsync(defaultBefore, null, specific.Select(r => r.Resource!).ToList(), holds, ct).ConfigureAwait(false);
        details["skjold.io/purged-default"] = $"{rest} before {defaultBefore:yyyy-MM-dd}";
        details["skjold.io/holds"] = holds.Count.ToString(CultureInfo.InvariantCulture);
        total += rest;
        details["skjold.io/purged-total"] = total.ToString(CultureInfo.InvariantCulture);
        await log.RecordSystemEventAsync("purge", $"retention purge removed the payloads of {total} events", details, ct).ConfigureAwait(false);
        return total;
    }
}
