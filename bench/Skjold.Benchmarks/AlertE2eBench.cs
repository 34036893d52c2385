using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Alerts.Configuration;
using Skjold.Alerts.Outputs;
using Skjold.Audit;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;
using Skjold.Detection.Falco;
using Skjold.Detection.Skjold;
using Skjold.Server.Detection;

namespace Skjold.Benchmarks;

/// <summary>
/// End to end: audit events appended to a SQLite trail at a fixed rate (5,000/s by default, in
/// batches of 50 every 10 ms, as the receiver appends what the API server posts), detection on
/// every durable batch, alerts through the outbox to a real rsyslog over TLS. 1% of the events fire
/// a rule whose output carries the append time; the latency is from that append to the moment the
/// line appears in rsyslog's file (polled every 2 ms). Then the ingestion ceiling (4 writers, as fast
/// as they can) with and without detection and forwarding, in the same run.
/// </summary>
internal static class AlertE2eBench
{
    private const string Rule = """
        - rule: Bench marker
          desc: fires on 1% of the events
          condition: ka.target.resource = configmaps and ka.target.name startswith "mark-"
          output: "mark %ka.target.name"
          priority: WARNING
          source: k8s_audit
        """;

    public static async Task<int> RunAsync(int rate, int seconds)
    {
        using var rsyslog = new Skjold.TestSupport.Rsyslog();
        var (p50, p99, max, n, achieved) = await LatencyAsync(rsyslog, rate, seconds).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"alerts end to end at {rate:N0} events/s offered for {seconds} s: {achieved:N0} events/s appended, {n} alerts, latency to rsyslog p50 {p50:F1} ms, p99 {p99:F1} ms, max {max:F1} ms"));
        // What detection and forwarding cost at the offered rate: the process's CPU time while it appends
        // at that rate (paced by a timer, not by spinning), without and with them, alternated three times.
        var cpu = new List<(double Without, double With, double RateWithout, double RateWith)>();
        for (var round = 0; round < 3; round++)
        {
            var (rateWithout, cpuWithout) = await OfferedAsync(null, rate, seconds).ConfigureAwait(false);
            var (rateWith, cpuWith) = await OfferedAsync(rsyslog, rate, seconds).ConfigureAwait(false);
            cpu.Add((cpuWithout, cpuWith, rateWithout, rateWith));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  at {rate:N0}/s offered, round {round + 1}: without detection {rateWithout:N0} events/s appended, {cpuWithout * 100:F0}% of a core; with detection and forwarding {rateWith:N0} events/s, {cpuWith * 100:F0}% of a core"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"at {rate:N0} events/s offered: appended without detection median {Median([.. cpu.Select(c => c.RateWithout)]):N0}/s, with {Median([.. cpu.Select(c => c.RateWith)]):N0}/s; CPU without median {Median([.. cpu.Select(c => c.Without)]) * 100:F0}% of a core, with {Median([.. cpu.Select(c => c.With)]) * 100:F0}%"));

        // The ceiling is noisy on a shared 2-core machine: alternate the two set-ups five times and
        // compare medians (and the median of the paired ratios), never one run of each.
        var withouts = new List<double>();
        var withs = new List<double>();
        var ratios = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            var without = await CeilingAsync(null, Total).ConfigureAwait(false);
            var with = await CeilingAsync(rsyslog, Total).ConfigureAwait(false);
            withouts.Add(without);
            withs.Add(with);
            ratios.Add(with / without);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round + 1}: without {without:N0} events/s, with {with:N0} events/s ({with / without:F2}x)"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingestion ceiling ({Total:N0} events, 4 writers, 5 alternating rounds): without detection median {Median(withouts):N0} events/s, with detection and forwarding median {Median(withs):N0} events/s; median ratio {Median(ratios):F2}x"));
        return 0;
    }

    private static async Task<(double P50, double P99, double Max, int N, double Achieved)> LatencyAsync(Skjold.TestSupport.Rsyslog rsyslog, int rate, int seconds)
    {
        var (log, store, keys, dir) = await OpenAsync().ConfigureAwait(false);
        var sent = new Dictionary<string, long>(StringComparer.Ordinal);
        var lat = new List<double>();
        var achieved = 0.0;
        await using (var pipeline = await Pipeline(log, dir, rsyslog).ConfigureAwait(false))
        {
            using var stop = new CancellationTokenSource();
            var watcher = Task.Run(async () =>
            {
                long offset = 0;
                var pending = "";
                while (!stop.IsCancellationRequested || lat.Count < sent.Count)
                {
                    if (File.Exists(rsyslog.OutputFile))
                    {
                        using var f = new FileStream(rsyslog.OutputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                        f.Seek(offset, SeekOrigin.Begin);
                        using var r = new StreamReader(f);
                        var text = pending + await r.ReadToEndAsync().ConfigureAwait(false);
                        offset = f.Position;
                        var now = Stopwatch.GetTimestamp();
                        var lines = text.Split('\n');
                        pending = lines[^1];
                        foreach (var line in lines[..^1])
                        {
                            var i = line.IndexOf("mark mark-", StringComparison.Ordinal);
                            if (i >= 0)
                            {
                                var id = line[(i + 5)..].Trim();
                                lock (sent)
                                {
                                    if (sent.TryGetValue(id, out var at))
                                    {
                                        lat.Add(Stopwatch.GetElapsedTime(at, now).TotalMilliseconds);
                                    }
                                }
                            }
                        }
                    }

                    if (stop.IsCancellationRequested && Stopwatch.GetElapsedTime(StopAt).TotalSeconds > 20)
                    {
                        break;
                    }

                    await Task.Delay(2).ConfigureAwait(false);
                }
            });
            var batch = rate / 100;
            var start = Stopwatch.GetTimestamp();
            var seq = 0;
            for (var tick = 0; tick < seconds * 100; tick++)
            {
                var due = start + (long)(tick * 0.01 * Stopwatch.Frequency);
                while (Stopwatch.GetTimestamp() < due)
                {
                    await Task.Yield();
                }

                var events = new List<JsonElement>(batch);
                string? mark = null;
                for (var i = 0; i < batch; i++, seq++)
                {
                    var isMark = seq % 100 == 0;
                    var name = isMark ? $"mark-{seq}" : $"cm-{seq}";
                    mark = isMark ? name : mark;
                    events.Add(Event(name));
                }

                if (mark is not null)
                {
                    lock (sent)
                    {
                        sent[mark] = Stopwatch.GetTimestamp();
                    }
                }

                await log.AppendAsync(events).ConfigureAwait(false);
            }

            StopAt = Stopwatch.GetTimestamp();
            achieved = seq / Stopwatch.GetElapsedTime(start, StopAt).TotalSeconds;
            await stop.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
        }

        await CloseAsync(log, store, keys, dir).ConfigureAwait(false);
        lat.Sort();
        return lat.Count == 0 ? (0, 0, 0, 0, achieved) : (lat[lat.Count / 2], lat[(int)Math.Min(lat.Count - 1, Math.Ceiling(lat.Count * 0.99) - 1)], lat[^1], lat.Count, achieved);
    }

    private const int Total = 200_000;

    /// <summary>Appends at <paramref name="rate"/> for <paramref name="seconds"/> (what is due every 10 ms); returns the rate achieved and the process's CPU per wall second.</summary>
    private static async Task<(double Rate, double Cpu)> OfferedAsync(Skjold.TestSupport.Rsyslog? rsyslog, int rate, int seconds)
    {
        var (log, store, keys, dir) = await OpenAsync().ConfigureAwait(false);
        var pipeline = rsyslog is null ? null : await Pipeline(log, dir, rsyslog).ConfigureAwait(false);
        using var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        var appended = 0;
        using (var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10)))
        {
            while (sw.Elapsed.TotalSeconds < seconds && await timer.WaitForNextTickAsync().ConfigureAwait(false))
            {
                var due = (int)Math.Min((long)rate * seconds, (long)(sw.Elapsed.TotalSeconds * rate));
                if (due > appended)
                {
                    await log.AppendAsync([.. Enumerable.Range(appended, due - appended).Select(s => Event(s % 100 == 0 ? $"mark-{s}" : $"cm-{s}"))]).ConfigureAwait(false);
                    appended = due;
                }
            }
        }

        var wall = sw.Elapsed.TotalSeconds;
        process.Refresh();
        var used = (process.TotalProcessorTime - cpu0).TotalSeconds / wall;
        if (pipeline is not null)
        {
            await pipeline.DisposeAsync().ConfigureAwait(false);
        }

        await CloseAsync(log, store, keys, dir).ConfigureAwait(false);
        return (appended / wall, used);
    }

    private static long StopAt;

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static async Task<double> CeilingAsync(Skjold.TestSupport.Rsyslog? rsyslog, int total)
    {
        var (log, store, keys, dir) = await OpenAsync().ConfigureAwait(false);
        var mode = Environment.GetEnvironmentVariable("SKJOLD_BENCH_E2E_MODE");
        IAsyncDisposable? pipeline = rsyslog is null ? null : mode switch
        {
            "parse" => log.Subscribe(new ParseOnly()),
            "detect" => await DetectionPipeline.StartAsync(log, new AuditStoreLocation { DataDirectory = dir }, new DetectionEngine(Rules()), [], NullLoggerFactory.Instance).ConfigureAwait(false),
            _ => await Pipeline(log, dir, rsyslog).ConfigureAwait(false),
        };
        var sw = Stopwatch.StartNew();
        var per = total / 4;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var b = 0; b < per / 50; b++)
            {
                await log.AppendAsync([.. Enumerable.Range(0, 50).Select(i => Event((w * per) + (b * 50) + i is var s && s % 100 == 0 ? $"mark-{s}" : $"cm-{s}"))]).ConfigureAwait(false);
            }
        }))).ConfigureAwait(false);
        var rate = total / sw.Elapsed.TotalSeconds;
        if (pipeline is not null)
        {
            await pipeline.DisposeAsync().ConfigureAwait(false);
        }

        await CloseAsync(log, store, keys, dir).ConfigureAwait(false);
        return rate;
    }

    private sealed class ParseOnly : IAuditLogObserver
    {
        public ValueTask OnCommittedAsync(CommittedBatch batch, CancellationToken cancellationToken)
        {
            foreach (var e in batch.Events)
            {
                using var doc = JsonDocument.Parse(e.Canonical);
            }

            return ValueTask.CompletedTask;
        }
    }

    private static FalcoRuleSet Rules()
    {
        var rules = new FalcoRuleSet();
        rules.Load(Rule, "bench.yaml");
        return rules;
    }

    private static async Task<DetectionPipeline> Pipeline(AuditLog log, string dir, Skjold.TestSupport.Rsyslog rsyslog)
    {
        var rules = Rules();
        var settings = new SyslogOutputSettings
        {
            Host = "127.0.0.1",
            Port = rsyslog.TlsPort,
            TrustedCas = [rsyslog.Certificates.Ca],
            ServerName = "localhost",
        };
        var outputs = new[] { new OutputDefinition("siem", "syslog", "bench", FalcoPriority.Debug, null, 200, t => new SyslogOutput("siem", settings, t)) };
        return await DetectionPipeline.StartAsync(log, new AuditStoreLocation { DataDirectory = dir }, new DetectionEngine(rules), outputs, NullLoggerFactory.Instance,
            options: new Skjold.Alerts.AlertDispatcherOptions { PollInterval = TimeSpan.FromMilliseconds(200) }).ConfigureAwait(false);
    }

    private static JsonElement Event(string name) => JsonDocument.Parse(
        $"{{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"{Guid.NewGuid()}\",\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/shop/configmaps/{name}\",\"verb\":\"get\",\"user\":{{\"username\":\"load\"}},\"sourceIPs\":[\"10.1.2.3\"],\"objectRef\":{{\"resource\":\"configmaps\",\"namespace\":\"shop\",\"name\":\"{name}\"}},\"responseStatus\":{{\"code\":200}},\"requestReceivedTimestamp\":\"2026-12-02T09:00:00Z\",\"stageTimestamp\":\"2026-12-02T09:00:00Z\"}}").RootElement.Clone();

    private static async Task<(AuditLog, SqliteAuditStore, AuditKeys, string)> OpenAsync()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-e2e-").FullName;
        var keys = AuditKeys.Create(dir);
        var store = new SqliteAuditStore(dir);
        await store.InitializeAsync(default).ConfigureAwait(false);
        var log = new AuditLog(store, keys);
        await log.StartAsync(default).ConfigureAwait(false);
        return (log, store, keys, dir);
    }

    private static async Task CloseAsync(AuditLog log, SqliteAuditStore store, AuditKeys keys, string dir)
    {
        await log.DisposeAsync().ConfigureAwait(false);
        await store.DisposeAsync().ConfigureAwait(false);
        keys.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dir, true);
    }
}
