using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;
using Skjold.TestSupport;

namespace Skjold.Audit.Tests;

/// <summary>The seams other capabilities use: the post-commit subscription, the factory, the log messages.</summary>
public sealed class AuditLogSeamTests
{
    private sealed class Recorder : IAuditLogObserver
    {
        public ConcurrentQueue<CommittedBatch> Batches { get; } = new();

        public TaskCompletionSource<bool> Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Blocking { get; init; }

        public async ValueTask OnCommittedAsync(CommittedBatch batch, CancellationToken cancellationToken)
        {
            if (Blocking)
            {
                await Gate.Task;
            }

            Batches.Enqueue(batch);
        }
    }

    private sealed class Throwing : IAuditLogObserver
    {
        public int Calls;
        public int Events;

        public ValueTask OnCommittedAsync(CommittedBatch batch, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            Interlocked.Add(ref Events, batch.Events.Count);
            throw new InvalidOperationException("observer bug");
        }
    }

    [Fact]
    public async Task Subscribe_ObserversSeeEveryDurableBatchInLeafOrder_AndASlowOneBlocksNothing()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var fast = new Recorder();
        var slow = new Recorder { Blocking = true };
        var failing = new Throwing();
        await using var a = t.Log.Subscribe(fast);
        await using var b = t.Log.Subscribe(slow);
        await using var c = t.Log.Subscribe(failing);

        var results = new List<AppendResult>();
        for (var i = 0; i < 5; i++)
        {
            // Appends complete although the slow observer has not returned from the first batch.
            results.Add(await t.Log.AppendAsync([AuditTestLog.Event(2 * i), AuditTestLog.Event(2 * i + 1)]));
        }

        slow.Gate.SetResult(true);
        await a.DisposeAsync();
        await b.DisposeAsync();
        await c.DisposeAsync();

        // The slow observer was held in its first call while more batches were committed: those queued
        // behind it reach it joined (fewer calls than commits; the last may be published after the gate opened).
        Assert.InRange(slow.Batches.Count, 1, 3);
        foreach (var seen in new[] { fast.Batches, slow.Batches })
        {
            var batches = seen.ToList();
            Assert.InRange(batches.Count, 1, 5);
            var next = 0L;
            foreach (var batch in batches)
            {
                Assert.Equal(next, batch.FirstIndex);
                Assert.Equal(batch.FirstIndex + batch.Events.Count, batch.Size);
                next = batch.Size;
            }

            // The events are the sealed ones: leaf i of the store is event i of the batches.
            var all = batches.SelectMany(x => x.Events).ToList();
            Assert.Equal(10, all.Count);
            Assert.Contains("\"auditID\":\"id-7\"", Encoding.UTF8.GetString(all[7].Canonical), StringComparison.Ordinal);
            Assert.Equal("id-7", all[7].Fields.AuditId);
        }

