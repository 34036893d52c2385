using System.Globalization;
using Microsoft.Data.Sqlite;
using Skjold.Audit.Events;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Tests;

/// <summary>
/// The embedded store's chunked term index, with chunks of 16 leaves so that a few hundred events
/// make many chunks: query results must equal a plain filter over every stored record, whichever
/// plan answers, with several writers, restarts, purges and out-of-order times.
/// </summary>
public sealed class TermIndexTests : IDisposable
{
    private const int ChunkBits = 4;

    private static readonly string[] Users = [.. Enumerable.Range(0, 40).Select(i => $"user-{i}"), "alice", "alice", "alice", "alice", "alice", "alice"];
    private static readonly string[] Namespaces = [.. Enumerable.Range(0, 12).Select(i => $"ns-{i}")];
    private static readonly string[] Resources = ["pods", "secrets", "configmaps", "roles", "deployments"];
    private static readonly string[] Verbs = ["get", "list", "watch", "create", "update", "patch", "delete"];
    private static readonly string[] Groups = ["dev", "ops", "sre", "auditors", "system:masters"];

    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-terms-").FullName;
    private readonly AuditKeys _keys;
    private readonly KeyedRedactor _redactor;

    public TermIndexTests()
    {
        _keys = AuditKeys.Create(_dir);
        _redactor = new KeyedRedactor(_keys.RedactionKey);
    }

    private PreparedEvent RandomEvent(Random rng, int i, DateTimeOffset start)
    {
        var resource = Resources[rng.Next(Resources.Length)];
        var verb = Verbs[rng.Next(Verbs.Length)];
        // Times mostly advance, but batches from several API servers interleave out of order.
        var time = start.AddSeconds(i * 2 + rng.Next(-400, 400));
        var json = AuditTestLog.Event(i,
            verb: verb,
            user: Users[rng.Next(Users.Length)],
            resource: resource,
            ns: Namespaces[rng.Next(Namespaces.Length)],
            name: verb is "list" or "watch" ? null : $"obj-{rng.Next(6)}",
            code: rng.Next(10) == 0 ? 403 : 200,
            time: time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            subresource: resource == "pods" && rng.Next(8) == 0 ? "exec" : null,
            group: Groups[rng.Next(Groups.Length)],
            apiGroup: resource == "roles" ? "rbac.authorization.k8s.io" : resource == "deployments" ? "apps" : null);
        return AuditEventReader.Prepare(json, _redactor);
    }

    [Fact]
    public async Task Queries_MatchAPlainFilter_WithTwoWritersRestartsAndPurges()
    {
        var rng = new Random(7);
        var start = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);
        var a = new SqliteAuditStore(_dir, ChunkBits);
        var b = new SqliteAuditStore(_dir, ChunkBits);
        await a.InitializeAsync(default);
        await b.InitializeAsync(default);
        var n = 0;
        while (n < 700)
        {
            // Two stores on one file stand for two processes: each must notice the other's appends.
            var batch = Enumerable.Range(n, rng.Next(1, 40)).Select(i => RandomEvent(rng, i, start)).ToList();
            await (rng.Next(2) == 0 ? a : b).AppendAsync(batch, null, default);
            n += batch.Count;
        }

        await b.DisposeAsync();

        // Reopened asking for another chunk size: the store keeps the one it was made with.
        await using var c = new SqliteAuditStore(_dir, 13);
        await c.InitializeAsync(default);
        await c.AppendAsync([.. Enumerable.Range(n, 37).Select(i => RandomEvent(rng, i, start))], null, default);
        n += 37;
        await a.AppendAsync([.. Enumerable.Range(n, 21).Select(i => RandomEvent(rng, i, start))], null, default);
        n += 21;
        Assert.Equal(n, (await c.StateAsync(default)).Size);
        Assert.Equal((long)n >> ChunkBits, await ScalarAsync("SELECT count(*) FROM chunks"));

        // Purged events keep their place in the postings but no longer match their old user.
        var purged = await a.PurgeAsync(start.AddMinutes(5), "configmaps", [], [], dryRun: false, default);
        Assert.True(purged.Count > 0);

