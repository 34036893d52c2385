using System.Data.Common;
using Skjold.Audit.Events;
using Skjold.Audit.Merkle;

namespace Skjold.Audit.Storage;

/// <summary>
/// The parts of the audit store that SQLite and PostgreSQL share: the schema's shape, the Merkle
/// append inside one transaction (read the right edge, add leaves and completed subtrees, write the
/// right edge back), tree heads, queries, purges, holds and offsets. Dialects supply connections,
/// the sequencing lock and bulk inserts.
/// </summary>
public abstract partial class SqlAuditStore : IAuditStore
{
    protected const string Columns =
        "idx, ts, audit_id, stage, verb, username, source_ip, user_agent, resource, subresource, namespace, name, api_group, code, request_uri, leaf_hash, groups";

    /// <summary>
    /// Groups every authenticated request carries. They stay in the event's groups column but get no
    /// entry in the group index (they would double its size and select nearly everything anyway).
    /// </summary>
    private static readonly string QualifiedColumns = string.Join(", ", Columns.Split(", ").Select(c => "e." + c));

    public static bool IsImplicitGroup(string group) =>
        group is "system:authenticated" or "system:unauthenticated" or "system:serviceaccounts"
        || group.StartsWith("system:serviceaccounts:", StringComparison.Ordinal);

    public static string? JoinGroups(IReadOnlyList<string> groups) => groups.Count == 0 ? null : string.Join('\n', groups);

    /// <summary>
    /// Hashes of perfect subtrees never change once written, so those of level 4 and up (one per 16
    /// leaves or more: about 1.25 million for 10 million events, 40 MB) are kept in memory as they
    /// are written or first read, up to 4 million hashes (128 MB). An inclusion proof then reads
    /// only its lowest four hashes.
    /// </summary>
    private const int CachedLevel = 4;

    private readonly SubtreeHashCache _upperNodes = new(CachedLevel, 4L << 20);

    // The open chunk's seal, owned by the writer (appends hold the sequencer lock).
    private readonly Lock _sealLock = new();
    private ChunkSeals.Sealer? _sealer;

    /// <summary>
    /// Leaf hashes and levels 1 to 3 of the most recent appends (none unless a store asks for it):
    /// a store whose every read is a network round trip answers proofs of recent events from memory.
    /// </summary>
    private readonly SubtreeHashCache? _recentNodes;

    protected SqlAuditStore(long recentHashes = 0)
    {
        _recentNodes = recentHashes > 0 ? new SubtreeHashCache(0, recentHashes, evict: true) : null;
    }

    public abstract string Description { get; }

    protected abstract ValueTask<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>Opens a connection; a store that cannot be opened or reached is an <see cref="AuditStoreException"/> naming it.</summary>
    protected async ValueTask<DbConnection> ConnectAsync(CancellationToken ct)
    {
        try
        {
            return await OpenAsync(ct).ConfigureAwait(false);
        }
        catch (DbException ex)
        {
            throw new AuditStoreException($"cannot open the audit store ({Description}): {ex.Message}", ex);
        }
    }

    /// <summary>Starts the append transaction holding the log's single sequencer lock.</summary>
    protected abstract ValueTask<DbTransaction> BeginAppendAsync(DbConnection connection, CancellationToken ct);

    protected abstract IEnumerable<string> SchemaStatements { get; }

    /// <summary>
    /// Secondary indexes both stores keep: time, refused requests (in time order; events_denied was
    /// the preview's) and subresources. Their keys grow with time or are rare, so an append touches
    /// few of their pages.
    /// </summary>
    protected static readonly string[] TimeIndexStatements =
    [
        "CREATE INDEX IF NOT EXISTS events_ts ON events(ts)",
        "DROP INDEX IF EXISTS events_denied",
        "CREATE INDEX IF NOT EXISTS events_refused ON events(ts, idx) WHERE code >= 400",
        "CREATE INDEX IF NOT EXISTS events_sub ON events(subresource, resource, ts) WHERE subresource IS NOT NULL",
    ];