        Assert.InRange(failing.Calls, 1, 5);
        Assert.Equal(10, failing.Events); // an observer that throws is still told about every later batch
        Assert.Equal(results[^1].Size, fast.Batches.Last().Size);
    }

    [Fact]
    public async Task Subscribe_WithAGatherWindow_JoinsTheBatchesCommittedMeanwhile_InLeafOrder()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var r = new Recorder();
        await using (t.Log.Subscribe(r, TimeSpan.FromSeconds(1)))
        {
            for (var i = 0; i < 3; i++)
            {
                await t.Log.AppendAsync([AuditTestLog.Event(2 * i), AuditTestLog.Event(2 * i + 1)]);
            }
        }

        var batches = r.Batches.ToList();
        Assert.InRange(batches.Count, 1, 2); // three commits within the window: at most the last arrives apart
        Assert.Equal(0, batches[0].FirstIndex);
        Assert.Equal(6, batches[^1].Size);
        Assert.Equal(["id-0", "id-1", "id-2", "id-3", "id-4", "id-5"], batches.SelectMany(b => b.Events).Select(e => e.Fields.AuditId));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Log.Subscribe(r, TimeSpan.FromMilliseconds(-1)));
    }

    [Fact]
    public async Task Subscribe_AfterDispose_SeesNothingMore()
    {
        await using var t = await AuditTestLog.CreateAsync();
        var r = new Recorder();
        var sub = t.Log.Subscribe(r);
        await t.Log.AppendAsync([AuditTestLog.Event(0)]);
        await sub.DisposeAsync();
        await t.Log.AppendAsync([AuditTestLog.Event(1)]);
        Assert.Single(r.Batches);
    }

    [Fact]
    public async Task Factory_MissingStoreOrKeys_IsAnAuditStoreException_AndCreatesNothing()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-factory-").FullName;
        try
        {
            var location = new AuditStoreLocation { DataDirectory = Path.Combine(dir, "none") };
            var missing = Assert.Throws<AuditStoreException>(() => AuditLogFactory.OpenExistingStore(location));
            Assert.Contains("no audit trail in", missing.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("--", missing.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(location.DataDirectory));

            var noKeys = await Assert.ThrowsAsync<AuditStoreException>(() => AuditLogFactory.OpenAsync(location));
            Assert.Contains("no audit keys in", noKeys.Message, StringComparison.Ordinal);

            Directory.CreateDirectory(location.DataDirectory);
            AuditKeys.Create(location.DataDirectory).Dispose();
            await using (var session = await AuditLogFactory.OpenAsync(location))
            {
                await session.Log.AppendAsync([AuditTestLog.Event(0)]);
                Assert.Equal(1, (await session.Store.StateAsync(default)).Size);
            }

            // Unreachable PostgreSQL: the host sees the audit library's exception, not Npgsql's.
            var pg = new AuditStoreLocation { DataDirectory = location.DataDirectory, Postgres = "Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=2" };
            var down = await Assert.ThrowsAsync<AuditStoreException>(() => AuditLogFactory.OpenAsync(pg));
            Assert.Contains("cannot open the audit store (PostgreSQL 127.0.0.1:1/z)", down.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("Password", down.Message, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
    }

    private sealed class ListLogger : ILogger<AuditLog>
    {
        public ConcurrentQueue<(EventId Id, LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((eventId, logLevel, formatter(state, exception)));
    }

    [Fact]
    public async Task ASignatureThatFailsInTheBackground_IsLogged_NotSwallowed()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-signlog-").FullName;
        var keys = AuditKeys.Create(dir);
        var store = new SqliteAuditStore(dir);
        await store.InitializeAsync(default);
        var logger = new ListLogger();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero));
        var log = new AuditLog(store, keys, new AuditLogOptions { SignEvery = 1_000, SignInterval = TimeSpan.FromMilliseconds(50) }, time, logger);
        await log.StartAsync(default);
        try
        {
            await log.AppendAsync([AuditTestLog.Event(0)]);
            // The signing key is disposed under the log: the next background signature fails.
            keys.Dispose();
            for (var i = 0; i < 500 && !logger.Entries.Any(e => e.Id.Id == 2001); i++)
            {
                // The quiet interval passes on the log's clock (the writer may not be waiting yet: advance again).
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(10);
            }

            Assert.Contains(logger.Entries, e => e.Id.Id == 2001 && e.Level == LogLevel.Error);
        }
        finally
        {
            await log.DisposeAsync();
            await store.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
    }
}

/// <summary>Time-based tree-head signing, driven by a fake clock.</summary>
public sealed class TimedSigningTests
{
    [Fact]
    public async Task QuietLog_SignsWhatIsUnsigned_OneSignIntervalAfterTheLastBatch_NotBefore()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-timed-").FullName;
        var keys = AuditKeys.Create(dir);
        var store = new SqliteAuditStore(dir);
        await store.InitializeAsync(default);
        var time = new SignallingClock(new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero));
        var log = new AuditLog(store, keys, new AuditLogOptions { SignEvery = 1_000, SignInterval = TimeSpan.FromSeconds(10) }, time);
        await log.StartAsync(default);
        try
        {
            Assert.True(await time.TimersCreated.WaitAsync(TimeSpan.FromSeconds(20)), "the writer waits");
            await log.AppendAsync([AuditTestLog.Event(0), AuditTestLog.Event(1)]);
            // The writer is back waiting, with a new quiet-interval timer.
            Assert.True(await time.TimersCreated.WaitAsync(TimeSpan.FromSeconds(20)), "the writer waits again");
            while (time.TimersCreated.CurrentCount > 0)
            {
                await time.TimersCreated.WaitAsync();
            }

            time.Advance(TimeSpan.FromSeconds(9.9));
            Assert.Empty(await store.TreeHeadsAsync(default));

            time.Advance(TimeSpan.FromSeconds(0.2));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            IReadOnlyList<SignedTreeHead> heads;
            while ((heads = await store.TreeHeadsAsync(default)).Count == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Yield();
            }

            var head = Assert.Single(heads);
            Assert.Equal(2, head.Size);
            Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds(), head.Timestamp.ToUnixTimeMilliseconds());
        }
        finally
        {
            await log.DisposeAsync();
            await store.DisposeAsync();
            keys.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, true);
        }
    }
}
