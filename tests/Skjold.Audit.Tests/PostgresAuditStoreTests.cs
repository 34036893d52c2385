using System.Text.Json;
using Npgsql;
using Skjold.Audit.Storage;
using Skjold.TestSupport;

namespace Skjold.Audit.Tests;

/// <summary>The audit log on a real PostgreSQL server (started by the test set-up).</summary>
public sealed class PostgresAuditStoreTests
{
    private static List<JsonElement> Events(int n, int start = 0) => Enumerable.Range(start, n).Select(i => AuditTestLog.Event(i)).ToList();

    [Fact]
    public async Task AppendQueryVerify_OnPostgres()
    {
        var cs = PostgresServer.Shared.CreateDatabase();
        await using var t = await AuditTestLog.CreateAsync(_ => new PostgresAuditStore(cs));
        await t.Log.AppendAsync(Events(50));
        await t.Log.AppendAsync([AuditTestLog.Event(50, verb: "get", resource: "secrets", name: "db", user: "mallory")]);
        await t.Log.SignNowAsync(default);
        var report = await t.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        var found = new List<long>();
        await foreach (var (r, _) in t.Store.QueryAsync(new AuditQuery { User = "mallory", Resource = "secrets" }, false, default))
        {
            found.Add(r.Index);
        }

        Assert.Equal([50L], found);
        await t.AssertGroupQueriesAsync();

        // Proofs from one round trip (upper nodes from memory) verify, as do proofs from a second store instance.
        var head = await t.Log.SignNowAsync(default);
        await using var other = new PostgresAuditStore(cs);
        foreach (var store in new IAuditStore[] { t.Store, other })
        {
            foreach (var index in new long[] { 0, 13, 50, head!.Size - 1 })
            {
                var leaf = (await store.ReadAsync([(0, index)], default))[(0, index)];
                var proof = await Skjold.Audit.Merkle.MerkleTree.InclusionProofAsync(index, head.Size, store, default);
                Assert.True(Skjold.Audit.Merkle.MerkleTree.VerifyInclusion(index, head.Size, leaf, proof, head.Root));
            }
        }
    }

    [Fact]
    public async Task Proofs_FromRecentHashesInMemory_AndFromTheServerOnceEvicted()
    {
        // Room for two pages of 4,096 hashes: after 12,000 events the oldest leaves are no longer in memory.
        var cs = PostgresServer.Shared.CreateDatabase();
        await using var t = await AuditTestLog.CreateAsync(_ => new PostgresAuditStore(cs, recentHashes: 2 * 4096), new AuditLogOptions { SignEvery = 100_000 });
        for (var b = 0; b < 12; b++)
        {
            await t.Log.AppendAsync(Events(1000, b * 1000));
        }

        var head = await t.Log.SignNowAsync(default);
        await using var cold = new PostgresAuditStore(cs, recentHashes: 0);
        foreach (var index in new long[] { 5, 4095, 4096, 9000, 11_999 })
        {
            var leaf = (await cold.ReadAsync([(0, index)], default))[(0, index)];
            var warm = await Skjold.Audit.Merkle.MerkleTree.InclusionProofAsync(index, head!.Size, t.Store, default);
            var fromServer = await Skjold.Audit.Merkle.MerkleTree.InclusionProofAsync(index, head.Size, cold, default);
            Assert.True(Skjold.Audit.Merkle.MerkleTree.VerifyInclusion(index, head.Size, leaf, warm, head.Root), $"leaf {index}");
            Assert.Equal(fromServer, warm);
        }
    }

    [Fact]
    public async Task StoreOfAnEarlierVersion_GroupIndexMigratedOnInit()
    {
        var cs = PostgresServer.Shared.CreateDatabase();
        await using var t = await AuditTestLog.CreateAsync(_ => new PostgresAuditStore(cs));
        await t.Log.AppendAsync([.. Enumerable.Range(0, 6).Select(i => AuditTestLog.Event(i, group: i % 2 == 0 ? "ops" : "dev"))]);

        // Recreate the preview schema: event_groups(grp, idx) without time, and no group_index.
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE event_groups(grp TEXT NOT NULL, idx BIGINT NOT NULL, PRIMARY KEY(grp, idx)); " +
                "INSERT INTO event_groups SELECT grp, idx FROM group_index; DROP TABLE group_index;";
            await cmd.ExecuteNonQueryAsync();
        }

