using System.Diagnostics;
using System.Globalization;
using Skjold.Audit.Events;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Benchmarks;

/// <summary>Where audit ingestion time goes, one thread: generating, preparing (redact, canonicalise, hash), storing.</summary>
internal static class AuditStages
{
    public static async Task<int> RunAsync(int n)
    {
        var dir = Directory.CreateTempSubdirectory("skjold-auditstages-").FullName;
        try
        {
            using var keys = AuditKeys.Create(dir);
            var sw = Stopwatch.StartNew();
            var events = Enumerable.Range(0, n).Select(i => AuditBench.Event(i)).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"generate {n:N0}: {sw.Elapsed.TotalMilliseconds:F0} ms"));
            var redactor = new KeyedRedactor(keys.RedactionKey);
            sw.Restart();
            var prepared = events.Select(e => AuditEventReader.Prepare(e, redactor)).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"prepare: {sw.Elapsed.TotalMilliseconds:F0} ms ({n / sw.Elapsed.TotalSeconds:N0}/s)"));
            for (var round = 0; round < 2; round++)
            {
                sw.Restart();
                foreach (var e in events)
                {
                    redactor.BeginEvent(e);
                    _ = CanonicalJson.Serialize(e, redactor);
                }

                var canon = sw.Elapsed.TotalMilliseconds;
                sw.Restart();
                foreach (var e in events)
                {
                    _ = AuditEventReader.Extract(e, 0);
                }

                var extract = sw.Elapsed.TotalMilliseconds;
                var bytes = prepared.Select(p => p.Canonical).ToList();
                sw.Restart();
                foreach (var b in bytes)
                {
                    _ = Skjold.Audit.Merkle.MerkleHash.Leaf(b);
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  canonicalise {canon:F0} ms, extract {extract:F0} ms, leaf hash {sw.Elapsed.TotalMilliseconds:F0} ms"));
            }

            // The chunk seals' share of the writer's work (it runs beside the insert, with the node hashing).
            for (var round = 0; round < 2; round++)
            {
                sw.Restart();
                var sealer = new ChunkSeals.Sealer(13, 0, new byte[32]);
                for (var i = 0; i < prepared.Count; i++)
                {
                    sealer.Add(i, SqlAuditStore.Micros(prepared[i].Fields.Time), prepared[i].Fields);
                    if (sealer.Complete)
                    {
                        var seal = sealer.Finish();
                        sealer.Dispose();
                        sealer = new ChunkSeals.Sealer(13, seal.Chunk + 1, seal.Chain);
                    }
                }

                sealer.Dispose();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  seal in order: {sw.Elapsed.TotalMilliseconds:F0} ms ({sw.Elapsed.TotalMicroseconds / n:F2} us/event)"));
            }

            await using var store = new SqliteAuditStore(dir);
            await store.InitializeAsync(default);
            if (Environment.GetEnvironmentVariable("SKJOLD_BENCH_DROP") is { Length: > 0 } drop)
            {
                await using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={store.Path}");
                await c.OpenAsync();
                foreach (var stmt in drop.Split(';'))
                {
                    await using var cmd = c.CreateCommand();
                    cmd.CommandText = stmt;
                    await cmd.ExecuteNonQueryAsync();
                }
            }

            sw.Restart();
            for (var i = 0; i < n; i += 2000)
            {
                await store.AppendAsync(prepared.Skip(i).Take(2000).ToList(), null, default);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"store (2000 per transaction): {sw.Elapsed.TotalMilliseconds:F0} ms ({n / sw.Elapsed.TotalSeconds:N0}/s)"));
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
    }
}
