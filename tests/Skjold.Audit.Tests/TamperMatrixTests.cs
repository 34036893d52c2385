using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;
using Skjold.TestSupport;

namespace Skjold.Audit.Tests;

/// <summary>
/// The threat the trail exists for: someone who can write the database and wants to hide what
/// they did. Each row of the matrix makes one kind of edit directly in the tables of a real store
/// (SQLite, and PostgreSQL on a real server) holding 40 sealed events in four signed heads and
/// chunks of 8, and asserts that verification fails naming the leaf (or the head).
/// </summary>
public sealed class TamperMatrixTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var store in new[] { "sqlite", "postgres" })
        {
            foreach (var edit in Edits.Keys.Where(k => !k.StartsWith(store == "sqlite" ? "postgres:" : "sqlite:", StringComparison.Ordinal)))
            {
                data.Add(store, edit);
            }
        }

        return data;
    }

    /// <summary>Edit name: (SQLite SQL, PostgreSQL SQL, expected problem kind, expected leaf or null).</summary>
    private static readonly Dictionary<string, (string Sqlite, string Postgres, string Kind, long? Leaf)> Edits = new()
    {
        ["column username"] = ("UPDATE events SET username = 'mallorz' WHERE idx = 0", "UPDATE events SET username = 'mallorz' WHERE idx = 0", "column", 0),
        ["column verb"] = ("UPDATE events SET verb = 'patch' WHERE idx = 3", "UPDATE events SET verb = 'patch' WHERE idx = 3", "column", 3),
        ["column namespace"] = ("UPDATE events SET namespace = 'other' WHERE idx = 4", "UPDATE events SET namespace = 'other' WHERE idx = 4", "column", 4),
        ["column resource"] = ("UPDATE events SET resource = 'configmaps' WHERE idx = 5", "UPDATE events SET resource = 'configmaps' WHERE idx = 5", "column", 5),
        ["column name"] = ("UPDATE events SET name = 'other' WHERE idx = 6", "UPDATE events SET name = 'other' WHERE idx = 6", "column", 6),
        ["column ts"] = ("UPDATE events SET ts = ts - 86400000000 WHERE idx = 7", "UPDATE events SET ts = ts - 86400000000 WHERE idx = 7", "column", 7),
        ["column code"] = ("UPDATE events SET code = 200 WHERE idx = 9", "UPDATE events SET code = 200 WHERE idx = 9", "column", 9),
        ["column subresource"] = ("UPDATE events SET subresource = 'exec' WHERE idx = 10", "UPDATE events SET subresource = 'exec' WHERE idx = 10", "column", 10),
        ["column audit_id"] = ("UPDATE events SET audit_id = 'forged' WHERE idx = 11", "UPDATE events SET audit_id = 'forged' WHERE idx = 11", "column", 11),
        ["column groups"] = ("UPDATE events SET groups = 'system:masters' WHERE idx = 12", "UPDATE events SET groups = 'system:masters' WHERE idx = 12", "column", 12),
        ["column source_ip"] = ("UPDATE events SET source_ip = '192.0.2.1' WHERE idx = 13", "UPDATE events SET source_ip = '192.0.2.1' WHERE idx = 13", "column", 13),
        ["payload byte"] = (
            "UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), 'kubectl', 'kubectx') AS BLOB) WHERE idx = 14",
            "UPDATE events SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'kubectl', 'kubectx'), 'UTF8') WHERE idx = 14", "changed", 14),
        ["row delete"] = ("DELETE FROM events WHERE idx = 15", "DELETE FROM events WHERE idx = 15", "missing", 15),
        ["row swap"] = (
            "UPDATE events SET idx = -1 WHERE idx = 20; UPDATE events SET idx = 20 WHERE idx = 21; UPDATE events SET idx = 21 WHERE idx = -1",
            "UPDATE events SET idx = -1 WHERE idx = 20; UPDATE events SET idx = 20 WHERE idx = 21; UPDATE events SET idx = 21 WHERE idx = -1", "reordered", 20),
        ["head delete"] = ("DELETE FROM tree_heads WHERE size = 20", "DELETE FROM tree_heads WHERE size = 20", "tree-head-missing", null),
        ["all heads delete"] = ("DELETE FROM tree_heads", "DELETE FROM tree_heads", "unsigned", 0),
        ["forged append"] = (
            "INSERT INTO events(idx, ts, audit_id, verb, username, leaf_hash, payload) SELECT 40, ts, 'forged', 'delete', 'mallory', leaf_hash, payload FROM events WHERE idx = 39",
            "INSERT INTO events(idx, ts, audit_id, verb, username, leaf_hash, payload) SELECT 40, ts, 'forged', 'delete', 'mallory', leaf_hash, payload FROM events WHERE idx = 39", "beyond-state", 40),
        ["fake purge"] = ("UPDATE events SET payload = NULL, purged = 1 WHERE idx = 16", "UPDATE events SET payload = NULL, purged = 1 WHERE idx = 16", "purge-unrecorded", 16),
        ["payload deleted"] = ("UPDATE events SET payload = NULL WHERE idx = 17", "UPDATE events SET payload = NULL WHERE idx = 17", "payload-missing", 17),
        ["node hash"] = (
            "UPDATE nodes SET hash = zeroblob(32) WHERE lvl = 4 AND idx = 1",
            "UPDATE nodes SET hash = decode(repeat('00', 32), 'hex') WHERE lvl = 1 AND idx = 5", "node", null),
        ["node delete"] = ("DELETE FROM nodes WHERE lvl = 5 AND idx = 0", "DELETE FROM nodes WHERE lvl = 2 AND idx = 3", "node", null),
        ["seal manifest"] = (
            "UPDATE chunk_seals SET manifest = x'00' WHERE chunk = 2",
            "UPDATE chunk_seals SET manifest = '\\x00'::bytea WHERE chunk = 2", "index-seal", 16),
        ["seal delete"] = ("DELETE FROM chunk_seals WHERE chunk = 3", "DELETE FROM chunk_seals WHERE chunk = 3", "index-seal", 24),
        ["sqlite:tile hash"] = ("UPDATE tiles SET hashes = zeroblob(512) WHERE tile = 1", string.Empty, "tile", 16),
        ["sqlite:posting delete"] = ("DELETE FROM postings WHERE term = 'u:alice' AND chunk = 1", string.Empty, "index", null),
        ["sqlite:posting edit"] = ("UPDATE postings SET data = x'0700' WHERE term = 'u:bob' AND chunk = 0", string.Empty, "index", null),

        // PostgreSQL's own B-tree indexes are derived by the server from the (verified) columns; its
        // group index is a table of its own, like SQLite's postings.
        ["postgres:group index delete"] = (string.Empty, "DELETE FROM group_index WHERE grp = 'ops' AND idx = 2", "index", 2),
        ["postgres:group index edit"] = (string.Empty, "UPDATE group_index SET grp = 'dev' WHERE grp = 'ops' AND idx = 4", "index", 4),
    };

    private static async Task<AuditTestLog> SealedLogAsync(string store)
    {
        var t = await AuditTestLog.CreateAsync(
            store == "sqlite" ? dir => new SqliteAuditStore(dir, 3) : _ => new PostgresAuditStore(PostgresServer.Shared.CreateDatabase(), 0, 3),
            new AuditLogOptions { SignEvery = 1000 });
        for (var b = 0; b < 4; b++)
        {
            await t.Log.AppendAsync([.. Enumerable.Range(b * 10, 10).Select(i => AuditTestLog.Event(i, user: i % 3 == 0 ? "alice" : "bob",
                verb: i % 2 == 0 ? "delete" : "get", code: i % 5 == 0 ? 403 : 201, resource: i % 4 == 0 ? "secrets" : "pods", name: "n" + i, group: i % 2 == 0 ? "ops" : "dev"))]);
            await t.Log.SignNowAsync(default);
        }

        return t;
    }

    private static async Task ExecAsync(AuditTestLog t, string sql)
    {
        DbConnection c = t.Store is PostgresAuditStore pg
            ? new NpgsqlConnection(pg.ConnectionString)
            : new SqliteConnection($"Data Source={Path.Combine(t.Directory, SqliteAuditStore.FileName)};Pooling=False");
        await using (c)
        {
            await c.OpenAsync();
            foreach (var statement in sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                await using var cmd = c.CreateCommand();
                cmd.CommandText = statement;
                await cmd.ExecuteNonQueryAsync();
            }
        }
    }

    /// <summary>Questions an investigator asks; after any edit each must give the true answer or refuse.</summary>
    private static readonly AuditQuery[] Questions =
    [
        new() { User = "alice" }, new() { User = "mallorz" }, new() { User = "bob", Verbs = ["delete"] }, new() { Verbs = ["delete"] },
        new() { Namespace = "shop" }, new() { Namespace = "other" }, new() { Resource = "secrets", Namespace = "shop" }, new() { Group = "ops" },
        new() { Codes = [403] }, new() { Subresources = ["exec"] }, new() { Name = "n7" }, new() { SourceIp = "10.0.0.13" }, new(),
        new() { Since = new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero), Until = new DateTimeOffset(2026, 11, 24, 11, 0, 0, TimeSpan.Zero), Limit = 5 },
        new() { User = "alice", Descending = true, Limit = 3 },
    ];

    private static async Task<List<string>?> AnswerAsync(AuditTestLog t, AuditQuery q)
    {
        using var v = t.Verifier();
        try
        {
            var answer = await new Query.ConfirmedQuery(t.Store, v).RunAsync(q, payloads: false, default);
            return [.. answer.Rows.Select(r => $"{r.Record.Index} {r.Record.Username} {r.Record.Verb} {r.Record.Namespace} {r.Record.Resource} {r.Record.Name} {r.Record.Code} {r.Record.Time:O}")];
        }
        catch (Query.AuditQueryTamperedException)
        {
            return null; // refused, naming the leaf: not a lie
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EveryEdit_IsDetectedWithItsLeafOrHead_AndQueriesNeverLie(string store, string edit)
    {
        await using var t = await SealedLogAsync(store);
        var clean = await t.VerifyAsync();
        Assert.True(clean.Ok, string.Join("; ", clean.Problems));
        var truth = new List<List<string>>();
        foreach (var q in Questions)
        {
            truth.Add((await AnswerAsync(t, q))!);
        }

        var (sqlite, postgres, kind, leaf) = Edits[edit];
        await ExecAsync(t, store == "sqlite" ? sqlite : postgres);
        t.Time.Advance(TimeSpan.FromMinutes(5)); // verification comes later than sealing
        var report = await t.VerifyAsync();
        Assert.False(report.Ok, $"{edit} on {store} was not detected");
        Assert.Contains(report.Problems, p => p.Kind == kind && (leaf is null || p.LeafIndex == leaf));

        for (var i = 0; i < Questions.Length; i++)
        {
            var after = await AnswerAsync(t, Questions[i]);
            Assert.True(after is null || after.SequenceEqual(truth[i]),
                $"{edit} on {store}: question {i} answered falsely without saying so:\n  truth: {string.Join(" | ", truth[i])}\n  got:   {string.Join(" | ", after ?? [])}");
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task OpenChunkSeal_SignedByTheHead_EditIsCaught_AndQueriesStillConfirmTheOpenChunk(string store)
    {
        await using var t = await SealedLogAsync(store);
        await t.Log.AppendAsync([AuditTestLog.Event(40, user: "alice"), AuditTestLog.Event(41, user: "carol"), AuditTestLog.Event(42, user: "alice")]);
        await t.Log.SignNowAsync(default); // size 43: chunk 5 is open, its first three leaves sealed by the head
        Assert.True((await t.VerifyAsync()).Ok);
        var alice = await AnswerAsync(t, new AuditQuery { User = "alice" });
        Assert.Equal(16, alice!.Count); // 14 in the complete chunks, 2 in the open one

        await ExecAsync(t, "UPDATE events SET username = 'dave' WHERE idx = 42");
        Assert.Null(await AnswerAsync(t, new AuditQuery { User = "alice" })); // the open chunk's count no longer matches
        await ExecAsync(t, "UPDATE events SET username = 'alice' WHERE idx = 42");
        await ExecAsync(t, store == "sqlite" ? "UPDATE partial_seals SET manifest = x'00' WHERE size = 43" : "UPDATE partial_seals SET manifest = '\\x00'::bytea WHERE size = 43");
        var report = await t.VerifyAsync();
        Assert.Contains(report.Problems, p => p.Kind == "index-seal" && p.LeafIndex == 40);
        Assert.Null(await AnswerAsync(t, new AuditQuery { User = "alice" }));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ForgedAppend_RefusesTheNextAppendWithTheLeaf(string store)
    {
        await using var t = await SealedLogAsync(store);
        await ExecAsync(t, Edits["forged append"].Sqlite);
        var ex = await Assert.ThrowsAsync<AuditStoreTamperedException>(() => t.Log.AppendAsync([AuditTestLog.Event(100)]));
        Assert.Equal(40, ex.LeafIndex);
        Assert.Contains("leaf 40", ex.Message, StringComparison.Ordinal);

        // A writer started on such a store refuses at once.
        var log = new AuditLog(t.Store, t.Keys, new AuditLogOptions(), t.Time);
        var start = await Assert.ThrowsAsync<AuditStoreTamperedException>(() => log.StartAsync(default));
        Assert.Equal(40, start.LeafIndex);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ForgedAppendThroughTheStore_IsAnUnsignedTailOnceTheSealingIntervalIsOver(string store)
    {
        await using var t = await SealedLogAsync(store);
        var prepared = t.Log.Prepare([AuditTestLog.Event(41, user: "mallory")]);
        await t.Store.AppendAsync(prepared, null, default); // the tables updated consistently, but nothing signed
        Assert.True((await t.VerifyAsync()).Ok); // within the interval: a warning only
        t.Time.Advance(TimeSpan.FromMinutes(5));
        var report = await t.VerifyAsync();
        Assert.Contains(report.Problems, p => p.Kind == "unsigned" && p.LeafIndex == 40);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task RollbackToAnEarlierSize_IsCaughtByTheCheckpoint(string store)
    {
        await using var t = await SealedLogAsync(store);
        var checkpoint = (await t.Store.TreeHeadsAsync(default))[^1];
        Assert.Equal(40, checkpoint.Size);

        // Roll the store back to its state at 20 events: what an attacker with a backup can do.
        var frontier = await FrontierAtAsync(t, 20);
        await ExecAsync(t, $"DELETE FROM events WHERE idx >= 20; DELETE FROM tree_heads WHERE size > 20; DELETE FROM chunk_seals WHERE chunk >= 2; DELETE FROM nodes WHERE ((idx + 1) << lvl) > 20");
        if (store == "sqlite")
        {
            await ExecAsync(t, "DELETE FROM tiles WHERE tile >= 1; DELETE FROM postings WHERE chunk >= 2; DELETE FROM chunks WHERE chunk >= 2");
            await ExecAsync(t, $"UPDATE tree_state SET size = 20, frontier = x'{Convert.ToHexString(frontier)}'");
        }
        else
        {
            await ExecAsync(t, $"UPDATE tree_state SET size = 20, frontier = decode('{Convert.ToHexString(frontier)}', 'hex')");
        }

        var without = await t.VerifyAsync();
        Assert.True(without.Ok, "a rollback is self-consistent: only what the auditor kept can catch it");
        using var v = t.Verifier();
        var with = await AuditVerifier.VerifyStoreAsync(t.Store, v, null, default, new VerifyOptions { Time = t.Time, Checkpoint = checkpoint });
        Assert.Contains(with.Problems, p => p.Kind == "rollback" && p.LeafIndex == 40);
    }

    private static async Task<byte[]> FrontierAtAsync(AuditTestLog t, long size)
    {
        var f = new Merkle.Frontier();
        var scratch = new List<(int, long, byte[])>();
        await foreach (var leaf in t.Store.ReadLeavesAsync(0, size, false, default))
        {
            f.Append(leaf.LeafHash, scratch);
        }

        return f.Serialize();
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task ReplacedKeyPair_FailsAgainstTheAuditorsKey(string store)
    {
        await using var t = await SealedLogAsync(store);
        var dir = Directory.CreateTempSubdirectory("skjold-forger-").FullName;
        using var forged = AuditKeys.Create(dir);
        foreach (var h in await t.Store.TreeHeadsAsync(default))
        {
            var again = forged.Sign(h.Size, h.Timestamp, h.Root, null, h.Index!);
            var hex = Convert.ToHexString(again.Signature);
            await ExecAsync(t, store == "sqlite"
                ? $"UPDATE tree_heads SET signature = x'{hex}', key_id = '{forged.KeyId}' WHERE size = {h.Size}"
                : $"UPDATE tree_heads SET signature = decode('{hex}', 'hex'), key_id = '{forged.KeyId}' WHERE size = {h.Size}");
        }

        var report = await t.VerifyAsync(); // with the key the auditor holds
        Assert.Contains(report.Problems, p => p.Kind == "key");
        Directory.Delete(dir, recursive: true);
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task PurgeAndErasure_VerifyUnderTheirRecords_AndEditsAfterwardsAreCaught(string store)
    {
        await using var t = await SealedLogAsync(store);
        t.Time.Advance(TimeSpan.FromDays(500));
        await t.Log.AppendAsync([AuditTestLog.Event(50, user: "carol", time: "2028-04-08T10:00:00Z")]);
        var purged = await new Retention(t.Log, [], t.Time).PurgeAsync(dryRun: false, default);
        Assert.Equal(40, purged.Sum(p => p.Outcome.Count));
        var erased = await new Erasure(t.Log).EraseAsync("carol", "DSR-1", dryRun: false, default);
        Assert.Equal(1, erased.Count);
        await t.Log.SignNowAsync(default);

        var report = await t.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        Assert.Equal(40, report.Purged);
        Assert.Equal(1, report.Erased);
        var rows = new List<StoredRow>();
        await foreach (var r in t.Store.ReadRowsAsync(40, 41, default))
        {
            rows.Add(r);
        }

        Assert.DoesNotContain("carol", System.Text.Encoding.UTF8.GetString(rows.Single().Payload!), StringComparison.Ordinal);

        // A purged row's kept fields and an erased payload are sealed by their records.
        await ExecAsync(t, "UPDATE events SET verb = 'get' WHERE idx = 2");
        await ExecAsync(t, store == "sqlite"
            ? "UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), 'ResponseComplete', 'RequestReceived') AS BLOB) WHERE idx = 40"
            : "UPDATE events SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'ResponseComplete', 'RequestReceived'), 'UTF8') WHERE idx = 40");
        var after = await t.VerifyAsync();
        Assert.Equal(2, after.Problems.Count(p => p.Kind == "redaction-record"));
    }
}