    /// <summary>
    /// B-tree indexes by user, object, namespace and source IP (PostgreSQL). An append dirties a page
    /// of each for every distinct value in the batch; the embedded store files these fields in its
    /// chunked term index instead.
    /// </summary>
    protected static readonly string[] FieldIndexStatements =
    [
        "CREATE INDEX IF NOT EXISTS events_user ON events(username, ts)",
        "CREATE INDEX IF NOT EXISTS events_object ON events(resource, namespace, name, ts)",
        "CREATE INDEX IF NOT EXISTS events_ns ON events(namespace, ts)",
        "CREATE INDEX IF NOT EXISTS events_ip ON events(source_ip, ts)",
    ];

    /// <summary>Leaves per sealed chunk, as a power of two (the embedded store uses its term index's chunks).</summary>
    public virtual int SealBits => 13;

    /// <summary>Whether explicit groups are answered from group_index(grp, ts, idx).</summary>
    protected virtual bool HasGroupIndex => true;

    /// <summary>An SQL expression true when text <paramref name="needle"/> occurs in <paramref name="haystack"/> (exact, case-sensitive).</summary>
    protected abstract string ContainsSql(string haystack, string needle);

    /// <summary>A query with parameter @name giving the number of tables of that name.</summary>
    protected abstract string TableExistsSql { get; }

    /// <summary>Writes the events, then the interior nodes <paramref name="nodes"/> gives once hashed.</summary>
    protected abstract Task InsertAsync(DbConnection connection, DbTransaction tx, long firstIndex, IReadOnlyList<PreparedEvent> events,
        Task<List<(int Level, long Index, byte[] Hash)>> nodes, CancellationToken ct);

    /// <summary>Returns the connection after use (SQLite keeps one writer open).</summary>
    protected virtual ValueTask ReleaseAsync(DbConnection connection) => connection.DisposeAsync();

