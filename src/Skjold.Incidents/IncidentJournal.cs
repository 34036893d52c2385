using System.Security.Cryptography;
using System.Text.Json;
using Skjold.Audit;
using Skjold.Audit.Storage;

namespace Skjold.Incidents;

/// <summary>
/// Incidents in the audit trail: changes are sealed through the log (<see cref="AuditLog.RecordSystemEventsAsync"/>),
/// and incidents are read back as the fold of their sealed events (the store checks each payload against its leaf
/// as it returns it). SQLite by default, PostgreSQL in production: whatever store the trail uses.
/// </summary>
public sealed class IncidentJournal(IAuditStore store, AuditLog? log = null)
{
    /// <summary>A new id: INC- and the UTC date and 6 random hex digits (INC-20261202-3fa9c1).</summary>
    public static string NewId(DateTimeOffset now) => $"INC-{now:yyyyMMdd}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";

    public async Task<long> RecordAsync(string verb, string message, IReadOnlyDictionary<string, string> fields, CancellationToken ct)
    {
        if (log is null)
        {
            throw new InvalidOperationException("the journal was opened read-only");
        }

        var sealedAt = await log.RecordSystemEventsAsync([(verb, message, fields)], ct).ConfigureAwait(false);
        return sealedAt.FirstIndex;
    }

    /// <summary>Every incident in the trail, by id (each the fold of its events in log order).</summary>
    public async Task<IReadOnlyList<Incident>> AllAsync(CancellationToken ct)
    {
        var byId = new Dictionary<string, List<IncidentEvents.Sealed>>(StringComparer.Ordinal);
        long? from = null;
        while (true)
        {
            var n = 0;
            await foreach (var (record, payload) in store.QueryAsync(new AuditQuery { Verbs = IncidentEvents.Verbs, Limit = 1000, FromIndex = from }, true, ct).ConfigureAwait(false))
            {
                n++;
                from = record.Index + 1;
                if (payload is null || Read(record.Index, record.Time, record.Verb ?? "", payload) is not { } e || !e.Fields.TryGetValue(IncidentEvents.Prefix + "incident-id", out var id))
                {
                    continue;
                }

                if (!byId.TryGetValue(id, out var list))
                {
                    byId[id] = list = [];
                }

                list.Add(e);
            }

            if (n < 1000)
            {
                break;
            }
        }

        var result = new List<Incident>();
        foreach (var (_, events) in byId)
        {
            if (IncidentEvents.Fold(events.OrderBy(e => e.Leaf)) is { } incident)
            {
                result.Add(incident);
            }
        }

        return [.. result.OrderBy(i => i.AwareAt)];
    }

    public async Task<Incident?> FindAsync(string id, CancellationToken ct) =>
        (await AllAsync(ct).ConfigureAwait(false)).FirstOrDefault(i => string.Equals(i.Id, id, StringComparison.OrdinalIgnoreCase));

    private static IncidentEvents.Sealed? Read(long leaf, DateTimeOffset at, string verb, byte[] payload)
    {
        using var doc = JsonDocument.Parse(payload);
        if (!doc.RootElement.TryGetProperty("annotations", out var a) || a.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in a.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.String)
            {
                fields[p.Name] = p.Value.GetString()!;
            }
        }

        return new IncidentEvents.Sealed(leaf, at, verb, fields);
    }
}
