using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Skjold.Audit.Events;
using Skjold.Audit.Export;
using Skjold.Audit.Ingest;
using Skjold.Audit.Merkle;
using Skjold.Audit.Storage;
using Skjold.TestSupport;

namespace Skjold.Audit.Tests;

public sealed class AuditLogTests
{
    private static List<JsonElement> Events(int n, int start = 0) => Enumerable.Range(start, n).Select(i => AuditTestLog.Event(i)).ToList();

    private static async Task Sql(AuditTestLog t, string sql)
    {
        await using var c = new SqliteConnection($"Data Source={Path.Combine(t.Directory, SqliteAuditStore.FileName)};Pooling=False");
        await c.OpenAsync();
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Append_AssignsConsecutiveIndexes_SignsTreeHeads_AndVerifies()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var first = await t.Log.AppendAsync(Events(25));
        var second = await t.Log.AppendAsync(Events(7, 25));
        Assert.Equal(0, first.FirstIndex);
        Assert.Equal(25, second.FirstIndex);
        Assert.Equal(32, second.Size);
        await t.Log.SignNowAsync(default);
        var report = await t.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        Assert.Equal(32, report.LeavesChecked);
        Assert.True(report.TreeHeadsVerified >= 2);
        Assert.Equal(0, report.UnsignedTail);
    }

    [Fact]
    public async Task InclusionAndConsistencyProofs_FromTheStore_Verify()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.Log.AppendAsync(Events(13));
        var small = await t.Log.SignNowAsync(default);
        await t.Log.AppendAsync(Events(20, 13));
        var big = await t.Log.SignNowAsync(default);
        var leaf = (await ToListAsync(t.Store.ReadLeavesAsync(5, 6, false, default)))[0].LeafHash;
        var proof = await MerkleTree.InclusionProofAsync(5, big!.Size, t.Store, default);
        Assert.True(MerkleTree.VerifyInclusion(5, big.Size, leaf, proof, big.Root));
        var consistency = await MerkleTree.ConsistencyProofAsync(small!.Size, big.Size, t.Store, default);
        Assert.True(MerkleTree.VerifyConsistency(small.Size, big.Size, small.Root, big.Root, consistency));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EveryProof_OfAnUnevenTree_Verifies_FromTilesOrWithout(bool withoutTiles)
    {
        // 83 leaves in uneven appends: tiles of 16 begun in one append and completed in the next, and
        // an open tile of 3 leaves at the right edge whose low nodes come from its leaves.
        await using var t = await AuditTestLog.CreateAsync();
        var n = 0;
        foreach (var size in new[] { 7, 13, 1, 30, 32 })
        {
            await t.Log.AppendAsync(Events(size, n));
            n += size;
        }

        var head = await t.Log.SignNowAsync(default);
        Assert.Equal(83, head!.Size);
        if (withoutTiles)
        {
            // A store written before tiles: low nodes come from the nodes table where it has them
            // (here, level 1) and are otherwise computed from the leaves.
            await Sql(t, "DELETE FROM tiles");
            var leaves = await ToListAsync(t.Store.ReadLeavesAsync(0, 82, false, default));
            var values = string.Join(", ", Enumerable.Range(0, 41).Select(k =>
                $"(1, {k}, x'{Convert.ToHexString(MerkleHash.Node(leaves[2 * k].LeafHash, leaves[(2 * k) + 1].LeafHash))}')"));
            await Sql(t, $"INSERT INTO nodes(lvl, idx, hash) VALUES {values}");
        }

        await using var cold = new SqliteAuditStore(t.Directory);
        for (long index = 0; index < head.Size; index++)
        {
            var leaf = (await ToListAsync(cold.ReadLeavesAsync(index, index + 1, false, default)))[0].LeafHash;
            var proof = await MerkleTree.InclusionProofAsync(index, head.Size, cold, default);
            Assert.True(MerkleTree.VerifyInclusion(index, head.Size, leaf, proof, head.Root), $"leaf {index}");
        }

        for (long m = 1; m < head.Size; m++)
        {
            var rootM = await MerkleTree.RootAsync(m, cold, default);
            var consistency = await MerkleTree.ConsistencyProofAsync(m, head.Size, cold, default);
            Assert.True(MerkleTree.VerifyConsistency(m, head.Size, rootM, head.Root, consistency), $"size {m}");
        }

        if (withoutTiles)
        {
            // The nodes table is really read: a wrong level-1 hash makes the proofs over it fail.
            await Sql(t, "UPDATE nodes SET hash = zeroblob(32) WHERE lvl = 1 AND idx = 20");
            await using var again = new SqliteAuditStore(t.Directory);
            var leaf0 = (await ToListAsync(again.ReadLeavesAsync(0, 1, false, default)))[0].LeafHash;
            var leaf43 = (await ToListAsync(again.ReadLeavesAsync(43, 44, false, default)))[0].LeafHash;
            var proof0 = await MerkleTree.InclusionProofAsync(0, head.Size, again, default);
            var proof43 = await MerkleTree.InclusionProofAsync(43, head.Size, again, default);
            Assert.False(MerkleTree.VerifyInclusion(43, head.Size, leaf43, proof43, head.Root));
            Assert.True(MerkleTree.VerifyInclusion(0, head.Size, leaf0, proof0, head.Root));
        }
    }

