using System.Data.Common;
using Npgsql;
using NpgsqlTypes;
using Skjold.Audit.Events;

namespace Skjold.Audit.Storage;

/// <summary>
/// The production store: PostgreSQL through Npgsql. Several receiver replicas share one log: each
/// append runs in a transaction that first takes a transaction-scoped advisory lock, the log's
/// single sequencer, so leaf order is total. Batches are written with binary COPY; commit is
/// durable with the server's default synchronous_commit.
/// </summary>
public sealed class PostgresAuditStore : SqlAuditStore
{
    /// <summary>The advisory lock key: "skjold" in ASCII.</summary>
    private const long SequencerLock = 0x736b6a6f6c64;

    private readonly NpgsqlDataSource _dataSource;

    /// <summary>Hashes of recent leaves (and levels 1 to 3) kept for proofs: 2 million, 64 MB, about the last million events.</summary>
    public const long DefaultRecentHashes = 2L << 20;

    public PostgresAuditStore(string connectionString)
        : this(connectionString, DefaultRecentHashes)
    {
    }

    private readonly int _sealBits = 13;

    /// <summary>A store with smaller sealed chunks (tests); a database keeps the size it was sealed with.</summary>
    internal PostgresAuditStore(string connectionString, long recentHashes, int sealBits)
        : this(connectionString, recentHashes)
    {
        _sealBits = sealBits;
    }

    public override int SealBits => _sealBits;

    protected override bool SealWhileInserting => false;

    /// <summary>The connection string (tests edit the tables directly, as an attacker would).</summary>
    internal string ConnectionString => _dataSource.ConnectionString;