        var all = await ToListAsync(c.QueryAsync(new AuditQuery { Limit = int.MaxValue }, false, default));
        Assert.Equal(n, all.Count);
        // Store c answers every query with a term from postings, however common the term, so that
        // the early stop of time-ordered chunks is exercised too.
        c.AlwaysUsePostings = true;
        var plans = new HashSet<string>();
        for (var k = 0; k < 600; k++)
        {
            var q = RandomQuery(rng, start);
            var store = k % 2 == 0 ? a : c;
            var expected = Reference(all.Select(x => x.Record), q).Select(r => r.Index).ToList();
            var actual = (await ToListAsync(store.QueryAsync(q, false, default))).Select(x => x.Record.Index).ToList();
            plans.Add(store.LastPlan!.Split(' ')[0]);
            Assert.True(expected.SequenceEqual(actual), $"query {k} ({store.LastPlan}): {q}\nexpected {string.Join(",", expected)}\nactual   {string.Join(",", actual)}");
        }

        Assert.Contains("postings", plans);
        Assert.Contains("rows", plans);
        await a.DisposeAsync();
    }

    [Fact]
    public async Task StoreOfAnEarlierVersion_TermIndexBuiltOnInit_OldIndexesDropped()
    {
        var rng = new Random(3);
        var start = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);
        await using (var s = new SqliteAuditStore(_dir, ChunkBits))
        {
            await s.InitializeAsync(default);
            await s.AppendAsync([.. Enumerable.Range(0, 150).Select(i => RandomEvent(rng, i, start))], null, default);
        }

        // The 0.2 schema: B-tree indexes by field and group_index, no term index.
        await ExecAsync("DROP TABLE postings; DROP TABLE chunks; DROP TABLE settings; " +
            "CREATE INDEX events_user ON events(username, ts); CREATE INDEX events_ns ON events(namespace, ts); " +
            "CREATE TABLE group_index(grp TEXT NOT NULL, ts INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(grp, ts, idx)) WITHOUT ROWID;");

        await using var reopened = new SqliteAuditStore(_dir, ChunkBits);
        await reopened.InitializeAsync(default);
        Assert.Equal(150 >> ChunkBits, await ScalarAsync("SELECT count(*) FROM chunks"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM sqlite_master WHERE name IN ('events_user', 'events_ns', 'group_index', 'event_groups')"));

        var all = (await ToListAsync(reopened.QueryAsync(new AuditQuery { Limit = int.MaxValue }, false, default))).Select(x => x.Record).ToList();
        var q = new AuditQuery { User = "user-3" };
        var actual = (await ToListAsync(reopened.QueryAsync(q, false, default))).Select(x => x.Record.Index).ToList();
        Assert.StartsWith("postings u:user-3", reopened.LastPlan);
        Assert.NotEmpty(actual);
        Assert.Equal(Reference(all, q).Select(r => r.Index), actual);

        await reopened.InitializeAsync(default); // idempotent
        Assert.Equal(150 >> ChunkBits, await ScalarAsync("SELECT count(*) FROM chunks"));
    }

    [Fact]
    public async Task FailedAppend_LeavesNoTermsOfItsEvents()
    {
        var rng = new Random(11);
        var start = new DateTimeOffset(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);
        await using var s = new SqliteAuditStore(_dir, ChunkBits);
        await s.InitializeAsync(default);
        await s.AppendAsync([.. Enumerable.Range(0, 10).Select(i => RandomEvent(rng, i, start))], null, default);

        // A batch that fails half-way (a trigger refuses its 16th row) is rolled back; the writer must
        // forget the terms it collected for the rows before it.
        await ExecAsync("CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.audit_id = 'id-25' BEGIN SELECT RAISE(ABORT, 'refused'); END");
        var doomed = Enumerable.Range(10, 30).Select(i => RandomEvent(rng, i, start)).ToList();
        var error = await Assert.ThrowsAsync<SqliteException>(() => s.AppendAsync(doomed, null, default));
        Assert.Contains("refused", error.Message, StringComparison.Ordinal);
        await ExecAsync("DROP TRIGGER boom");

        var kept = Enumerable.Range(100, 30).Select(i => RandomEvent(rng, i, start)).ToList();
        await s.AppendAsync(kept, null, default);
        var all = (await ToListAsync(s.QueryAsync(new AuditQuery { Limit = int.MaxValue }, false, default))).Select(x => x.Record).ToList();
        Assert.Equal(40, all.Count);
        foreach (var user in Users.Distinct())
        {
            var q = new AuditQuery { User = user };
            Assert.Equal(Reference(all, q).Select(r => r.Index), (await ToListAsync(s.QueryAsync(q, false, default))).Select(x => x.Record.Index));
        }
    }

    private static AuditQuery RandomQuery(Random rng, DateTimeOffset start)
    {
        var q = new AuditQuery { Limit = new[] { 1, 5, 50, 1000 }[rng.Next(4)], Descending = rng.Next(2) == 0 };
        var filters = rng.Next(1, 4);
        for (var f = 0; f < filters; f++)
        {
            q = rng.Next(11) switch
            {
                0 => q with { User = Users[rng.Next(Users.Length)] },
                1 => q with { Namespace = Namespaces[rng.Next(Namespaces.Length)] },
                2 => q with { Resource = Resources[rng.Next(Resources.Length)] },
                3 => q with { Resource = "secrets", Namespace = Namespaces[rng.Next(Namespaces.Length)], Name = $"obj-{rng.Next(6)}", IncludeCollection = rng.Next(2) == 0 },
                4 => q with { Group = Groups[rng.Next(Groups.Length)] },
                5 => q with { SourceIp = $"10.0.0.{rng.Next(250)}" },
                6 => q with { ApiGroup = rng.Next(2) == 0 ? "rbac.authorization.k8s.io" : "apps", Verbs = ["create", "update", "patch", "delete"] },
                7 => q with { Since = start.AddMinutes(rng.Next(0, 20)), Until = start.AddMinutes(rng.Next(10, 40)) },
                8 => q with { Codes = [403] },
                9 => q with { Resource = "pods", Subresources = ["exec"] },
                _ => q with { Verbs = [Verbs[rng.Next(Verbs.Length)]] },
            };
        }

        return q;
    }

    /// <summary>What a query means, written as plainly as possible.</summary>
    private static IEnumerable<AuditRecord> Reference(IEnumerable<AuditRecord> all, AuditQuery q)
    {
        var matches = all.Where(r =>
            (q.Since is null || r.Time >= q.Since) && (q.Until is null || r.Time < q.Until)
            && (q.User is null || r.Username == q.User) && (q.Namespace is null || r.Namespace == q.Namespace)
            && (q.Resource is null || r.Resource == q.Resource) && (q.ApiGroup is null || r.ApiGroup == q.ApiGroup)
            && (q.SourceIp is null || r.SourceIp == q.SourceIp)
            && (q.Name is null || r.Name == q.Name || (q.IncludeCollection && r.Name is null))
            && (q.Verbs.Count == 0 || q.Verbs.Contains(r.Verb!)) && (q.Subresources.Count == 0 || q.Subresources.Contains(r.Subresource!))
            && (q.Codes.Count == 0 || (r.Code is { } code && q.Codes.Contains(code)))
            && (q.Group is null || r.Groups.Contains(q.Group)));
        var ordered = q.Descending ? matches.OrderByDescending(r => r.Time).ThenByDescending(r => r.Index) : matches.OrderBy(r => r.Time).ThenBy(r => r.Index);
        return ordered.Take(q.Limit);
    }

    private async Task ExecAsync(string sql)
    {
        await using var c = new SqliteConnection($"Data Source={Path.Combine(_dir, SqliteAuditStore.FileName)};Pooling=False");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var c = new SqliteConnection($"Data Source={Path.Combine(_dir, SqliteAuditStore.FileName)};Pooling=False");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var i in items)
        {
            list.Add(i);
        }

        return list;
    }

    public void Dispose()
    {
        _keys.Dispose();
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, true);
        }
        catch (IOException)
        {
        }
    }
}
