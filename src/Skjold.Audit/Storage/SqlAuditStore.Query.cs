using System.Data.Common;
using System.Runtime.CompilerServices;
using Skjold.Audit.Events;

namespace Skjold.Audit.Storage;

/// <summary>Investigator queries: one parameterised statement per query (the filter SQL is built by <see cref="AuditQuerySql"/>).</summary>
public abstract partial class SqlAuditStore
{
    public IAsyncEnumerable<(AuditRecord Record, byte[]? Payload)> QueryAsync(AuditQuery query, bool payloads, CancellationToken cancellationToken) =>
        RunQueryAsync(query, payloads, cancellationToken);

    /// <summary>The SELECT list of a query: <see cref="Columns"/> (events aliased e), purged, and the payload when asked for.</summary>
    protected internal static string SelectList(bool payloads) => QualifiedColumns + ", e.purged" + (payloads ? ", e.payload" : string.Empty);

    /// <summary>The query's filters as parameterised SQL (see <see cref="AuditQuerySql.Filter"/>).</summary>
    protected (List<string> Where, List<(string Name, object Value)> Args) Filter(AuditQuery q, bool byGroupIndex) =>
        AuditQuerySql.Filter(q, byGroupIndex, ContainsSql);

    /// <summary>
    /// Answers a query in one statement: an explicit group through group_index (walked in time order,
    /// stopping at the limit), otherwise the time range and order from events and its indexes.
    /// </summary>
    protected virtual async IAsyncEnumerable<(AuditRecord Record, byte[]? Payload)> RunQueryAsync(AuditQuery q, bool payloads, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var (sql, args) = AuditQuerySql.Statement(q, payloads, HasGroupIndex && q.Group is not null && !IsImplicitGroup(q.Group), ContainsSql);
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var records = await ReadRecordsAsync(c, null, sql, args, payloads, cancellationToken).ConfigureAwait(false);
            foreach (var item in records)
            {
                yield return item;
            }
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a SELECT of <see cref="SelectList"/> and reads its rows.</summary>
    protected static async Task<List<(AuditRecord Record, byte[]? Payload)>> ReadRecordsAsync(DbConnection c, DbTransaction? tx, string sql,
        List<(string Name, object Value)> args, bool payloads, CancellationToken ct)
    {
        var records = new List<(AuditRecord, byte[]?)>();
        await using var cmd = Command(c, tx, sql, [.. args]);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            records.Add((ReadRecord(r), payloads && !r.IsDBNull(18) ? (byte[])r.GetValue(18) : null));
        }

        return records;
    }

    private static AuditRecord ReadRecord(DbDataReader r)
    {
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        return new AuditRecord(
            r.GetInt64(0),
            DateTimeOffset.UnixEpoch.AddTicks(r.GetInt64(1) * 10),
            S(2), S(3), S(4), S(5), [], S(6), S(7), S(8), S(9), S(10), S(11), S(12),
            r.IsDBNull(13) ? null : r.GetInt32(13),
            S(14))
        {
            Groups = r.IsDBNull(16) ? [] : r.GetString(16).Split('\n'),
            Purged = !r.IsDBNull(17) && Convert.ToInt64(r.GetValue(17), System.Globalization.CultureInfo.InvariantCulture) != 0,
        };
    }
}
