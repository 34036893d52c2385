using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Skjold.Audit.Events;
using static Skjold.Audit.Storage.SqliteStatements;

namespace Skjold.Audit.Storage;

/// <summary>The SQLite store's term index: postings of completed chunks, the open chunk's terms, and queries answered from them.</summary>
public sealed partial class SqliteAuditStore
{
    /// <summary>
    /// Brings the term index up to <paramref name="size"/> leaves: postings for every completed chunk
    /// that has none, then the open chunk's terms collected from its rows.
    /// </summary>
    private TermPostings.OpenChunk Recover(sqlite3 db, long size)
    {
        IndexCompletedChunks(db, size, int.MaxValue);
        var open = new TermPostings.OpenChunk(size >> _chunkBits, ChunkSize);
        ReadTerms(db, open.Start, size, open);
        open.Next = size;
        return open;
    }

    /// <summary>Writes postings for up to <paramref name="maxChunks"/> completed, unindexed chunks below <paramref name="size"/>; true when none is left.</summary>
    private bool IndexCompletedChunks(sqlite3 db, long size, int maxChunks)
    {
        long next;
        using (var st = Prepare(db, "SELECT coalesce(max(chunk) + 1, 0) FROM chunks"))
        {
            raw.sqlite3_step(st);
            next = raw.sqlite3_column_int64(st, 0);
        }

        for (var n = 0; (next + 1) << _chunkBits <= size; n++, next++)
        {
            if (n == maxChunks)
            {
                return false;
            }

            var chunk = new TermPostings.OpenChunk(next, ChunkSize);
            ReadTerms(db, chunk.Start, chunk.Start + ChunkSize, chunk);
            Flush(db, chunk);
        }

        return true;
    }

    private long TreeSize(sqlite3 db)
    {
        using var st = Prepare(db, "SELECT size FROM tree_state WHERE id = 0");
        return raw.sqlite3_step(st) == raw.SQLITE_ROW ? raw.sqlite3_column_int64(st, 0) : 0;
    }

    /// <summary>Files the leaves [from, to) that are present under their terms, from their stored fields.</summary>
    private static void ReadTerms(sqlite3 db, long from, long to, TermPostings.OpenChunk into)
    {
        using var st = Prepare(db, "SELECT idx, ts, username, namespace, source_ip, resource, api_group, groups FROM events WHERE idx >= ?1 AND idx < ?2 ORDER BY idx");
        raw.sqlite3_bind_int64(st, 1, from);
        raw.sqlite3_bind_int64(st, 2, to);
        string? Col(int i) => raw.sqlite3_column_type(st, i) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(st, i).utf8_to_string();
        int rc;
        while ((rc = raw.sqlite3_step(st)) == raw.SQLITE_ROW)
        {
            var groups = Col(7);
            into.Add(raw.sqlite3_column_int64(st, 0), raw.sqlite3_column_int64(st, 1), Col(2), Col(3), Col(4), Col(5), Col(6), groups is null ? [] : groups.Split('\n'));
        }

        if (rc != raw.SQLITE_DONE)
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
    }

    /// <summary>Writes a completed chunk's postings (terms in order, so the B-tree is walked once) and its time range.</summary>
    private void Flush(sqlite3 db, TermPostings.OpenChunk chunk)
    {
        using (var st = Prepare(db, "INSERT OR REPLACE INTO postings(term, chunk, n, data) VALUES (?1, ?2, ?3, ?4)"))
        {
            foreach (var (term, offsets) in chunk.Terms.Select(t => (Term: t.Key.ToString(), Offsets: t.Value)).OrderBy(t => t.Term, StringComparer.Ordinal))
            {
                raw.sqlite3_bind_text(st, 1, term);
                raw.sqlite3_bind_int64(st, 2, chunk.Chunk);
                raw.sqlite3_bind_int(st, 3, offsets.Count);
                raw.sqlite3_bind_blob(st, 4, TermPostings.Encode(offsets, ChunkSize));
                Step(db, st);
            }
        }

        using var ch = Prepare(db, "INSERT OR REPLACE INTO chunks(chunk, min_ts, max_ts) VALUES (?1, ?2, ?3)");
        raw.sqlite3_bind_int64(ch, 1, chunk.Chunk);
        raw.sqlite3_bind_int64(ch, 2, chunk.MinTs == long.MaxValue ? 0 : chunk.MinTs);
        raw.sqlite3_bind_int64(ch, 3, chunk.MaxTs == long.MinValue ? 0 : chunk.MaxTs);
        Step(db, ch);
    }

