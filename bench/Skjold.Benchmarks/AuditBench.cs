using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Skjold.Audit;
using Skjold.Audit.Merkle;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Benchmarks;

/// <summary>
/// Audit trail throughput: durable sealed ingestion (events/s) into SQLite or PostgreSQL with
/// concurrent senders (as several API servers or webhook batches would), inclusion proof latency,
/// full verification time, and indexed query latency.
/// </summary>
internal static class AuditBench
{
    private static readonly string[] Verbs = ["get", "list", "watch", "create", "update", "patch", "delete"];
    private static readonly string[] Resources = ["pods", "secrets", "configmaps", "deployments", "services", "rolebindings", "events", "leases"];

    public static async Task<int> RunAsync(string backend, long events, int senders)
    {
        var dir = Directory.CreateTempSubdirectory("skjold-auditbench-").FullName;
        try
        {
            using var keys = AuditKeys.Create(dir);
            var postgres = backend == "postgres" ? TestSupport.PostgresServer.Shared.CreateDatabase() : null;
            IAuditStore store = postgres is not null ? new PostgresAuditStore(postgres) : new SqliteAuditStore(dir);
            await using (store)
            {
                await store.InitializeAsync(default);
                await using var log = new AuditLog(store, keys, new AuditLogOptions { SignEvery = 100_000 });
                await log.StartAsync(default);
                Console.WriteLine($"{store.Description}; {events:N0} events of about {Json(Event(0)).Length} bytes, {senders} concurrent senders of 500-event batches; {Environment.ProcessorCount} cores");

                // Batch bodies as the API server sends them (EventList JSON), made before timing; senders
                // parse each body and append it, as the receiver does.
                var bodies = Enumerable.Range(0, 200).Select(b => System.Text.Encoding.UTF8.GetBytes(
                    "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[" +
                    string.Join(",", Enumerable.Range(0, 500).Select(i => Event(((long)b * 500) + i).GetRawText())) + "]}")).ToArray();
                var batches = (events + 499) / 500;
                using var sampler = AllocationSampler.StartIfAsked();
                var (allocated, pause, gcs) = (GC.GetTotalAllocatedBytes(), GC.GetTotalPauseDuration(), (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)));
                var next = -1L;
                var sw = Stopwatch.StartNew();
                var tasks = Enumerable.Range(0, senders).Select(async _ =>
                {
                    long b;
                    while ((b = Interlocked.Increment(ref next)) < batches)
                    {
                        var body = WithTimes(bodies[b % bodies.Length], b);
                        using (var parsed = Skjold.Audit.Events.AuditEventReader.ReadBody(body))
                        {
                            await log.AppendAsync(parsed.Events);
                        }

                        System.Buffers.ArrayPool<byte>.Shared.Return(body.Array!);
                    }
                }).ToList();
                var progress = Task.Run(async () =>
                {
                    while (!tasks.All(t => t.IsCompleted))
                    {
                        await Task.Delay(5000);
                        var done = Math.Min(events, (Interlocked.Read(ref next) + 1) * 500);
                        Console.Error.WriteLine($"  {done:N0} events, {done / sw.Elapsed.TotalSeconds:N0}/s");
                    }
                });
                await Task.WhenAll(tasks);
                var ingest = sw.Elapsed;
                sampler?.Print(events);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  writer busy {log.WriterBusy.TotalSeconds / ingest.TotalSeconds:P0} of the time, {log.Commits} commits"));
                var stages = SqlAuditStore.AppendStageTicks.Select(t => t * 1000.0 / System.Diagnostics.Stopwatch.Frequency).ToArray();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  append stages (ms total): begin+lock {stages[0]:F0}, frontier {stages[1]:F0}, sealer {stages[2]:F0}, insert {stages[3]:F0}, seals+state {stages[4]:F0}, commit {stages[5]:F0}"));
                await log.SignNowAsync(default);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ingest (durable, sealed): {events / ingest.TotalSeconds:N0} events/s ({ingest.TotalSeconds:F1} s)"));
                if (Environment.GetEnvironmentVariable("SKJOLD_BENCH_INGEST_ONLY") is "1")
                {
                    return 0;
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  allocated {(GC.GetTotalAllocatedBytes() - allocated) / events:N0} bytes/event; GC pauses {(GC.GetTotalPauseDuration() - pause).TotalMilliseconds:N0} ms; collections gen0 {GC.CollectionCount(0) - gcs.Item1}, gen1 {GC.CollectionCount(1) - gcs.Item2}, gen2 {GC.CollectionCount(2) - gcs.Item3}"));

                // Inclusion proofs for random leaves against the final tree head.
                var (size, root) = await store.StateAsync(default);
                var rng = new Random(42);
                var samples = new List<double>();
                for (var i = 0; i < 2000; i++)
                {
                    var index = rng.NextInt64(size);
                    var t = Stopwatch.GetTimestamp();
                    var proof = await MerkleTree.InclusionProofAsync(index, size, store, default);
                    samples.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
                    if (i < 20)
                    {
                        var leaf = (await store.ReadAsync([(0, index)], default))[(0, index)];
                        if (!MerkleTree.VerifyInclusion(index, size, leaf, proof, root))
                        {
                            throw new InvalidOperationException("proof did not verify");
                        }
                    }
                }

                samples.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"inclusion proof (store read + hashing): median {samples[samples.Count / 2]:F0} us, p99 {samples[(int)(samples.Count * 0.99)]:F0} us over 2000 random leaves"));

                // A process that did not append them (the CLI, another replica) has no recent hashes: one round trip per proof.
                await using var other = postgres is not null ? new PostgresAuditStore(postgres, recentHashes: 0) : null;
                if (other is not null)
                {
                    var cold = new List<double>();
                    for (var i = 0; i < 2000; i++)
                    {
                        var index = rng.NextInt64(size);
                        var t = Stopwatch.GetTimestamp();
                        _ = await MerkleTree.InclusionProofAsync(index, size, other, default);
                        cold.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
                    }

                    cold.Sort();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"inclusion proof from another process (no recent hashes in memory): median {cold[cold.Count / 2]:F0} us, p99 {cold[(int)(cold.Count * 0.99)]:F0} us"));
                }

                // As an export computes them: 512 random leaves per batch, one store read per batch.
                var perProof = new List<double>();
                for (var b = 0; b < 10; b++)
                {
                    var batch = Enumerable.Range(0, 512).Select(_ => rng.NextInt64(size)).ToList();
                    var t = Stopwatch.GetTimestamp();
                    _ = await MerkleTree.InclusionProofsAsync(batch, size, store, default);
                    perProof.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds / batch.Count);
                }

                perProof.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"inclusion proofs in batches of 512 (as an export computes them): median {perProof[perProof.Count / 2]:F1} us per proof"));

                // The floor under it: reading one stored leaf hash (one lookup; on PostgreSQL one round trip).
                var floor = new List<double>();
                for (var i = 0; i < 2000; i++)
                {
                    var index = rng.NextInt64(size);
                    var t = Stopwatch.GetTimestamp();
                    _ = await (other ?? store).ReadAsync([(0, index)], default);
                    floor.Add(Stopwatch.GetElapsedTime(t).TotalMicroseconds);
                }

                floor.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"one stored hash read{(other is null ? string.Empty : " from another process")} (the floor): median {floor[floor.Count / 2]:F0} us, p99 {floor[(int)(floor.Count * 0.99)]:F0} us"));

                using var verifier = new TreeHeadVerifier(keys.PublicKeyPem);
                sw.Restart();
                var report = await AuditVerifier.VerifyStoreAsync(store, verifier, null, default, new VerifyOptions { MaxUnsigned = 100_000 + 8_192 });
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"full verification: {report.LeavesChecked:N0} events in {sw.Elapsed.TotalSeconds:F1} s ({report.LeavesChecked / sw.Elapsed.TotalSeconds:N0}/s), ok={report.Ok}"));

                if (!report.Ok)
                {
                    Console.WriteLine("  problems: " + string.Join("; ", report.Problems.Take(3)));
                }

                // Each question answered by the store alone (the index, unconfirmed) and confirmed against
                // the signed tree (what the CLI and HTTP API now do), alternately.
                foreach (var (label, query) in Queries())
                {
                    var raw = new List<double>();
                    var confirmed = new List<double>();
                    int n = 0, m = 0;
                    for (var r = 0; r < 5; r++)
                    {
                        sw.Restart();
                        n = 0;
                        await foreach (var _ in store.QueryAsync(query, false, default))
                        {
                            n++;
                        }

                        raw.Add(sw.Elapsed.TotalMilliseconds);
                        sw.Restart();
                        m = (await new Skjold.Audit.Query.ConfirmedQuery(store, verifier).RunAsync(query, payloads: false, default)).Rows.Count;
                        confirmed.Add(sw.Elapsed.TotalMilliseconds);
                    }

                    raw.Sort();
                    confirmed.Sort();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"query {label}: store index {raw[2]:F1} ms ({n} rows), confirmed {confirmed[2]:F1} ms ({m} rows), ratio {confirmed[2] / raw[2]:F1}"));
                }
            }

            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Environment.GetEnvironmentVariable("SKJOLD_BENCH_KEEP") is "1")
            {
                Console.WriteLine($"kept {dir} (verify it again with: audit-verify {dir})");
            }
            else
            {
                Directory.Delete(dir, true);
            }
        }
    }

    /// <summary>Verifies a kept SQLite store several times (for profiling verification alone).</summary>
    public static async Task<int> VerifyAsync(string dir, int runs)
    {
        using var keys = AuditKeys.Load(dir);
        await using var store = new SqliteAuditStore(dir);
        await store.InitializeAsync(default);
        using var verifier = new TreeHeadVerifier(keys.PublicKeyPem);
        var times = new List<double>();
        for (var r = 0; r < runs; r++)
        {
            var sw = Stopwatch.StartNew();
            var cpu = Environment.CpuUsage.TotalTime;
            var allocated = GC.GetTotalAllocatedBytes();
            var gcs = GC.CollectionCount(0);
            var report = await AuditVerifier.VerifyStoreAsync(store, verifier, null, default, new VerifyOptions { MaxUnsigned = 100_000 + 8_192 });
            times.Add(sw.Elapsed.TotalSeconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"verification: {report.LeavesChecked:N0} events in {sw.Elapsed.TotalSeconds:F2} s, cpu {(Environment.CpuUsage.TotalTime - cpu).TotalSeconds:F1} s, allocated {(GC.GetTotalAllocatedBytes() - allocated) / report.LeavesChecked:N0} bytes/event, {GC.CollectionCount(0) - gcs} collections, ok={report.Ok}"));
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median {times[times.Count / 2]:F2} s"));
        return 0;
    }

    private static IEnumerable<(string, AuditQuery)> Queries() =>
    [
        ("who read secret team-7/db-7", new AuditQuery { Resource = "secrets", Namespace = "team-7", Name = "db-7", IncludeCollection = true, Verbs = ["get", "list", "watch"] }),
        ("activity of user-42, last 1000", new AuditQuery { User = "user-42", Limit = 1000, Descending = true }),
        ("exec sessions", new AuditQuery { Resource = "pods", Subresources = ["exec", "attach"], Limit = 1000 }),
        ("denied (401/403)", new AuditQuery { Codes = [401, 403], Limit = 1000 }),
        ("group ops, ten minutes", new AuditQuery { Group = "ops", Since = new DateTimeOffset(2026, 11, 1, 0, 2, 0, TimeSpan.Zero), Until = new DateTimeOffset(2026, 11, 1, 0, 12, 0, TimeSpan.Zero), Limit = 1000 }),
        ("source ip 10.0.3.7", new AuditQuery { SourceIp = "10.0.3.7", Limit = 1000 }),
    ];

    private static string Json(JsonElement e) => e.GetRawText();

    /// <summary>Event i happened i milliseconds after this (1,000 events/s, as a busy cluster's API servers log).</summary>
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// A copy of a prepared 500-event body with its timestamps set for batch <paramref name="batch"/>,
    /// so that times keep advancing although the bodies are reused (a real log's do). The sender pays
    /// for the copy, as an API server pays for writing its batch.
    /// </summary>
    private static ArraySegment<byte> WithTimes(byte[] body, long batch)
    {
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(body.Length);
        body.CopyTo(copy, 0);
        var span = copy.AsSpan(0, body.Length);
        var n = 0L;
        foreach (var key in new[] { "\"requestReceivedTimestamp\":\""u8.ToArray(), "\"stageTimestamp\":\""u8.ToArray() })
        {
            var at = 0;
            n = 0;
            int found;
            while ((found = span[at..].IndexOf(key)) >= 0)
            {
                at += found + key.Length;
                var time = Start.AddMilliseconds((batch * 500) + n++);
                time.TryFormat(span[at..], out _, "yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);
            }
        }

        return new ArraySegment<byte>(copy, 0, body.Length);
    }

    internal static JsonElement Event(long i)
    {
        var verb = Verbs[i % Verbs.Length];
        var resource = Resources[(i / 7) % Resources.Length];
        var sub = resource == "pods" && i % 97 == 0 ? ",\"subresource\":\"exec\"" : string.Empty;
        var code = i % 53 == 0 ? 403 : verb == "create" ? 201 : 200;
        var time = Start.AddMilliseconds(i);
        var ts = time.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture);
        var user = i % 5 == 0 ? $"system:serviceaccount:team-{i % 200}:app" : $"user-{i % 1000}";
        var group = i % 3 == 0 ? "ops" : "dev";
        var name = verb is "list" or "watch" ? string.Empty : $",\"name\":\"db-{i % 50}\"";
        var json = $$"""
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{{Guid.NewGuid()}}","stage":"ResponseComplete",
            "requestURI":"/api/v1/namespaces/team-{{i % 200}}/{{resource}}","verb":"{{verb}}",
            "user":{"username":"{{user}}","uid":"{{i % 1000}}","groups":["{{group}}","system:authenticated"]},
            "sourceIPs":["10.0.{{i % 250 / 50}}.{{i % 50}}"],"userAgent":"kubectl/v1.33.1 (linux/amd64) kubernetes/abcdef",
            "objectRef":{"resource":"{{resource}}","namespace":"team-{{i % 200}}"{{name}}{{sub}},"apiVersion":"v1"},
            "responseStatus":{"metadata":{},"code":{{code}}},"requestReceivedTimestamp":"{{ts}}","stageTimestamp":"{{ts}}",
            "annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding"}
            }
            """;
        return JsonDocument.Parse(json).RootElement;
    }
}