    /// <param name="recentHashes">How many recent low hashes to keep in memory for proofs (32 bytes each; 0 for none).</param>
    public PostgresAuditStore(string connectionString, long recentHashes)
        : base(recentHashes)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Description = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
        // Statements are prepared on the server after a few uses (the proof read is one round trip
        // of a prepared statement), unless the connection string says otherwise.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 32;
        }

        // The store leaves no session state behind (its advisory lock is transaction-scoped), so a
        // pooled connection need not be reset on every return, a round of work saved per query.
        builder.NoResetOnClose = true;

        _dataSource = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    public override string Description { get; }

    protected override IEnumerable<string> SchemaStatements =>
    [
        """
        CREATE TABLE IF NOT EXISTS events(
          idx BIGINT PRIMARY KEY, ts BIGINT NOT NULL, audit_id TEXT, stage TEXT, verb TEXT, username TEXT,
          source_ip TEXT, user_agent TEXT, resource TEXT, subresource TEXT, namespace TEXT, name TEXT, api_group TEXT,
          code INTEGER, request_uri TEXT, groups TEXT, leaf_hash BYTEA NOT NULL, purged INTEGER NOT NULL DEFAULT 0, payload BYTEA)
        """,
        "CREATE TABLE IF NOT EXISTS group_index(grp TEXT NOT NULL, ts BIGINT NOT NULL, idx BIGINT NOT NULL, PRIMARY KEY(grp, ts, idx))",
        // Verification reads the group entries of one chunk of leaves at a time (without it, a scan each).
        "CREATE INDEX IF NOT EXISTS group_index_idx ON group_index(idx)",
        "CREATE TABLE IF NOT EXISTS nodes(lvl INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY(lvl, idx))",
        "CREATE TABLE IF NOT EXISTS tree_state(id INTEGER PRIMARY KEY CHECK (id = 0), size BIGINT NOT NULL, frontier BYTEA NOT NULL)",
        "INSERT INTO tree_state(id, size, frontier) VALUES (0, 0, ''::bytea) ON CONFLICT (id) DO NOTHING",
        "CREATE TABLE IF NOT EXISTS tree_heads(size BIGINT PRIMARY KEY, ts BIGINT NOT NULL, root BYTEA NOT NULL, signature BYTEA NOT NULL, key_id TEXT NOT NULL)",
        "ALTER TABLE tree_heads ADD COLUMN IF NOT EXISTS ext BYTEA",
        "CREATE TABLE IF NOT EXISTS chunk_seals(chunk BIGINT PRIMARY KEY, min_ts BIGINT NOT NULL, max_ts BIGINT NOT NULL, columns BYTEA NOT NULL, manifest BYTEA NOT NULL, digest BYTEA NOT NULL, chain BYTEA NOT NULL)",
        "CREATE TABLE IF NOT EXISTS partial_seals(size BIGINT PRIMARY KEY, chunk BIGINT NOT NULL, min_ts BIGINT NOT NULL, max_ts BIGINT NOT NULL, columns BYTEA NOT NULL, manifest BYTEA NOT NULL, digest BYTEA NOT NULL)",
        "CREATE TABLE IF NOT EXISTS ingest_offsets(path TEXT PRIMARY KEY, file_id TEXT NOT NULL, byte_offset BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS holds(id BIGSERIAL PRIMARY KEY, reason TEXT NOT NULL, namespace TEXT, username TEXT, resource TEXT, created BIGINT NOT NULL, until BIGINT)",
        .. TimeIndexStatements,
        .. FieldIndexStatements,
    ];

    protected override string ContainsSql(string haystack, string needle) => $"strpos({haystack}, {needle})";

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        // Serialise concurrent initialisation by several replicas.
        await using var c = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await c.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecAsync(c, tx, $"SELECT pg_advisory_xact_lock({SequencerLock})", cancellationToken).ConfigureAwait(false);
        foreach (var sql in SchemaStatements)
        {
            await ExecAsync(c, tx, sql, cancellationToken).ConfigureAwait(false);
        }

        await MigrateAsync(c, tx, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        await SealExistingChunksAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override string TableExistsSql => "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = @name";

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken ct) =>
        await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);

    protected override async ValueTask<DbTransaction> BeginAppendAsync(DbConnection connection, CancellationToken ct)
    {
        var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await ExecAsync(connection, tx, $"SELECT pg_advisory_xact_lock({SequencerLock})", ct).ConfigureAwait(false);
        return tx;
    }

    protected override async Task InsertAsync(DbConnection connection, DbTransaction tx, long firstIndex, IReadOnlyList<PreparedEvent> events,
        Task<List<(int Level, long Index, byte[] Hash)>> hashing, CancellationToken ct)
    {
        var c = (NpgsqlConnection)connection;
        await using (var copy = await c.BeginBinaryImportAsync($"COPY events({Columns}, payload) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false))
        {
            var index = firstIndex;
            foreach (var e in events)
            {
                var f = e.Fields;
                await copy.StartRowAsync(ct).ConfigureAwait(false);
                await copy.WriteAsync(index++, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await copy.WriteAsync(Micros(f.Time), NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await Text(copy, f.AuditId, ct).ConfigureAwait(false);
                await Text(copy, f.Stage, ct).ConfigureAwait(false);
                await Text(copy, f.Verb, ct).ConfigureAwait(false);
                await Text(copy, f.Username, ct).ConfigureAwait(false);
                await Text(copy, f.SourceIp, ct).ConfigureAwait(false);
                await Text(copy, f.UserAgent, ct).ConfigureAwait(false);
                await Text(copy, f.Resource, ct).ConfigureAwait(false);
                await Text(copy, f.Subresource, ct).ConfigureAwait(false);
                await Text(copy, f.Namespace, ct).ConfigureAwait(false);
                await Text(copy, f.Name, ct).ConfigureAwait(false);
                await Text(copy, f.ApiGroup, ct).ConfigureAwait(false);
                if (f.Code is { } code)
                {
                    await copy.WriteAsync(code, NpgsqlDbType.Integer, ct).ConfigureAwait(false);
                }
                else
                {
                    await copy.WriteNullAsync(ct).ConfigureAwait(false);
                }

                await Text(copy, f.RequestUri, ct).ConfigureAwait(false);
                await copy.WriteAsync(e.LeafHash, NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
                await Text(copy, JoinGroups(f.Groups), ct).ConfigureAwait(false);
                await copy.WriteAsync(e.Canonical, NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
            }

            await copy.CompleteAsync(ct).ConfigureAwait(false);
        }

        await using (var copy = await c.BeginBinaryImportAsync("COPY group_index(idx, grp, ts) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false))
        {
            var index = firstIndex;
            foreach (var e in events)
            {
                foreach (var g in e.Fields.Groups.Where(g => !IsImplicitGroup(g)))
                {
                    await copy.StartRowAsync(ct).ConfigureAwait(false);
                    await copy.WriteAsync(index, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                    await copy.WriteAsync(g, NpgsqlDbType.Text, ct).ConfigureAwait(false);
                    await copy.WriteAsync(Micros(e.Fields.Time), NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                }

                index++;
            }

            await copy.CompleteAsync(ct).ConfigureAwait(false);
        }

        var nodes = await hashing.ConfigureAwait(false);
        if (nodes.Count > 0)
        {
            await using var copy = await c.BeginBinaryImportAsync("COPY nodes(lvl, idx, hash) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false);
            foreach (var (level, idx, hash) in nodes)
            {
                await copy.StartRowAsync(ct).ConfigureAwait(false);
                await copy.WriteAsync(level, NpgsqlDbType.Integer, ct).ConfigureAwait(false);
                await copy.WriteAsync(idx, NpgsqlDbType.Bigint, ct).ConfigureAwait(false);
                await copy.WriteAsync(hash, NpgsqlDbType.Bytea, ct).ConfigureAwait(false);
            }

            await copy.CompleteAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Leaves and interior nodes in one round trip, with a statement text that does not depend on how many are asked for.</summary>
    protected override async Task ReadNodesAsync(List<long> leaves, List<(int Level, long Index)> inner, Dictionary<(int, long), byte[]> into, CancellationToken ct)
    {
        await using var c = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand(
            "SELECT 0, idx, leaf_hash FROM events WHERE idx = ANY(@leaves) " +
            "UNION ALL SELECT n.lvl, n.idx, n.hash FROM nodes n JOIN unnest(@lv, @ix) AS w(lvl, idx) ON n.lvl = w.lvl AND n.idx = w.idx",
            c);
        cmd.Parameters.Add(new NpgsqlParameter<long[]>("leaves", [.. leaves]));
        cmd.Parameters.Add(new NpgsqlParameter<int[]>("lv", [.. inner.Select(n => n.Level)]));
        cmd.Parameters.Add(new NpgsqlParameter<long[]>("ix", [.. inner.Select(n => n.Index)]));
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            into[(r.GetInt32(0), r.GetInt64(1))] = (byte[])r.GetValue(2);
        }
    }

    private static Task Text(NpgsqlBinaryImporter copy, string? value, CancellationToken ct) =>
        value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, NpgsqlDbType.Text, ct);

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}
