using System.Data.Common;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Skjold.Audit.Events;
using static Skjold.Audit.Storage.SqliteStatements;

namespace Skjold.Audit.Storage;

/// <summary>
/// The embedded store: one SQLite database (WAL, synchronous=FULL, so a committed batch survives a
/// crash or power loss) in the data directory. Appends take SQLite's write lock (BEGIN IMMEDIATE),
/// which also orders writers from several processes.
/// </summary>
/// <remarks>
/// Users, namespaces, source IPs, objects, API groups and groups are not B-tree indexes here (each
/// commit dirtied a page of each for every distinct value, most of the writer's time) but a chunked
/// term index (<see cref="TermPostings"/>): the writer collects the terms of the open chunk in
/// memory and writes one postings row per term when the chunk completes, in the same transaction
/// as the events that complete it. After a restart, or when another process appended, the open
/// chunk is rebuilt from its rows. Queries read the postings of their rarest term and scan only the
/// open chunk's rows.
/// </remarks>
public sealed partial class SqliteAuditStore : SqlAuditStore
{
    public const string FileName = "audit.db";

    /// <summary>Leaves per chunk of the term index, as a power of two (8,192).</summary>
    public const int DefaultChunkBits = 13;

    private readonly string _connectionString;
    private readonly int _requestedChunkBits;
    private int _chunkBits;

    // The open chunk's postings, owned by the writer (appends hold SQLite's write lock).
    private readonly Lock _termLock = new();
    private TermPostings.OpenChunk? _open;

    // Proof reads: one long-lived connection with its statements prepared once (WAL lets it read
    // while the writer appends). Opening a pooled connection and preparing per proof cost ~100 µs.
    private readonly Lock _proofLock = new();
    private SqliteConnection? _proofConnection;
    private sqlite3_stmt? _leafRead;
    private sqlite3_stmt? _nodeRead;
    private sqlite3_stmt? _tileRead;

    /// <summary>
    /// Leaf hashes are also stored 16 to a row (a tile) when 16 leaves are complete; a proof's four
    /// lowest hashes (levels 0 to 3) are then one read and a few hashes of that tile, and the nodes
    /// table keeps only levels 4 and up.
    /// </summary>
    private const int TileLevels = 4;

    private const int TileSize = 1 << TileLevels;

    public SqliteAuditStore(string dataDirectory)
        : this(dataDirectory, DefaultChunkBits)
    {
    }