    [Fact]
    public async Task InclusionProofs_FromCachedUpperNodes_VerifyOnWarmAndColdStores()
    {
        // 1,000 leaves: levels 6 to 9 of the tree are kept in memory by the store that wrote them,
        // and filled from the database by a store opened afterwards.
        await using var t = await AuditTestLog.CreateAsync();
        for (var b = 0; b < 10; b++)
        {
            await t.Log.AppendAsync(Events(100, b * 100));
        }

        var head = await t.Log.SignNowAsync(default);
        await using var cold = new SqliteAuditStore(t.Directory);
        long[] indices = [0, 1, 255, 256, 511, 600, 767, 768, 999];
        foreach (var store in new IAuditStore[] { t.Store, cold })
        {
            var batch = await MerkleTree.InclusionProofsAsync(indices, head!.Size, store, default);
            for (var i = 0; i < indices.Length; i++)
            {
                var index = indices[i];
                var leaf = (await ToListAsync(store.ReadLeavesAsync(index, index + 1, false, default)))[0].LeafHash;
                var proof = await MerkleTree.InclusionProofAsync(index, head.Size, store, default);
                Assert.True(MerkleTree.VerifyInclusion(index, head.Size, leaf, proof, head.Root), $"leaf {index}");
                Assert.False(MerkleTree.VerifyInclusion(index == 0 ? 1 : index - 1, head.Size, leaf, proof, head.Root));
                Assert.Equal(proof, batch[i]); // the batch read gives the same proofs
            }
        }

        var consistency = await MerkleTree.ConsistencyProofAsync(300, head!.Size, cold, default);
        var root300 = await MerkleTree.RootAsync(300, t.Store, default);
        Assert.True(MerkleTree.VerifyConsistency(300, head.Size, root300, head.Root, consistency));
    }

