using System.Data.Common;
using Microsoft.Data.Sqlite;
using Skjold.Audit.Events;

namespace Skjold.Audit.Storage;

/// <summary>
/// The embedded store: one SQLite database (WAL, synchronous=FULL, so a committed batch survives a
/// crash or power loss) in the data directory. Appends take SQLite's write lock (BEGIN IMMEDIATE),
/// which also orders writers from several processes.
/// </summary>
public sealed class SqliteAuditStore : SqlAuditStore
{
    public const string FileName = "audit.db";

    private readonly string _connectionString;

    public SqliteAuditStore(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.Combine(dataDirectory, FileName);
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

    public override string Description => $"SQLite {Path}";

    protected override IEnumerable<string> SchemaStatements =>
    [
        "PRAGMA journal_mode = WAL",
        """
        CREATE TABLE IF NOT EXISTS events(
          idx INTEGER PRIMARY KEY, ts INTEGER NOT NULL, audit_id TEXT, stage TEXT, verb TEXT, username TEXT,
          source_ip TEXT, user_agent TEXT, resource TEXT, subresource TEXT, namespace TEXT, name TEXT, api_group TEXT,
          code INTEGER, request_uri TEXT, leaf_hash BLOB NOT NULL, purged INTEGER NOT NULL DEFAULT 0, payload BLOB)
        """,
        "CREATE TABLE IF NOT EXISTS event_groups(idx INTEGER NOT NULL, grp TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS nodes(lvl INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY(lvl, idx)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS tree_state(id INTEGER PRIMARY KEY CHECK (id = 0), size INTEGER NOT NULL, frontier BLOB NOT NULL)",
        "INSERT OR IGNORE INTO tree_state(id, size, frontier) VALUES (0, 0, x'')",
        "CREATE TABLE IF NOT EXISTS tree_heads(size INTEGER PRIMARY KEY, ts INTEGER NOT NULL, root BLOB NOT NULL, signature BLOB NOT NULL, key_id TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS ingest_offsets(path TEXT PRIMARY KEY, file_id TEXT NOT NULL, byte_offset INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS holds(id INTEGER PRIMARY KEY AUTOINCREMENT, reason TEXT NOT NULL, namespace TEXT, username TEXT, resource TEXT, created INTEGER NOT NULL, until INTEGER)",
        "CREATE INDEX IF NOT EXISTS events_ts ON events(ts)",
        "CREATE INDEX IF NOT EXISTS events_user ON events(username, ts)",
        "CREATE INDEX IF NOT EXISTS events_object ON events(resource, namespace, name, ts)",
        "CREATE INDEX IF NOT EXISTS events_ns ON events(namespace, ts)",
        "CREATE INDEX IF NOT EXISTS events_verb ON events(verb, ts)",
        "CREATE INDEX IF NOT EXISTS events_ip ON events(source_ip, ts)",
        "CREATE INDEX IF NOT EXISTS events_code ON events(code, ts)",
        "CREATE INDEX IF NOT EXISTS event_groups_grp ON event_groups(grp, idx)",
        "CREATE INDEX IF NOT EXISTS event_groups_idx ON event_groups(idx)",
    ];

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        await c.OpenAsync(ct).ConfigureAwait(false);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;";
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return c;
    }

    protected override async ValueTask<DbTransaction> BeginAppendAsync(DbConnection connection, CancellationToken ct)
    {
        // BEGIN IMMEDIATE takes the write lock now, so the tree state read next cannot go stale.
        ct.ThrowIfCancellationRequested();
        return await ValueTask.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false)).ConfigureAwait(false);
    }

    protected override async Task InsertAsync(DbConnection connection, DbTransaction tx, long firstIndex, IReadOnlyList<PreparedEvent> events,
        List<(int Level, long Index, byte[] Hash)> nodes, CancellationToken ct)
    {
        var c = (SqliteConnection)connection;
        await using var ev = c.CreateCommand();
        ev.Transaction = (SqliteTransaction)tx;
        ev.CommandText = $"INSERT INTO events({Columns}, payload) VALUES (@i, @ts, @aid, @st, @v, @u, @ip, @ua, @r, @sr, @ns, @n, @g, @c, @uri, @h, @p)";
        var p = new SqliteParameter[17];
        string[] names = ["@i", "@ts", "@aid", "@st", "@v", "@u", "@ip", "@ua", "@r", "@sr", "@ns", "@n", "@g", "@c", "@uri", "@h", "@p"];
        for (var i = 0; i < names.Length; i++)
        {
            p[i] = ev.CreateParameter();
            p[i].ParameterName = names[i];
            ev.Parameters.Add(p[i]);
        }

        await using var gr = c.CreateCommand();
        gr.Transaction = (SqliteTransaction)tx;
        gr.CommandText = "INSERT INTO event_groups(idx, grp) VALUES (@i, @g)";
        var gi = gr.CreateParameter();
        gi.ParameterName = "@i";
        var gg = gr.CreateParameter();
        gg.ParameterName = "@g";
        gr.Parameters.Add(gi);
        gr.Parameters.Add(gg);

        var index = firstIndex;
        foreach (var e in events)
        {
            var f = e.Fields;
            p[0].Value = index;
            p[1].Value = Micros(f.Time);
            p[2].Value = (object?)f.AuditId ?? DBNull.Value;
            p[3].Value = (object?)f.Stage ?? DBNull.Value;
            p[4].Value = (object?)f.Verb ?? DBNull.Value;
            p[5].Value = (object?)f.Username ?? DBNull.Value;
            p[6].Value = (object?)f.SourceIp ?? DBNull.Value;
            p[7].Value = (object?)f.UserAgent ?? DBNull.Value;
            p[8].Value = (object?)f.Resource ?? DBNull.Value;
            p[9].Value = (object?)f.Subresource ?? DBNull.Value;
            p[10].Value = (object?)f.Namespace ?? DBNull.Value;
            p[11].Value = (object?)f.Name ?? DBNull.Value;
            p[12].Value = (object?)f.ApiGroup ?? DBNull.Value;
            p[13].Value = (object?)f.Code ?? DBNull.Value;
            p[14].Value = (object?)f.RequestUri ?? DBNull.Value;
            p[15].Value = e.LeafHash;
            p[16].Value = e.Canonical;
            await ev.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            foreach (var g in f.Groups)
            {
                gi.Value = index;
                gg.Value = g;
                await gr.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }

            index++;
        }

        if (nodes.Count > 0)
        {
            await using var nd = c.CreateCommand();
            nd.Transaction = (SqliteTransaction)tx;
            nd.CommandText = "INSERT INTO nodes(lvl, idx, hash) VALUES (@l, @i, @h)";
            var nl = nd.CreateParameter();
            nl.ParameterName = "@l";
            var ni = nd.CreateParameter();
            ni.ParameterName = "@i";
            var nh = nd.CreateParameter();
            nh.ParameterName = "@h";
            nd.Parameters.Add(nl);
            nd.Parameters.Add(ni);
            nd.Parameters.Add(nh);
            foreach (var (level, idx, hash) in nodes)
            {
                nl.Value = level;
                ni.Value = idx;
                nh.Value = hash;
                await nd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }
    }

    protected override async ValueTask ReleaseAsync(DbConnection connection) => await connection.DisposeAsync().ConfigureAwait(false);

    public override ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }
}