    /// <summary>A store with another chunk size for its term index (tests use small chunks); a store keeps the size it was made with.</summary>
    internal SqliteAuditStore(string dataDirectory, int chunkBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBits, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkBits, 16);
        _requestedChunkBits = _chunkBits = chunkBits;
        Path = System.IO.Path.Combine(dataDirectory, FileName);
        CreatePrivately(dataDirectory, Path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>
    /// The data directory (0700) and the database (0600) are the owner's alone: the trail names who
    /// did what and must not be readable by every local user. SQLite gives its WAL and shared-memory
    /// files the database's mode. An existing database with a wider mode is narrowed.
    /// </summary>
    private static void CreatePrivately(string directory, string path)
    {
        PrivateDirectory.Create(directory);
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!File.Exists(path))
        {
            try
            {
                using var _ = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = Private });
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process created it first.
            }
        }
        else if ((File.GetUnixFileMode(path) & ~Private) != 0)
        {
            try
            {
                File.SetUnixFileMode(path, Private);
            }
            catch (UnauthorizedAccessException)
            {
                // Not the owner: leave it; the owner's next open narrows it.
            }
        }
    }

    public override string Description => $"SQLite {Path}";

    /// <summary>How the last query was answered (for tests and diagnostics): "postings TERM", "rows" or "rows (dense TERM)".</summary>
    internal string? LastPlan { get; private set; }

    /// <summary>Tests: answer from postings whenever the query has a term, however common.</summary>
    internal bool AlwaysUsePostings { get; set; }

    private int ChunkSize => 1 << _chunkBits;

    protected override bool HasGroupIndex => false;

    protected override string ContainsSql(string haystack, string needle) => $"instr({haystack}, {needle})";

    protected override IEnumerable<string> SchemaStatements =>
    [
        "PRAGMA journal_mode = WAL",
        """
        CREATE TABLE IF NOT EXISTS events(
          idx INTEGER PRIMARY KEY, ts INTEGER NOT NULL, audit_id TEXT, stage TEXT, verb TEXT, username TEXT,
          source_ip TEXT, user_agent TEXT, resource TEXT, subresource TEXT, namespace TEXT, name TEXT, api_group TEXT,
          code INTEGER, request_uri TEXT, groups TEXT, leaf_hash BLOB NOT NULL, purged INTEGER NOT NULL DEFAULT 0, payload BLOB)
        """,
        "CREATE TABLE IF NOT EXISTS nodes(lvl INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY(lvl, idx)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS tree_state(id INTEGER PRIMARY KEY CHECK (id = 0), size INTEGER NOT NULL, frontier BLOB NOT NULL)",
        "INSERT OR IGNORE INTO tree_state(id, size, frontier) VALUES (0, 0, x'')",
        "CREATE TABLE IF NOT EXISTS tree_heads(size INTEGER PRIMARY KEY, ts INTEGER NOT NULL, root BLOB NOT NULL, signature BLOB NOT NULL, key_id TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS ingest_offsets(path TEXT PRIMARY KEY, file_id TEXT NOT NULL, byte_offset INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS holds(id INTEGER PRIMARY KEY AUTOINCREMENT, reason TEXT NOT NULL, namespace TEXT, username TEXT, resource TEXT, created INTEGER NOT NULL, until INTEGER)",
        "CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS postings(term TEXT NOT NULL, chunk INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(term, chunk)) WITHOUT ROWID",
        // Verification reads a chunk's postings beside the chunk's rows: without this index each such read
        // scanned the whole table (quadratic in the log's size: 10 million events took 270 s).
        "CREATE INDEX IF NOT EXISTS postings_chunk ON postings(chunk)",
        "CREATE TABLE IF NOT EXISTS chunks(chunk INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS tiles(tile INTEGER PRIMARY KEY, hashes BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS chunk_seals(chunk INTEGER PRIMARY KEY, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, columns BLOB NOT NULL, manifest BLOB NOT NULL, digest BLOB NOT NULL, chain BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS partial_seals(size INTEGER PRIMARY KEY, chunk INTEGER NOT NULL, min_ts INTEGER NOT NULL, max_ts INTEGER NOT NULL, columns BLOB NOT NULL, manifest BLOB NOT NULL, digest BLOB NOT NULL)",
        .. TimeIndexStatements,
        .. FieldIndexStatements.Select(sql => "DROP INDEX IF EXISTS " + sql.Split(' ')[5]),
    ];

    /// <summary>
    /// Stores of 0.1 and 0.2 kept groups in event_groups or group_index and B-tree indexes by user,
    /// object, namespace and source IP; the term index replaces them (built by <see cref="InitializeAsync"/>
    /// from the events' own columns).
    /// </summary>
    protected override async Task MigrateAsync(DbConnection c, DbTransaction? tx, CancellationToken ct)
    {
        await ExecAsync(c, tx, "DROP TABLE IF EXISTS event_groups", ct).ConfigureAwait(false);
        await ExecAsync(c, tx, "DROP TABLE IF EXISTS group_index", ct).ConfigureAwait(false);
        await using var cmd = Command(c, tx, "SELECT count(*) FROM pragma_table_info('tree_heads') WHERE name = 'ext'");
        if (Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            await ExecAsync(c, tx, "ALTER TABLE tree_heads ADD COLUMN ext BLOB", ct).ConfigureAwait(false); // version 2 tree heads
        }
    }

    public override int SealBits => _chunkBits;

    public override int LowestStoredNodeLevel => TileLevels;

    public override string IndexedTermKinds => "unirRag";

    public override async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await base.InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (var cmd = Command(c, null, "INSERT OR IGNORE INTO settings(key, value) VALUES ('chunk_bits', @b); SELECT value FROM settings WHERE key = 'chunk_bits'",
                         ("b", _requestedChunkBits.ToString(System.Globalization.CultureInfo.InvariantCulture))))
        {
            _chunkBits = int.Parse((string)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!, System.Globalization.CultureInfo.InvariantCulture);
        }

        // Index completed chunks that have none yet (a store of an earlier version), 64 chunks per transaction.
        var done = false;
        while (!done)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await using var tx = await BeginAppendAsync(c, cancellationToken).ConfigureAwait(false);
            lock (_termLock)
            {
                done = IndexCompletedChunks(c.Handle!, TreeSize(c.Handle!), 64);
            }

            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        await SealExistingChunksAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        return c;
    }

    protected override async ValueTask<DbTransaction> BeginAppendAsync(DbConnection connection, CancellationToken ct)
    {
        // Durability and write-path tuning, set on the connection that writes (pooled connections keep them).
        // The WAL is folded into the database every 131,072 pages (512 MiB; SQLite defaults to 1,000)
        // so that index pages many commits touch are written back once, not once per
        // checkpoint (35% more events/s at 1M events with 32 batches in flight; see benchmarks.md).
        await using (var cmd = connection.CreateCommand())
        {
            cmd.CommandText = "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 131072; PRAGMA journal_size_limit = 536870912;";
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        // BEGIN IMMEDIATE takes the write lock now, so the tree state read next cannot go stale.
        ct.ThrowIfCancellationRequested();
        return await ValueTask.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false)).ConfigureAwait(false);
    }

    protected override async Task InsertAsync(DbConnection connection, DbTransaction tx, long firstIndex, IReadOnlyList<PreparedEvent> events,
        Task<List<(int Level, long Index, byte[] Hash)>> hashing, CancellationToken ct)
    {
        // The hot path of ingestion: statements prepared once per batch and driven through SQLite's
        // own API (bind, step, reset), which costs a fraction of an ADO.NET command per row. The
        // transaction is the connection's current one.
        var db = ((SqliteConnection)connection).Handle!;
        lock (_termLock)
        {
            if (_open is null || _open.Next != firstIndex)
            {
                _open = Recover(db, firstIndex);
            }

            InsertEvents(db, firstIndex, events, ct);
        }

        InsertTiles(db, firstIndex, events);
        var nodes = await hashing.ConfigureAwait(false);
        if (nodes.Count > 0)
        {
            using var nd = Prepare(db, "INSERT INTO nodes(lvl, idx, hash) VALUES (?1, ?2, ?3)");
            foreach (var (level, idx, hash) in nodes)
            {
                if (level < TileLevels)
                {
                    continue; // in the tiles
                }

                raw.sqlite3_bind_int(nd, 1, level);
                raw.sqlite3_bind_int64(nd, 2, idx);
                raw.sqlite3_bind_blob(nd, 3, hash);
                Step(db, nd);
            }
        }
    }

    /// <summary>Writes a tile for every run of 16 leaves the append completes (the first may have begun in an earlier append).</summary>
    private static void InsertTiles(sqlite3 db, long firstIndex, IReadOnlyList<PreparedEvent> events)
    {
        var tile = new byte[TileSize * 32];
        var filled = (int)(firstIndex & (TileSize - 1));
        if (filled > 0)
        {
            using var earlier = Prepare(db, "SELECT idx, leaf_hash FROM events WHERE idx >= ?1 AND idx < ?2");
            raw.sqlite3_bind_int64(earlier, 1, firstIndex - filled);
            raw.sqlite3_bind_int64(earlier, 2, firstIndex);
            while (raw.sqlite3_step(earlier) == raw.SQLITE_ROW)
            {
                var offset = (int)(raw.sqlite3_column_int64(earlier, 0) & (TileSize - 1));
                raw.sqlite3_column_blob(earlier, 1).CopyTo(tile.AsSpan(offset * 32, 32));
            }
        }

        using var st = Prepare(db, "INSERT OR REPLACE INTO tiles(tile, hashes) VALUES (?1, ?2)");
        var index = firstIndex;
        foreach (var e in events)
        {
            e.LeafHash.CopyTo(tile.AsSpan((int)(index & (TileSize - 1)) * 32));
            if ((index & (TileSize - 1)) == TileSize - 1)
            {
                raw.sqlite3_bind_int64(st, 1, index >> TileLevels);
                raw.sqlite3_bind_blob(st, 2, tile);
                Step(db, st);
            }

            index++;
        }
    }

    private void InsertEvents(sqlite3 db, long firstIndex, IReadOnlyList<PreparedEvent> events, CancellationToken ct)
    {
        using var ev = Prepare(db, $"INSERT INTO events({Columns}, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)");
        var index = firstIndex;
        foreach (var e in events)
        {
            ct.ThrowIfCancellationRequested();
            var f = e.Fields;
            var ts = Micros(f.Time);
            raw.sqlite3_bind_int64(ev, 1, index);
            raw.sqlite3_bind_int64(ev, 2, ts);
            Text(ev, 3, f.AuditId);
            Text(ev, 4, f.Stage);
            Text(ev, 5, f.Verb);
            Text(ev, 6, f.Username);
            Text(ev, 7, f.SourceIp);
            Text(ev, 8, f.UserAgent);
            Text(ev, 9, f.Resource);
            Text(ev, 10, f.Subresource);
            Text(ev, 11, f.Namespace);
            Text(ev, 12, f.Name);
            Text(ev, 13, f.ApiGroup);
            if (f.Code is { } code)
            {
                raw.sqlite3_bind_int64(ev, 14, code);
            }
            else
            {
                raw.sqlite3_bind_null(ev, 14);
            }

            Text(ev, 15, f.RequestUri);
            raw.sqlite3_bind_blob(ev, 16, e.LeafHash);
            Text(ev, 17, JoinGroups(f.Groups));
            raw.sqlite3_bind_blob(ev, 18, e.Canonical);
            Step(db, ev);
            _open!.Add(index, ts, f.Username, f.Namespace, f.SourceIp, f.Resource, f.ApiGroup, f.Groups);
            if (_open.Complete)
            {
                Flush(db, _open);
                _open = new TermPostings.OpenChunk(_open.Chunk + 1, ChunkSize, _open.Terms);
            }

            index++;
        }
    }

    protected override void AppendAborted()
    {
        // What the writer collected for the open chunk may include rolled-back events.
        lock (_termLock)
        {
            _open = null;
        }
    }

    protected override string TableExistsSql => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = @name";

    protected override async ValueTask ReleaseAsync(DbConnection connection) => await connection.DisposeAsync().ConfigureAwait(false);

    public override ValueTask DisposeAsync()
    {
        lock (_proofLock)
        {
            _leafRead?.Dispose();
            _nodeRead?.Dispose();
            _tileRead?.Dispose();
            _proofConnection?.Dispose();
            _proofConnection = null;
        }

        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