    [Fact]
    public async Task GroupQueries_UseTheTimeOrderedGroupIndex()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.AssertGroupQueriesAsync();
    }

    [Fact]
    public async Task StoreOfAnEarlierVersion_PreviewGroupTableDroppedOnInit_GroupsFromTheTermIndex()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.Log.AppendAsync([.. Enumerable.Range(0, 6).Select(i => AuditTestLog.Event(i, group: i % 2 == 0 ? "ops" : "dev"))]);

        // The 0.1 preview kept groups in event_groups(grp, idx).
        await Sql(t, "CREATE TABLE event_groups(grp TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(grp, idx)) WITHOUT ROWID; " +
            "INSERT INTO event_groups VALUES ('ops', 0), ('ops', 2), ('ops', 4), ('dev', 1), ('dev', 3), ('dev', 5)");

        await using var reopened = new SqliteAuditStore(t.Directory);
        await reopened.InitializeAsync(default);
        var ops = await ToListAsync(reopened.QueryAsync(new AuditQuery { Group = "ops" }, false, default));
        Assert.Equal([0L, 2, 4], ops.Select(o => o.Record.Index));
        await using (var c = new SqliteConnection($"Data Source={Path.Combine(t.Directory, SqliteAuditStore.FileName)};Pooling=False"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM sqlite_master WHERE name = 'event_groups'";
            Assert.Equal(0L, (long)(await cmd.ExecuteScalarAsync())!);
        }

        await reopened.InitializeAsync(default); // idempotent once migrated
    }

    [Theory]
    [InlineData("2026-11-24T10:00:00Z", 0)]
    [InlineData("2026-11-24T10:00:00.123456Z", 1234560)]
    [InlineData("2026-11-24T12:00:00+02:00", 0)]
    [InlineData("2026-11-24T10:00:00", 0)] // no zone: taken as UTC
    public void Extract_ReadsTimesInAnyRfc3339Form_AndEscapedStrings(string time, long ticks)
    {
        var e = AuditTestLog.Event(1, user: "al\\u0069ce", time: time);
        var r = AuditEventReader.Extract(e, 0);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero).AddTicks(ticks), r.Time);
        Assert.Equal(TimeSpan.Zero, r.Time.Offset);
        Assert.Equal("alice", r.Username);
        Assert.Same(r.Verb, AuditEventReader.Extract(e, 1).Verb); // repeated values are shared, not made again
    }

    [Fact]
    public async Task ConcurrentAppends_AreGroupCommittedAndTotallyOrdered()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var tasks = Enumerable.Range(0, 40).Select(b => t.Log.AppendAsync(Events(10, b * 10))).ToList();
        var results = await Task.WhenAll(tasks);
        var ranges = results.Select(r => r.FirstIndex).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 40).Select(b => (long)b * 10), ranges);
        Assert.True((await t.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task Tampering_ChangedDeletedReorderedTruncated_DetectedWithLeafIndex()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.Log.AppendAsync(Events(40));
        await t.Log.SignNowAsync(default);
        Assert.True((await t.VerifyAsync()).Ok);

        // Change one event's stored bytes.
        await Sql(t, "UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), 'alice', 'mallory') AS BLOB) WHERE idx = 17");
        var changed = await t.VerifyAsync();
        var p = Assert.Single(changed.Problems);
        Assert.Equal("changed", p.Kind);
        Assert.Equal(17, p.LeafIndex);
    }

    [Fact]
    public async Task Tampering_DeletedEvent_ReportedWithIndex()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.Log.AppendAsync(Events(30));
        await t.Log.SignNowAsync(default);
        await Sql(t, "DELETE FROM events WHERE idx = 11");
        var report = await t.VerifyAsync();
        Assert.Contains(report.Problems, x => x.Kind == "missing" && x.LeafIndex == 11);
    }

    [Fact]
    public async Task Tampering_SwappedRows_LocatedAtTheSwappedLeaves()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.Log.AppendAsync(Events(32));
        await t.Log.SignNowAsync(default);
        // Swap two whole events (payload and leaf hash): each row is self-consistent, the order is not.
        await Sql(t, "UPDATE events SET idx = -1 WHERE idx = 20; UPDATE events SET idx = 20 WHERE idx = 21; UPDATE events SET idx = 21 WHERE idx = -1;");
        var report = await t.VerifyAsync();
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, x => x.Kind == "reordered" && x.LeafIndex == 20);
    }

    [Fact]
    public async Task Tampering_TruncatedTail_Detected()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.Log.AppendAsync(Events(30));
        await t.Log.SignNowAsync(default);
        await Sql(t, "DELETE FROM events WHERE idx >= 25");
        var report = await t.VerifyAsync();
        Assert.Contains(report.Problems, x => x.Kind == "missing" && x.LeafIndex == 25);
    }

    [Fact]
    public async Task Verify_WithAnotherKey_FailsSignatures()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.Log.AppendAsync(Events(12));
        await t.Log.SignNowAsync(default);
        await using var other = await AuditTestLog.CreateAsync();
        using var wrong = other.Verifier();
        var report = await AuditVerifier.VerifyStoreAsync(t.Store, wrong, null, default);
        Assert.Contains(report.Problems, x => x.Kind is "key" or "signature");
    }

    [Fact]
    public async Task Redaction_SecretValuesReplacedByKeyedHash_BeforeSealing()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var secretEvent = AuditTestLog.Event(1, verb: "create", resource: "secrets", name: "db", extra: """
            ,"requestObject":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"db","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
              "data":{"password":"aHVudGVyMg==","user":"YWRtaW4="},"stringData":{"token":"plain-token-value"}},
             "responseObject":{"kind":"SecretList","apiVersion":"v1","items":[{"metadata":{"name":"x"},"data":{"k":"c2VjcmV0"}}]}
            """);
        await t.Log.AppendAsync([secretEvent]);
        var leaf = (await ToListAsync(t.Store.ReadLeavesAsync(0, 1, true, default)))[0];
        var stored = Encoding.UTF8.GetString(leaf.Payload!);
        foreach (var secret in new[] { "aHVudGVyMg==", "YWRtaW4=", "plain-token-value", "c2VjcmV0" })
        {
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        }

        var redactor = new KeyedRedactor(t.Keys.RedactionKey);
        Assert.Contains(redactor.Hash("aHVudGVyMg=="), stored, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"db\"", stored, StringComparison.Ordinal);
        Assert.True((await t.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task Redaction_ConfiguredExtraFields()
    {
        await using var t = await AuditTestLog.CreateAsync(options: new AuditLogOptions { Redaction = [new RedactionRule(["configmaps"], ["data"])] });
        var e = AuditTestLog.Event(1, verb: "create", resource: "configmaps", extra: ""","requestObject":{"kind":"ConfigMap","data":{"api_key":"AKIA1234"}}""");
        await t.Log.AppendAsync([e]);
        var stored = Encoding.UTF8.GetString((await ToListAsync(t.Store.ReadLeavesAsync(0, 1, true, default)))[0].Payload!);
        Assert.DoesNotContain("AKIA1234", stored, StringComparison.Ordinal);
        Assert.Contains(KeyedRedactor.Prefix, stored, StringComparison.Ordinal);
    }

    [Fact]
    public void CanonicalJson_SortsKeysAndIsIdempotent()
    {
        using var doc = JsonDocument.Parse("""{ "b": [1, 2.50, {"z": "\u00e9\n", "a": null}], "a": true, "\u00e0": "x" }""");
        var canonical = CanonicalJson.Serialize(doc.RootElement);
        Assert.Equal("{\"a\":true,\"b\":[1,2.50,{\"a\":null,\"z\":\"é\\n\"}],\"à\":\"x\"}", Encoding.UTF8.GetString(canonical));
        using var again = JsonDocument.Parse(canonical);
        Assert.Equal(canonical, CanonicalJson.Serialize(again.RootElement));
    }

    [Fact]
    public async Task FalcoAuditEvents_MixedVintages_IngestedQueriedAndMalformedRecorded()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var dir = Path.Combine(RepoPaths.Peers, "falco", "audit-events", "k8s_audit");
        var files = Directory.GetFiles(dir, "*.json").Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 45);
        long appended = 0, rejected = 0;
        foreach (var f in files)
        {
            var stats = await new LogFileIngester(t.Log, f).RunAsync(follow: false, default);
            appended += stats.Appended;
            rejected += stats.Rejected;
        }

        Assert.Equal(1, rejected); // fal_01_003.json is deliberately malformed
        Assert.True(appended >= 50, appended.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await t.Log.SignNowAsync(default);
        Assert.True((await t.VerifyAsync()).Ok);

        var rejectedEvents = await ToListAsync(t.Store.QueryAsync(new AuditQuery { Verbs = ["ingest-rejected"] }, true, default));
        var r = Assert.Single(rejectedEvents);
        Assert.Contains("fal_01_003.json", Encoding.UTF8.GetString(r.Payload!), StringComparison.Ordinal);

        var secrets = await ToListAsync(t.Store.QueryAsync(new AuditQuery { Resource = "secrets" }, false, default));
        Assert.Contains(secrets, s => s.Record.Verb == "create" && s.Record.Name == "example-secret");

        var execs = await ToListAsync(t.Store.QueryAsync(new AuditQuery { Resource = "pods", Subresources = ["exec", "attach"] }, false, default));
        Assert.Equal(2, execs.Count);
        Assert.Contains(execs, e => e.Record.Subresource == "exec");

        var byUser = await ToListAsync(t.Store.QueryAsync(new AuditQuery { User = "minikube-user" }, false, default));
        Assert.NotEmpty(byUser);
        Assert.All(byUser, e => Assert.Equal("minikube-user", e.Record.Username));

        var masters = await ToListAsync(t.Store.QueryAsync(new AuditQuery { Group = "system:masters" }, false, default));
        Assert.NotEmpty(masters);
        Assert.All(masters, e => Assert.Contains("system:masters", e.Record.Groups));

        // Pre-v1 events (no apiVersion, "timestamp") keep their time.
        var old = await ToListAsync(t.Store.QueryAsync(new AuditQuery { Until = new DateTimeOffset(2019, 1, 1, 0, 0, 0, TimeSpan.Zero) }, false, default));
        Assert.NotEmpty(old);
    }

    [Fact]
    public async Task Follow_TailsAcrossRenameRotation_AndResumesFromSavedOffset()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var file = Path.Combine(t.Directory, "audit.log");
        await File.WriteAllLinesAsync(file, Events(5).Select(e => JsonSerializer.Serialize(e)));
        using var cts = new CancellationTokenSource();
        var ingester = new LogFileIngester(t.Log, file, pollInterval: TimeSpan.FromMilliseconds(50));
        var run = ingester.RunAsync(follow: true, cts.Token);
        await Eventually(async () => (await t.Store.StateAsync(default)).Size == 5);

        await File.AppendAllLinesAsync(file, Events(3, 5).Select(e => JsonSerializer.Serialize(e)));
        await Eventually(async () => (await t.Store.StateAsync(default)).Size == 8);

        // logrotate: rename, then a new file; lines written to the old file before the switch still count.
        File.Move(file, file + ".1");
        await File.AppendAllLinesAsync(file + ".1", Events(2, 8).Select(e => JsonSerializer.Serialize(e)));
        await File.WriteAllLinesAsync(file, Events(4, 10).Select(e => JsonSerializer.Serialize(e)));
        await Eventually(async () => (await t.Store.StateAsync(default)).Size == 14);
        await cts.CancelAsync();
        var stats = await run;
        Assert.True(stats.Rotations >= 1);

        // A new run resumes where the last one stopped: nothing is read twice.
        await File.AppendAllLinesAsync(file, Events(1, 14).Select(e => JsonSerializer.Serialize(e)));
        var again = await new LogFileIngester(t.Log, file).RunAsync(follow: false, default);
        Assert.Equal(1, again.Appended);
        var ids = (await ToListAsync(t.Store.QueryAsync(new AuditQuery { Limit = 100 }, false, default))).Select(r => r.Record.AuditId).ToList();
        Assert.Equal(15, ids.Distinct().Count());
        Assert.Equal(15, ids.Count);
    }

    [Fact]
    public async Task Retention_PurgesPayloadsKeepsProofs_RespectsHolds_AndRecordsItself()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var old = Enumerable.Range(0, 10).Select(i => AuditTestLog.Event(i, ns: i < 5 ? "legal" : "shop", time: "2024-01-01T00:00:00Z")).ToList();
        var recent = Enumerable.Range(10, 10).Select(i => AuditTestLog.Event(i, time: "2026-11-20T00:00:00Z")).ToList();
        await t.Log.AppendAsync([.. old, .. recent]);
        var before = await t.Log.SignNowAsync(default);
        await t.Store.AddHoldAsync(new LegalHold(0, "Case 2026-17 (Datatilsynet inquiry)", "legal", null, null, t.Time.GetUtcNow(), null), default);

        var dry = await new Retention(t.Log, [], t.Time).PurgeAsync(dryRun: true, default);
        Assert.Equal(5, dry.Sum(r => r.Outcome.Count));
        Assert.All(await ToListAsync(t.Store.ReadLeavesAsync(0, 20, true, default)), l => Assert.NotNull(l.Payload)); // a dry run changes nothing

        var purged = (await new Retention(t.Log, [], t.Time).PurgeAsync(dryRun: false, default)).Sum(r => r.Outcome.Count);
        Assert.Equal(5, purged);
        var leaves = await ToListAsync(t.Store.ReadLeavesAsync(0, 20, true, default));
        Assert.Equal(5, leaves.Count(l => l.Payload is null));
        Assert.All(leaves.Where(l => l.Index < 5), l => Assert.NotNull(l.Payload));

        // Proofs of the remaining events against the earlier tree head still hold.
        var proof = await MerkleTree.InclusionProofAsync(12, before!.Size, t.Store, default);
        Assert.True(MerkleTree.VerifyInclusion(12, before.Size, leaves[12].LeafHash, proof, before.Root));
        await t.Log.SignNowAsync(default);
        var report = await t.VerifyAsync();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        Assert.Equal(5, report.Purged);
        var purgeEvents = await ToListAsync(t.Store.QueryAsync(new AuditQuery { Verbs = ["purge"] }, true, default));
        Assert.Contains("\"skjold.io/purged-total\":\"5\"", Encoding.UTF8.GetString(Assert.Single(purgeEvents).Payload!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportBundle_VerifiesOfflineWithPublicKeyOnly_AndDetectsTampering()
    {
        await using var t = await AuditTestLog.CreateAsync();
        await t.Log.AppendAsync([.. Events(20), AuditTestLog.Event(99, verb: "get", resource: "secrets", name: "db", user: "mallory")]);
        var bundle = await AuditBundle.ExportAsync(t.Log, new AuditQuery { Resource = "secrets" }, t.Time, default);
        var json = bundle.ToJsonString();
        using var v = t.Verifier();
        using (var doc = JsonDocument.Parse(json))
        {
            var report = AuditBundle.Verify(doc.RootElement, v);
            Assert.True(report.Ok, string.Join("; ", report.Problems));
            Assert.Equal(1, report.LeavesChecked);
        }

        using (var tampered = JsonDocument.Parse(json.Replace("mallory", "alice", StringComparison.Ordinal)))
        {
            var report = AuditBundle.Verify(tampered.RootElement, v);
            Assert.Contains(report.Problems, p => p.Kind == "changed" && p.LeafIndex == 20);
        }

        await using var other = await AuditTestLog.CreateAsync();
        using var wrong = other.Verifier();
        using (var doc = JsonDocument.Parse(json))
        {
            Assert.Contains(AuditBundle.Verify(doc.RootElement, wrong).Problems, p => p.Kind == "signature");
        }
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

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(25);
        }
    }
}