    public virtual async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var sql in SchemaStatements)
            {
                await ExecAsync(c, null, sql, cancellationToken).ConfigureAwait(false);
            }

            // Copy and drop in one transaction, so an interrupted migration is simply done again.
            await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await MigrateAsync(c, tx, cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Brings a store made by an earlier version up to date: the group index of 0.1 previews
    /// (event_groups, without time) becomes group_index, which answers "what did group X do
    /// between T1 and T2" from the index alone.
    /// </summary>
    protected virtual async Task MigrateAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        await using (var cmd = Command(c, tx, TableExistsSql, ("name", "event_groups")))
        {
            if (Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return;
            }
        }

        await ExecAsync(c, tx, "INSERT INTO group_index(grp, ts, idx) SELECT g.grp, e.ts, g.idx FROM event_groups g JOIN events e ON e.idx = g.idx", ct).ConfigureAwait(false);
        await ExecAsync(c, tx, "DROP TABLE event_groups", ct).ConfigureAwait(false);
    }

    /// <summary>Time spent in each stage of appends, in Stopwatch ticks (diagnostics for the benchmarks): begin+lock, frontier, sealer, insert, seals+state, commit.</summary>
    internal static readonly long[] AppendStageTicks = new long[6];

    private static void Stage(int stage, ref long t0)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        Interlocked.Add(ref AppendStageTicks[stage], now - t0);
        t0 = now;
    }

    public async Task<AppendResult> AppendAsync(IReadOnlyList<PreparedEvent> events, IngestOffset? offset, CancellationToken cancellationToken)
    {
        var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        var committed = false;
        try
        {
            await using var tx = await BeginAppendAsync(c, cancellationToken).ConfigureAwait(false);
            Stage(0, ref t0);
            var frontier = await ReadFrontierAsync(c, tx, cancellationToken, refuseRowsBeyond: true).ConfigureAwait(false);
            Stage(1, ref t0);
            var first = frontier.Size;
            var (sealer, seals) = await OpenSealerAsync(c, tx, first, cancellationToken).ConfigureAwait(false);
            Stage(2, ref t0);

            // The tree's new nodes are hashed, and the events added to the open chunk's seal, on
            // another thread while the events are written (on two cores that hashing was an eighth
            // of the single writer's time). Leaves live in the events table; only interior nodes go
            // to the nodes table.
            var hashing = Task.Run(() =>
            {
                var all = new List<(int, long, byte[])>(events.Count * 2);
                foreach (var e in events)
                {
                    frontier.Append(e.LeafHash, all);
                }

                all.RemoveAll(n => n.Item1 == 0);
                if (SealWhileInserting)
                {
                    SealEvents(sealer, first, events, seals);
                }

                return all;
            }, CancellationToken.None);
            List<(int, long, byte[])> nodes;
            try
            {
                if (events.Count > 0)
                {
                    await InsertAsync(c, tx, first, events, hashing, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                nodes = await hashing.ConfigureAwait(false);
            }

            Stage(3, ref t0);
            if (!SealWhileInserting)
            {
                SealEvents(sealer, first, events, seals);
            }

            await InsertSealsAsync(c, tx, seals, cancellationToken).ConfigureAwait(false);
            await ExecAsync(c, tx, "UPDATE tree_state SET size = @size, frontier = @frontier WHERE id = 0", cancellationToken,
                ("size", frontier.Size), ("frontier", frontier.Serialize())).ConfigureAwait(false);
            if (offset is not null)
            {
                await ExecAsync(c, tx,
                    "INSERT INTO ingest_offsets(path, file_id, byte_offset) VALUES (@p, @f, @o) ON CONFLICT(path) DO UPDATE SET file_id = excluded.file_id, byte_offset = excluded.byte_offset",
                    cancellationToken, ("p", offset.Path), ("f", offset.FileId), ("o", offset.Offset)).ConfigureAwait(false);
            }

            Stage(4, ref t0);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            Stage(5, ref t0);
            committed = true;
            if (_recentNodes is not null)
            {
                for (var i = 0; i < events.Count; i++)
                {
                    _recentNodes.Set(0, first + i, events[i].LeafHash);
                }
            }

            foreach (var (level, idx, hash) in nodes)
            {
                if (level < CachedLevel)
                {
                    _recentNodes?.Set(level, idx, hash);
                }

                _upperNodes.Set(level, idx, hash);
            }

            return new AppendResult(first, frontier.Size, frontier.Root());
        }
        finally
        {
            if (!committed)
            {
                AppendAborted();
            }

            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether the events are added to the chunk seal on the hashing thread while they are inserted
    /// (the embedded store: the insert is this process's own work and the seal overlaps it), or after
    /// the insert (PostgreSQL: sealing beside the COPY slowed the COPY's streaming more than the
    /// sealing costs; measured 11.1k -> 12.7-13.7k events/s with 4 senders).
    /// </summary>
    protected virtual bool SealWhileInserting => true;

    /// <summary>Called when an append's transaction did not commit: state kept beside the database must be dropped.</summary>
    protected virtual void AppendAborted()
    {
        lock (_sealLock)
        {
            _sealer?.Dispose();
            _sealer = null;
        }
    }

    /// <summary>Rows at or beyond the tree state's size were not appended by a sequencer: refuse to write over them.</summary>
    private static async Task RefuseRowsBeyondAsync(DbConnection c, DbTransaction tx, long size, CancellationToken ct)
    {
        await using var cmd = Command(c, tx, "SELECT min(idx) FROM events WHERE idx >= @size", ("size", size));
        if (await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is { } v and not DBNull)
        {
            throw new AuditStoreTamperedException(Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture),
                $"leaf {v} is in the store although the tree state ends at {size}: rows were added outside Skjold; nothing more is appended until the store is restored (run 'skjold audit verify')");
        }
    }

    public abstract ValueTask DisposeAsync();

    public static long Micros(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;

    protected static DbCommand Command(DbConnection c, DbTransaction? tx, string sql, params (string Name, object Value)[] args)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = "@" + name;
            p.Value = value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }

    protected static async Task<int> ExecAsync(DbConnection c, DbTransaction? tx, string sql, CancellationToken ct, params (string Name, object Value)[] args)
    {
        await using var cmd = Command(c, tx, sql, args);
        return await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
