using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using Skjold.Audit.Events;

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
public sealed class SqliteAuditStore : SqlAuditStore
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
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
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

    public override async IAsyncEnumerable<(long Tile, byte[] Hashes)> ReadTilesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var cmd = Command(c, null, "SELECT tile, hashes FROM tiles ORDER BY tile");
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return (r.GetInt64(0), (byte[])r.GetValue(1));
        }
    }

    /// <summary>
    /// Rows for verification through SQLite's own API, a page of 4,096 per statement: every column,
    /// leaf hash and payload, with the strings that repeat from row to row (verbs, users, namespaces)
    /// made once. Reading them through ADO.NET cost three times the rest of verification.
    /// </summary>
    public override async IAsyncEnumerable<StoredRow> ReadRowsAsync(long from, long to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        var db = c.Handle!;

        // A full read (verification) reads pages through a memory map instead of a copy per page.
        raw.sqlite3_exec(db, "PRAGMA mmap_size = 68719476736");

        // The columns are handed over in their canonical byte form, copied straight from SQLite's
        // UTF-8 (no strings): verification compares them as bytes and decodes only a row that differs.
        var buffer = new byte[4096];
        var length = 0;
        void Reserve(int more)
        {
            if (length + more > buffer.Length)
            {
                Array.Resize(ref buffer, Math.Max(buffer.Length * 2, length + more));
            }
        }

        void Text(sqlite3_stmt st, int i)
        {
            if (raw.sqlite3_column_type(st, i) == raw.SQLITE_NULL)
            {
                Reserve(4);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), -1);
                length += 4;
                return;
            }

            var bytes = raw.sqlite3_column_blob(st, i);
            Reserve(4 + bytes.Length);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), bytes.Length);
            bytes.CopyTo(buffer.AsSpan(length + 4));
            length += 4 + bytes.Length;
        }

        void Code(sqlite3_stmt st, int i)
        {
            Reserve(4 + 11);
            if (raw.sqlite3_column_type(st, i) == raw.SQLITE_NULL)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), -1);
                length += 4;
                return;
            }

            raw.sqlite3_column_int(st, i).TryFormat(buffer.AsSpan(length + 4), out var n, default, System.Globalization.CultureInfo.InvariantCulture);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(length), n);
            length += 4 + n;
        }

        using var st = Prepare(db, $"SELECT {Columns}, purged, payload FROM events WHERE idx >= ?1 AND idx < ?2 ORDER BY idx LIMIT 4096");
        var next = from;
        while (next < to)
        {
            cancellationToken.ThrowIfCancellationRequested();
            raw.sqlite3_reset(st);
            raw.sqlite3_bind_int64(st, 1, next);
            raw.sqlite3_bind_int64(st, 2, to);
            var page = new List<StoredRow>(4096);
            int rc;
            while ((rc = raw.sqlite3_step(st)) == raw.SQLITE_ROW)
            {
                length = 8;
                System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(buffer, raw.sqlite3_column_int64(st, 1));
                for (var i = 2; i <= 12; i++)
                {
                    Text(st, i);
                }

                Code(st, 13);
                Text(st, 14);
                Text(st, 16);
                var payload = raw.sqlite3_column_type(st, 18) == raw.SQLITE_NULL ? null : raw.sqlite3_column_blob(st, 18).ToArray();
                page.Add(new StoredRow(raw.sqlite3_column_int64(st, 0), raw.sqlite3_column_int64(st, 17) != 0, buffer.AsSpan(0, length).ToArray(),
                    raw.sqlite3_column_blob(st, 15).ToArray(), payload));
            }

            if (rc != raw.SQLITE_DONE)
            {
                throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
            }

            if (page.Count == 0)
            {
                yield break;
            }

            foreach (var row in page)
            {
                yield return row;
            }

            next = page[^1].Index + 1;
            if (page.Count < 4096)
            {
                yield break;
            }
        }
    }

    /// <summary>The postings of a completed, indexed chunk (null for the open chunk or a range that is not one chunk).</summary>
    public override async Task<Dictionary<string, List<long>>?> IndexEntriesAsync(long from, long to, CancellationToken cancellationToken)
    {
        if (await PostingsOfChunkAsync(from, to, cancellationToken).ConfigureAwait(false) is not { } raw)
        {
            return null;
        }

        var result = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var (term, data) in raw)
        {
            var list = new List<long>();
            TermPostings.Decode(data, from, ChunkSize, list);
            result[term] = list;
        }

        return result;
    }

    /// <summary>The postings rows of a completed chunk as stored (term to encoded offsets); null for the open chunk.</summary>
    public override async Task<Dictionary<string, byte[]>?> PostingsOfChunkAsync(long from, long to, CancellationToken cancellationToken)
    {
        if (from % ChunkSize != 0 || to - from != ChunkSize)
        {
            return null;
        }

        var chunk = from >> _chunkBits;
        await using var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(cancellationToken).ConfigureAwait(false);
        var result = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await using (var check = Command(c, null, "SELECT count(*) FROM chunks WHERE chunk = @c", ("c", chunk)))
        {
            if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                return result; // the chunk's index row is gone: every term is missing
            }
        }

        await using var cmd = Command(c, null, "SELECT term, data FROM postings WHERE chunk = @c", ("c", chunk));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result[r.GetString(0)] = (byte[])r.GetValue(1);
        }

        return result;
    }

    /// <summary>Encodes a chunk's offsets as the postings store them (for comparing without decoding).</summary>
    public override byte[] EncodePostings(List<int> offsets) => TermPostings.Encode(offsets, ChunkSize);

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

    private static sqlite3_stmt Prepare(sqlite3 db, string sql)
    {
        var rc = raw.sqlite3_prepare_v2(db, sql, out var stmt);
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }

        return stmt;
    }

    private static void Step(sqlite3 db, sqlite3_stmt stmt)
    {
        var rc = raw.sqlite3_step(stmt);
        raw.sqlite3_reset(stmt);
        if (rc != raw.SQLITE_DONE)
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
    }

    private static void Text(sqlite3_stmt stmt, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(stmt, index);
        }
        else
        {
            // SQLite converts from UTF-16 itself: no UTF-8 copy on the managed heap for every value.
            // (An empty span would bind NULL.)
            _ = value.Length == 0 ? raw.sqlite3_bind_text(stmt, index, value) : raw.sqlite3_bind_text16(stmt, index, value.AsSpan());
        }
    }

    protected override Task ReadNodesAsync(List<long> leaves, List<(int Level, long Index)> inner, Dictionary<(int, long), byte[]> into, CancellationToken ct)
    {
        lock (_proofLock)
        {
            if (_proofConnection is null)
            {
                var c = new SqliteConnection(_connectionString);
                c.Open();
                using (var pragma = c.CreateCommand())
                {
                    // Tree nodes are read through memory mapping rather than a read call per page.
                    pragma.CommandText = "PRAGMA mmap_size = 17179869184; PRAGMA cache_size = -32768";
                    pragma.ExecuteNonQuery();
                }

                _leafRead = Prepare(c.Handle!, "SELECT leaf_hash FROM events WHERE idx = ?1");
                _nodeRead = Prepare(c.Handle!, "SELECT hash FROM nodes WHERE lvl = ?1 AND idx = ?2");
                _tileRead = Prepare(c.Handle!, "SELECT hashes FROM tiles WHERE tile = ?1");
                _proofConnection = c;
            }

            var db = _proofConnection.Handle!;

            // Levels 0 to 3 from the tile they lie in, one read per tile.
            var low = leaves.Select(i => (Level: 0, Index: i)).Concat(inner.Where(n => n.Level < TileLevels));
            foreach (var group in low.GroupBy(n => (n.Index << n.Level) >> TileLevels))
            {
                ct.ThrowIfCancellationRequested();
                raw.sqlite3_bind_int64(_tileRead, 1, group.Key);
                var tile = ReadBlob(db, _tileRead!);
                foreach (var n in group)
                {
                    if (tile is { Length: TileSize * 32 })
                    {
                        var first = (int)((n.Index << n.Level) & (TileSize - 1));
                        into[n] = SubtreeHash(tile, first, 1 << n.Level);
                    }
                    else
                    {
                        // The open tile at the right edge, or a store written before tiles.
                        ReadWithoutTile(db, n, into);
                    }
                }
            }

            foreach (var (level, idx) in inner.Where(n => n.Level >= TileLevels))
            {
                raw.sqlite3_bind_int(_nodeRead, 1, level);
                raw.sqlite3_bind_int64(_nodeRead, 2, idx);
                ReadHash(db, _nodeRead!, (level, idx), into);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>A leaf from events; a low node from the nodes table (stores before tiles) or else from its leaves.</summary>
    private void ReadWithoutTile(sqlite3 db, (int Level, long Index) n, Dictionary<(int, long), byte[]> into)
    {
        if (n.Level > 0)
        {
            raw.sqlite3_bind_int(_nodeRead, 1, n.Level);
            raw.sqlite3_bind_int64(_nodeRead, 2, n.Index);
            ReadHash(db, _nodeRead!, n, into);
            if (into.ContainsKey(n))
            {
                return;
            }
        }

        var count = 1 << n.Level;
        var hashes = new byte[count * 32];
        for (var i = 0; i < count; i++)
        {
            raw.sqlite3_bind_int64(_leafRead, 1, (n.Index << n.Level) + i);
            if (ReadBlob(db, _leafRead!) is not { Length: 32 } leaf)
            {
                return; // missing: the caller reports it
            }

            leaf.CopyTo(hashes, i * 32);
        }

        into[n] = SubtreeHash(hashes, 0, count);
    }

    /// <summary>The hash of the perfect subtree over <paramref name="count"/> consecutive leaf hashes from <paramref name="first"/>.</summary>
    private static byte[] SubtreeHash(byte[] hashes, int first, int count) =>
        count == 1
            ? hashes.AsSpan(first * 32, 32).ToArray()
            : Merkle.MerkleHash.Node(SubtreeHash(hashes, first, count / 2), SubtreeHash(hashes, first + (count / 2), count / 2));

    private static byte[]? ReadBlob(sqlite3 db, sqlite3_stmt stmt)
    {
        var rc = raw.sqlite3_step(stmt);
        try
        {
            return rc == raw.SQLITE_ROW ? raw.sqlite3_column_blob(stmt, 0).ToArray()
                : rc == raw.SQLITE_DONE ? null
                : throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
        finally
        {
            raw.sqlite3_reset(stmt);
        }
    }

    private static void ReadHash(sqlite3 db, sqlite3_stmt stmt, (int, long) key, Dictionary<(int, long), byte[]> into)
    {
        var rc = raw.sqlite3_step(stmt);
        try
        {
            if (rc == raw.SQLITE_ROW)
            {
                into[key] = raw.sqlite3_column_blob(stmt, 0).ToArray();
            }
            else if (rc != raw.SQLITE_DONE)
            {
                throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
            }
        }
        finally
        {
            raw.sqlite3_reset(stmt);
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
