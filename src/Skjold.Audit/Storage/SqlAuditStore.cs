using System.Data.Common;
using Skjold.Audit.Events;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;

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

    /// <summary>
    /// The open chunk's seal for an append at <paramref name="first"/>: the writer's own, or rebuilt
    /// from the chunk's rows after a restart or another process's appends (sealing any completed
    /// chunk that has none yet).
    /// </summary>
    private async Task<(ChunkSeals.Sealer Sealer, List<ChunkSeals.Seal> Seals)> OpenSealerAsync(DbConnection c, DbTransaction tx, long first, CancellationToken ct)
    {
        var bits = SealBits;
        ChunkSeals.Sealer? sealer;
        lock (_sealLock)
        {
            sealer = _sealer;
            _sealer = null;
        }

        var seals = new List<ChunkSeals.Seal>();
        if (sealer is null || sealer.Next != first)
        {
            sealer?.Dispose();
            seals.AddRange(await SealCompletedChunksAsync(c, tx, first, int.MaxValue, ct).ConfigureAwait(false));
            var chunk = first >> bits;
            var previous = seals.Count > 0 ? seals[^1].Chain : await ChainBeforeAsync(c, tx, chunk, ct).ConfigureAwait(false);
            sealer = new ChunkSeals.Sealer(bits, chunk, previous);
            foreach (var (record, _) in await ReadRecordsAsync(c, tx, $"SELECT {SelectList(false)} FROM events e WHERE e.idx >= @a AND e.idx < @b ORDER BY e.idx",
                         [("a", chunk << bits), ("b", first)], false, ct).ConfigureAwait(false))
            {
                sealer.Add(record.Index, Micros(record.Time), record);
            }

            if (sealer.Next != first)
            {
                throw new AuditStoreTamperedException(sealer.Next, $"leaf {sealer.Next} is missing from the store below its tree state ({first}); nothing more is appended until the store is restored (run 'skjold audit verify')");
            }
        }

        return (sealer, seals);
    }

    /// <summary>Adds the events to the open chunk's seal, collecting the seals of the chunks they complete, and keeps the open seal for the next append.</summary>
    private void SealEvents(ChunkSeals.Sealer sealer, long first, IReadOnlyList<PreparedEvent> events, List<ChunkSeals.Seal> seals)
    {
        var bits = SealBits;
        var index = first;
        foreach (var e in events)
        {
            sealer.Add(index++, Micros(e.Fields.Time), e.Fields);
            if (sealer.Complete)
            {
                var seal = sealer.Finish();
                seals.Add(seal);
                sealer.Dispose();
                sealer = new ChunkSeals.Sealer(bits, seal.Chunk + 1, seal.Chain);
            }
        }

        lock (_sealLock)
        {
            _sealer = sealer;
        }
    }

    /// <summary>The chain value before <paramref name="chunk"/>: that of the seal of chunk - 1 (zeros before the first).</summary>
    private async Task<byte[]> ChainBeforeAsync(DbConnection c, DbTransaction? tx, long chunk, CancellationToken ct)
    {
        if (chunk == 0)
        {
            return new byte[32];
        }

        await using var cmd = Command(c, tx, "SELECT chain FROM chunk_seals WHERE chunk = @c", ("c", chunk - 1));
        return await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is byte[] chain
            ? chain
            : throw new AuditStoreTamperedException(chunk << SealBits, $"the seal of chunk {chunk - 1} is missing from the store; nothing more is appended until the store is restored (run 'skjold audit verify')");
    }

    /// <summary>Seals completed chunks below <paramref name="size"/> that have no seal yet (stores written before seals), from their rows.</summary>
    private async Task<List<ChunkSeals.Seal>> SealCompletedChunksAsync(DbConnection c, DbTransaction tx, long size, int maxChunks, CancellationToken ct)
    {
        var bits = SealBits;
        long next;
        await using (var cmd = Command(c, tx, "SELECT coalesce(max(chunk) + 1, 0) FROM chunk_seals"))
        {
            next = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
        }

        var seals = new List<ChunkSeals.Seal>();
        var previous = await ChainBeforeAsync(c, tx, next, ct).ConfigureAwait(false);
        for (var n = 0; n < maxChunks && (next + 1) << bits <= size; n++, next++)
        {
            using var sealer = new ChunkSeals.Sealer(bits, next, previous);
            foreach (var (record, _) in await ReadRecordsAsync(c, tx, $"SELECT {SelectList(false)} FROM events e WHERE e.idx >= @a AND e.idx < @b ORDER BY e.idx",
                         [("a", next << bits), ("b", (next + 1) << bits)], false, ct).ConfigureAwait(false))
            {
                sealer.Add(record.Index, Micros(record.Time), record);
            }

            var seal = sealer.Finish();
            seals.Add(seal);
            previous = seal.Chain;
        }

        return seals;
    }

    private static async Task InsertSealsAsync(DbConnection c, DbTransaction tx, List<ChunkSeals.Seal> seals, CancellationToken ct)
    {
        foreach (var s in seals)
        {
            await ExecAsync(c, tx, "INSERT INTO chunk_seals(chunk, min_ts, max_ts, columns, manifest, digest, chain) VALUES (@c, @min, @max, @col, @man, @d, @ch)", ct,
                ("c", s.Chunk), ("min", s.MinTs), ("max", s.MaxTs), ("col", s.Columns), ("man", s.Manifest), ("d", s.Digest), ("ch", s.Chain)).ConfigureAwait(false);
        }
    }

    /// <summary>Seals the completed chunks of a store written before chunk seals (64 chunks per transaction).</summary>
    protected async Task SealExistingChunksAsync(CancellationToken ct)
    {
        while (true)
        {
            var c = await ConnectAsync(ct).ConfigureAwait(false);
            try
            {
                await using var tx = await BeginAppendAsync(c, ct).ConfigureAwait(false);
                var frontier = await ReadFrontierAsync(c, tx, ct).ConfigureAwait(false);
                var seals = await SealCompletedChunksAsync(c, tx, frontier.Size, 64, ct).ConfigureAwait(false);
                await InsertSealsAsync(c, tx, seals, ct).ConfigureAwait(false);
                await tx.CommitAsync(ct).ConfigureAwait(false);
                if (seals.Count < 64)
                {
                    return;
                }
            }
            finally
            {
                await ReleaseAsync(c).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The sealed query index at <paramref name="size"/> leaves: the chain value of its last
    /// completed chunk, and a seal of the leaves after it up to <paramref name="size"/> (made from
    /// their rows and kept under that size, so that a head can sign it and queries confirm the open
    /// chunk too).
    /// </summary>
    public async Task<IndexState> IndexStateAsync(long size, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await IndexStateAsync(c, null, size, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Signs a head for the store's current size in one transaction under the sequencing lock that
    /// appends take: the state, the previous head and the index are read, and the head written,
    /// with no other writer in between, so heads of several replicas chain in order. Returns the
    /// existing head when the size is signed already, null for an empty log.
    /// </summary>
    public async Task<SignedTreeHead?> SignTreeHeadAsync(Func<long, byte[], SignedTreeHead?, IndexState, SignedTreeHead> sign, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var tx = await BeginAppendAsync(c, cancellationToken).ConfigureAwait(false);
            var frontier = await ReadFrontierAsync(c, tx, cancellationToken).ConfigureAwait(false);
            if (frontier.Size == 0)
            {
                await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return null;
            }

            SignedTreeHead? last = null;
            await using (var cmd = Command(c, tx, "SELECT size, ts, root, signature, key_id, ext FROM tree_heads ORDER BY size DESC LIMIT 1"))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    last = new SignedTreeHead(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), (byte[])r.GetValue(2), (byte[])r.GetValue(3), r.GetString(4))
                    {
                        Extension = r.IsDBNull(5) ? null : (byte[])r.GetValue(5),
                    };
                }
            }

            if (last is not null && last.Size >= frontier.Size)
            {
                await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);
                return last.Size == frontier.Size
                    ? last
                    : throw new AuditStoreTamperedException(frontier.Size, $"the store holds {frontier.Size} events but a tree head signs {last.Size}: events were deleted; nothing more is signed (run 'skjold audit verify')");
            }

            var index = await IndexStateAsync(c, tx, frontier.Size, cancellationToken).ConfigureAwait(false);
            var sth = sign(frontier.Size, frontier.Root(), last, index);
            await ExecAsync(c, tx,
                "INSERT INTO tree_heads(size, ts, root, signature, key_id, ext) VALUES (@s, @t, @r, @sig, @k, @e)",
                cancellationToken, ("s", sth.Size), ("t", sth.Timestamp.ToUnixTimeMilliseconds()), ("r", sth.Root), ("sig", sth.Signature), ("k", sth.KeyId),
                ("e", (object?)sth.Extension ?? DBNull.Value)).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return sth;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    private async Task<IndexState> IndexStateAsync(DbConnection c, DbTransaction? tx, long size, CancellationToken cancellationToken)
    {
        var bits = SealBits;
        var chunks = size >> bits;
        {
            var chain = await ChainBeforeAsync(c, tx, chunks, cancellationToken).ConfigureAwait(false);
            var partial = new byte[32];
            if ((size & ((1L << bits) - 1)) != 0)
            {
                // The writer's own open seal when it is at this size (no rows to read); else from the rows.
                ChunkSeals.Seal? current = null;
                lock (_sealLock)
                {
                    if (_sealer is { } open && open.Next == size && open.Chunk == chunks)
                    {
                        current = open.Snapshot();
                    }
                }

                if (current is not null)
                {
                    await StorePartialAsync(c, tx, size, current, cancellationToken).ConfigureAwait(false);
                    return new IndexState(bits, chunks, chain) { Partial = current.Digest };
                }

                using var sealer = new ChunkSeals.Sealer(bits, chunks, chain);
                foreach (var (record, _) in await ReadRecordsAsync(c, tx, $"SELECT {SelectList(false)} FROM events e WHERE e.idx >= @a AND e.idx < @b ORDER BY e.idx",
                             [("a", chunks << bits), ("b", size)], false, cancellationToken).ConfigureAwait(false))
                {
                    sealer.Add(record.Index, Micros(record.Time), record);
                }

                if (sealer.Next != size)
                {
                    throw new AuditStoreTamperedException(sealer.Next, $"leaf {sealer.Next} is missing from the store below its tree state ({size}); nothing more is signed (run 'skjold audit verify')");
                }

                var seal = sealer.Finish();
                partial = seal.Digest;
                await StorePartialAsync(c, tx, size, seal, cancellationToken).ConfigureAwait(false);
            }

            return new IndexState(bits, chunks, chain) { Partial = partial };
        }
    }

    private static Task StorePartialAsync(DbConnection c, DbTransaction? tx, long size, ChunkSeals.Seal seal, CancellationToken ct) =>
        ExecAsync(c, tx, "INSERT INTO partial_seals(size, chunk, min_ts, max_ts, columns, manifest, digest) VALUES (@s, @c, @min, @max, @col, @man, @d) ON CONFLICT(size) DO NOTHING",
            ct, ("s", size), ("c", seal.Chunk), ("min", seal.MinTs), ("max", seal.MaxTs), ("col", seal.Columns), ("man", seal.Manifest), ("d", seal.Digest));

    /// <summary>The seal of the open chunk's leaves up to <paramref name="size"/>, as kept when a head of that size was signed.</summary>
    public async Task<ChunkSeals.Seal?> PartialSealAsync(long size, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null, "SELECT chunk, min_ts, max_ts, columns, manifest, digest FROM partial_seals WHERE size = @s", ("s", size));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await r.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new ChunkSeals.Seal(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), (byte[])r.GetValue(3), (byte[])r.GetValue(4), (byte[])r.GetValue(5), [])
                : null;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>Chunk, time range, digest and chain of the seals [from, to), without manifests (to check the chain cheaply).</summary>
    public async Task<List<(long Chunk, long MinTs, long MaxTs, byte[] Digest, byte[] Chain)>> SealChainAsync(long from, long to, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var list = new List<(long, long, long, byte[], byte[])>();
            await using var cmd = Command(c, null, "SELECT chunk, min_ts, max_ts, digest, chain FROM chunk_seals WHERE chunk >= @a AND chunk < @b ORDER BY chunk", ("a", from), ("b", to));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add((r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), (byte[])r.GetValue(3), (byte[])r.GetValue(4)));
            }

            return list;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>The seals of chunks [from, to), in order.</summary>
    public async Task<List<ChunkSeals.Seal>> SealsAsync(long from, long to, CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var list = new List<ChunkSeals.Seal>();
            await using var cmd = Command(c, null, "SELECT chunk, min_ts, max_ts, columns, manifest, digest, chain FROM chunk_seals WHERE chunk >= @a AND chunk < @b ORDER BY chunk", ("a", from), ("b", to));
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                list.Add(new ChunkSeals.Seal(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), (byte[])r.GetValue(3), (byte[])r.GetValue(4), (byte[])r.GetValue(5), (byte[])r.GetValue(6)));
            }

            return list;
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Cheap checks that the rows agree with the tree state, made before a writer starts: no row at
    /// or beyond its size, the last row present, and the smallest subtree of the right edge
    /// recomputed from its leaves. Throws <see cref="AuditStoreTamperedException"/> naming the index.
    /// </summary>
    public async Task CheckStateAsync(CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Frontier frontier;
            await using (var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
            {
                frontier = await ReadFrontierAsync(c, tx, cancellationToken).ConfigureAwait(false);
                await RefuseRowsBeyondAsync(c, tx, frontier.Size, cancellationToken).ConfigureAwait(false);
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            var size = frontier.Size;
            if (size == 0)
            {
                return;
            }

            var span = size & -size; // the last perfect subtree of the right edge
            if (span > 4096)
            {
                span = 1;
            }

            var hashes = new List<byte[]>();
            await using (var cmd = Command(c, null, "SELECT idx, leaf_hash FROM events WHERE idx >= @a AND idx < @b ORDER BY idx", ("a", size - span), ("b", size)))
            await using (var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                var expected = size - span;
                while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (r.GetInt64(0) != expected)
                    {
                        throw new AuditStoreTamperedException(expected, $"leaf {expected} is missing from the store below its tree state ({size}); nothing more is appended until the store is restored (run 'skjold audit verify')");
                    }

                    hashes.Add((byte[])r.GetValue(1));
                    expected++;
                }

                if (expected != size)
                {
                    throw new AuditStoreTamperedException(expected, $"leaf {expected} is missing from the store below its tree state ({size}); nothing more is appended until the store is restored (run 'skjold audit verify')");
                }
            }

            while (hashes.Count > 1)
            {
                hashes = [.. Enumerable.Range(0, hashes.Count / 2).Select(i => MerkleHash.Node(hashes[2 * i], hashes[(2 * i) + 1]))];
            }

            if (span <= 4096 && (size & -size) == span && !hashes[0].AsSpan().SequenceEqual(frontier.Roots[^1]))
            {
                throw new AuditStoreTamperedException(size - span, $"the leaves from {size - span} to {size - 1} do not match the stored tree state: rows were changed outside Skjold; nothing more is appended until the store is restored (run 'skjold audit verify')");
            }
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
        }
    }

    /// <param name="refuseRowsBeyond">Also look, in the same statement, for rows at or beyond the state's size (rows a sequencer did not append) and refuse them.</param>
    private static async Task<Frontier> ReadFrontierAsync(DbConnection c, DbTransaction tx, CancellationToken ct, bool refuseRowsBeyond = false)
    {
        await using var cmd = Command(c, tx, refuseRowsBeyond
            ? "SELECT size, frontier, (SELECT min(idx) FROM events WHERE idx >= tree_state.size) FROM tree_state WHERE id = 0"
            : "SELECT size, frontier FROM tree_state WHERE id = 0");
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false))
        {
            throw new InvalidOperationException("audit store has no tree state; run 'skjold audit init'");
        }

        var size = r.GetInt64(0);
        if (refuseRowsBeyond && !r.IsDBNull(2))
        {
            var beyond = r.GetInt64(2);
            throw new AuditStoreTamperedException(beyond,
                $"leaf {beyond} is in the store although the tree state ends at {size}: rows were added outside Skjold; nothing more is appended until the store is restored (run 'skjold audit verify')");
        }

        return Frontier.Deserialize(size, (byte[])r.GetValue(1));
    }

    public async Task<(long Size, byte[] Root)> StateAsync(CancellationToken cancellationToken)
    {
        var c = await ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = Command(c, null, "SELECT size, frontier FROM tree_state WHERE id = 0");
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException("audit store has no tree state; run 'skjold audit init'");
            }

            var f = Frontier.Deserialize(r.GetInt64(0), (byte[])r.GetValue(1));
            return (f.Size, f.Root());
        }
        finally
        {
            await ReleaseAsync(c).ConfigureAwait(false);
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