        await using var reopened = new PostgresAuditStore(cs);
        await reopened.InitializeAsync(default);
        var ops = new List<long>();
        await foreach (var (r, _) in reopened.QueryAsync(new AuditQuery { Group = "ops" }, false, default))
        {
            ops.Add(r.Index);
        }

        Assert.Equal([0L, 2, 4], ops);
        await reopened.InitializeAsync(default); // idempotent once migrated
    }

    [Fact]
    public async Task TwoReplicas_SigningAtOnce_ChainTheirHeadsInOrder()
    {
        // Both replicas append and sign at the same moments: each head must follow the one stored
        // before it (read and written under the sequencing lock), never a head the other replica
        // superseded, and a replica behind the other must not take the newer head for deleted events.
        var cs = PostgresServer.Shared.CreateDatabase();
        await using var a = await AuditTestLog.CreateAsync(_ => new PostgresAuditStore(cs));
        var b = new PostgresAuditStore(cs);
        await b.InitializeAsync(default);
        await using var logB = new AuditLog(b, a.Keys, new AuditLogOptions { SignEvery = 1_000_000 }, a.Time);
        await logB.StartAsync(default);

        for (var i = 0; i < 25; i++)
        {
            await Task.WhenAll(
                Task.Run(async () => { await a.Log.AppendAsync(Events(3, i * 6)); await a.Log.SignNowAsync(default); }),
                Task.Run(async () => { await logB.AppendAsync(Events(3, (i * 6) + 3)); await logB.SignNowAsync(default); }));
        }

        var heads = await b.TreeHeadsAsync(default);
        for (var h = 1; h < heads.Count; h++)
        {
            Assert.Equal(heads[h - 1].Size, heads[h].PreviousSize);
        }

        var report = await a.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        Assert.Equal(150, report.LeavesChecked);
        await b.DisposeAsync();
    }

    [Fact]
    public async Task TwoReplicas_ShareOneTotallyOrderedLog()
    {
        var cs = PostgresServer.Shared.CreateDatabase();
        await using var a = await AuditTestLog.CreateAsync(_ => new PostgresAuditStore(cs));
        var b = new PostgresAuditStore(cs);
        await b.InitializeAsync(default);
        await using var logB = new AuditLog(b, a.Keys, new AuditLogOptions { SignEvery = 25 }, a.Time);
        await logB.StartAsync(default);

        var tasks = new List<Task<AppendResult>>();
        for (var i = 0; i < 30; i++)
        {
            tasks.Add(a.Log.AppendAsync(Events(7, i * 14)));
            tasks.Add(logB.AppendAsync(Events(7, (i * 14) + 7)));
        }

        var results = await Task.WhenAll(tasks);
        var starts = results.Select(r => r.FirstIndex).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i * 7), starts);
        await a.Log.SignNowAsync(default);
        var report = await a.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        Assert.Equal(420, report.LeavesChecked);
        await b.DisposeAsync();
    }

    [Fact]
    public async Task Tampering_OnPostgres_DetectedWithIndex()
    {
        var cs = PostgresServer.Shared.CreateDatabase();
        await using var t = await AuditTestLog.CreateAsync(_ => new PostgresAuditStore(cs));
        await t.Log.AppendAsync(Events(20));
        await t.Log.SignNowAsync(default);
        await using (var c = new NpgsqlConnection(cs))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE events SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'alice', 'eve'), 'UTF8') WHERE idx = 9; DELETE FROM events WHERE idx = 14;";
            await cmd.ExecuteNonQueryAsync();
        }

        var report = await t.VerifyAsync();
        Assert.Contains(report.Problems, p => p.Kind == "changed" && p.LeafIndex == 9);
        Assert.Contains(report.Problems, p => p.Kind == "missing" && p.LeafIndex == 14);
    }
}