    /// <summary>
    /// A query with a user, namespace, source IP, resource, API group or group reads the postings of
    /// its rarest such term chunk by chunk (in time order of the chunks, stopping once no later chunk
    /// can enter the result), fetches those rows by leaf index and applies every filter to them, and
    /// adds the matching rows of the open chunk. When even the rarest term is common, walking the time
    /// index and filtering finds the first rows sooner, so that is done instead.
    /// </summary>
    protected override async IAsyncEnumerable<(AuditRecord Record, byte[]? Payload)> RunQueryAsync(AuditQuery q, bool payloads, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var terms = TermPostings.Of(q).Distinct().ToList();
        List<(AuditRecord Record, byte[]? Payload)>? found = null;
        if (terms.Count > 0)
        {
            await using var c = new SqliteConnection(_connectionString);
            await c.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = c.BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: true);
            var indexed = await ScalarAsync(c, tx, "SELECT coalesce(max(chunk) + 1, 0) FROM chunks", cancellationToken).ConfigureAwait(false) << _chunkBits;
            var (term, count) = (string.Empty, long.MaxValue);
            foreach (var t in terms)
            {
                var n = await ScalarAsync(c, tx, "SELECT coalesce(sum(n), 0) FROM postings WHERE term = @t", cancellationToken, ("t", t)).ConfigureAwait(false);
                if (n < count)
                {
                    (term, count) = (t, n);
                }
            }

            // Fetching a candidate by leaf index costs a few times more than filtering the next row of
            // a time-ordered walk, which meets a match every indexed/count rows: postings win while
            // count^2 < limit * indexed / 5 (about 1 event in 220 at 10 million, limit 1000).
            if (indexed > 0 && (AlwaysUsePostings || (double)count * count * 5 < (double)Math.Max(1, q.Limit) * indexed))
            {
                LastPlan = "postings " + term;
                found = await PostingsQueryAsync(c, tx, q, term, indexed, payloads, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                LastPlan = indexed > 0 ? "rows (dense " + term + ")" : "rows";
            }
        }
        else
        {
            LastPlan = "rows";
        }

        if (found is null)
        {
            await foreach (var item in base.RunQueryAsync(q, payloads, cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }

            yield break;
        }

        foreach (var item in found)
        {
            yield return item;
        }
    }

    private async Task<List<(AuditRecord Record, byte[]? Payload)>> PostingsQueryAsync(SqliteConnection c, SqliteTransaction tx, AuditQuery q, string term, long indexed,
        bool payloads, CancellationToken ct)
    {
        var limit = Math.Max(1, q.Limit);
        var (where, args) = Filter(q, byGroupIndex: false);
        var filter = where.Count > 0 ? " AND " + string.Join(" AND ", where) : string.Empty;

        // NOT INDEXED: rows are found by leaf index (the rowid), never by walking another index.
        var select = "SELECT " + SelectList(payloads) + " FROM events e NOT INDEXED WHERE ";
        var found = await ReadRecordsAsync(c, tx, select + "e.idx >= @tail" + filter, [.. args, ("tail", indexed)], payloads, ct).ConfigureAwait(false);

        var chunkSql = new StringBuilder("SELECT p.chunk, p.data, c.min_ts, c.max_ts FROM postings p JOIN chunks c ON c.chunk = p.chunk WHERE p.term = @term");
        var chunkArgs = new List<(string Name, object Value)> { ("term", term) };
        if (q.Since is { } since)
        {
            chunkSql.Append(" AND c.max_ts >= @since");
            chunkArgs.Add(("since", Micros(since)));
        }

        if (q.Until is { } until)
        {
            chunkSql.Append(" AND c.min_ts < @until");
            chunkArgs.Add(("until", Micros(until)));
        }

        if (q.FromIndex is { } fromIndex)
        {
            chunkSql.Append(" AND p.chunk >= @cfrom");
            chunkArgs.Add(("cfrom", fromIndex >> _chunkBits));
        }

        if (q.ToIndex is { } toIndex)
        {
            chunkSql.Append(" AND p.chunk <= @cto");
            chunkArgs.Add(("cto", (toIndex - 1) >> _chunkBits));
        }

        var chunks = new List<(long Chunk, byte[] Data, long MinTs, long MaxTs)>();
        await using (var cmd = Command(c, tx, chunkSql.ToString(), [.. chunkArgs]))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                chunks.Add((r.GetInt64(0), (byte[])r.GetValue(1), r.GetInt64(2), r.GetInt64(3)));
            }
        }

        // Chunks in the order their events can enter the result: by earliest time (oldest first), or
        // by latest time (newest first).
        chunks.Sort((x, y) => q.Descending ? (y.MaxTs, y.Chunk).CompareTo((x.MaxTs, x.Chunk)) : (x.MinTs, x.Chunk).CompareTo((y.MinTs, y.Chunk)));
        Comparison<(AuditRecord Record, byte[]? Payload)> order = q.Descending
            ? (x, y) => (y.Record.Time, y.Record.Index).CompareTo((x.Record.Time, x.Record.Index))
            : (x, y) => (x.Record.Time, x.Record.Index).CompareTo((y.Record.Time, y.Record.Index));
        // Rows are fetched a few hundred at a time (at least the limit, since fewer cannot fill it).
        var candidates = new List<long>();
        var fetch = Math.Clamp(limit, 8, 512);
        for (var i = 0; i < chunks.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            TermPostings.Decode(chunks[i].Data, chunks[i].Chunk << _chunkBits, ChunkSize, candidates);
            if (candidates.Count < fetch && i + 1 < chunks.Count)
            {
                continue;
            }

            var list = string.Join(",", candidates.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            found.AddRange(await ReadRecordsAsync(c, tx, select + "e.idx IN (" + list + ")" + filter, args, payloads, ct).ConfigureAwait(false));
            candidates.Clear();
            if (found.Count >= limit && i + 1 < chunks.Count)
            {
                found.Sort(order);
                found.RemoveRange(limit, found.Count - limit);
                var last = Micros(found[^1].Record.Time);
                var next = chunks[i + 1];
                if (q.Descending ? next.MaxTs < last : next.MinTs > last)
                {
                    break;
                }
            }
        }

        found.Sort(order);
        if (found.Count > limit)
        {
            found.RemoveRange(limit, found.Count - limit);
        }

        return found;
    }

    private static async Task<long> ScalarAsync(SqliteConnection c, SqliteTransaction tx, string sql, CancellationToken ct, params (string Name, object Value)[] args)
    {
        await using var cmd = Command(c, tx, sql, args);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }
}
