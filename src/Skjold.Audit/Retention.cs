using System.Globalization;
using Skjold.Audit.Storage;

namespace Skjold.Audit;

/// <summary>A retention rule: events of <see cref="Resource"/> (all others when null) are kept <see cref="Days"/> days.</summary>
public sealed record RetentionRule(string? Resource, int Days);

/// <summary>What one rule of a purge removed (or would remove).</summary>
public sealed record PurgedByRule(string Rule, DateTimeOffset Before, RedactionOutcome Outcome);

/// <summary>
/// Retention: by default events are kept 400 days (PCI DSS 10.5.1 asks for twelve months); rules
/// may set other periods per resource, but none shorter than the configured framework minimum
/// unless forced. A purge removes payloads and identifying fields of expired events that no legal
/// hold covers, keeps their leaf hashes and the signed tree heads so every proof of the remaining
/// events still verifies, and records itself in the log: per rule, the leaves it purged and a
/// digest of what it kept of them, so that a verifier accepts a missing payload only where a purge
/// record covers it.
/// </summary>
public sealed class Retention(AuditLog log, IReadOnlyList<RetentionRule> rules, TimeProvider time)
{
    public const int DefaultDays = 400;

    /// <summary>The shortest retention allowed without --force: PCI DSS 10.5.1's twelve months.</summary>
    public const int DefaultMinimumDays = 365;

    /// <summary>Annotation prefix of purge and erasure records.</summary>
    public const string RecordPrefix = "skjold.io/";

    /// <summary>Rules shorter than <paramref name="minimumDays"/>, as text for an error.</summary>
    public static IReadOnlyList<string> TooShort(IReadOnlyList<RetentionRule> rules, int minimumDays) =>
        [.. rules.Where(r => r.Days < minimumDays).Select(r => $"{r.Resource ?? "default"}={r.Days}")];

    public async Task<IReadOnlyList<PurgedByRule>> PurgeAsync(bool dryRun, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var holds = (await log.Store.HoldsAsync(ct).ConfigureAwait(false)).Where(h => h.Until is null || h.Until > now).ToList();
        var specific = rules.Where(r => r.Resource is not null).ToList();
        var defaultDays = rules.FirstOrDefault(r => r.Resource is null)?.Days ?? DefaultDays;
        var results = new List<PurgedByRule>();
        foreach (var rule in specific)
        {
            var before = now.AddDays(-rule.Days);
            results.Add(new PurgedByRule($"{rule.Resource}={rule.Days}", before,
                await log.Store.PurgeAsync(before, rule.Resource, [], holds, dryRun, ct).ConfigureAwait(false)));
        }

        var defaultBefore = now.AddDays(-defaultDays);
        results.Add(new PurgedByRule($"default={defaultDays}", defaultBefore,
            await log.Store.PurgeAsync(defaultBefore, null, specific.Select(r => r.Resource!).ToList(), holds, dryRun, ct).ConfigureAwait(false)));
        var total = results.Sum(r => r.Outcome.Count);
        if (dryRun)
        {
            return results;
        }

        var details = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RecordPrefix + "holds"] = holds.Count.ToString(CultureInfo.InvariantCulture),
            [RecordPrefix + "purged-total"] = total.ToString(CultureInfo.InvariantCulture),
        };
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            details[$"{RecordPrefix}purge.{i}.rule"] = $"{r.Rule} before {r.Before:yyyy-MM-dd}";
            details[$"{RecordPrefix}purge.{i}.count"] = r.Outcome.Count.ToString(CultureInfo.InvariantCulture);
            details[$"{RecordPrefix}purge.{i}.leaves"] = r.Outcome.Ranges;
            details[$"{RecordPrefix}purge.{i}.digest"] = r.Outcome.Digest;
        }

        await log.RecordSystemEventAsync("purge", $"retention purge removed the payloads of {total} events", details, ct).ConfigureAwait(false);
        return results;
    }
}
