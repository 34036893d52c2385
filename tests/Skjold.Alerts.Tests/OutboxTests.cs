using Skjold.Alerts.Outbox;
using Skjold.TestSupport;

namespace Skjold.Alerts.Tests;

public sealed class OutboxTests
{
    public static TheoryData<string> Stores => new() { "sqlite", "postgres" };

    internal static AlertOutbox Open(string kind) =>
        kind == "sqlite" ? AlertOutbox.Sqlite(TestAlerts.TempFile(AlertOutbox.FileName)) : AlertOutbox.Postgres(PostgresServer.Shared.CreateDatabase());

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Enqueue_IsIdempotentPerOutputAndKeepsOrder(string kind)
    {
        await using var box = Open(kind);
        await box.InitializeAsync();
        await box.InitializeAsync(); // idempotent
        var alerts = Enumerable.Range(0, 10).Select(i => TestAlerts.Make(i)).ToList();
        Assert.Equal(20, await box.EnqueueAsync([.. alerts.Select(a => ("siem", a)), .. alerts.Select(a => ("am", a))]));
        Assert.Equal(0, await box.EnqueueAsync([.. alerts.Take(3).Select(a => ("siem", a))])); // the same alert again: nothing new

        var pending = await box.PendingAsync("siem", 0, 100);
        Assert.Equal(alerts.Select(a => a.Id), pending.Select(p => p.Alert.Id));
        Assert.True(pending.Zip(pending.Skip(1)).All(p => p.First.Seq < p.Second.Seq));
        Assert.Equal(alerts[4], pending[4].Alert with { Tags = alerts[4].Tags, Leaves = alerts[4].Leaves, Fields = alerts[4].Fields });
        Assert.Equal(alerts[4].Fields, pending[4].Alert.Fields);

        Assert.Equal(6, await box.MarkDeliveredAsync("siem", pending[5].Seq)); // the rows changed: what the dispatcher's depth gauge subtracts
        Assert.Equal(0, await box.MarkDeliveredAsync("siem", pending[5].Seq));
        Assert.Equal(1, await box.MarkSuppressedAsync("siem", pending[7].Seq));
        Assert.Equal(3, await box.DepthAsync("siem"));
        Assert.Equal(10, await box.DepthAsync("am")); // the other output is untouched
        Assert.Equal([6, 8, 9], (await box.PendingAsync("siem", 0, 100)).Select(p => (int)p.Alert.Leaves[0]));
        Assert.Equal([8, 9], (await box.PendingAsync("siem", pending[6].Seq, 100)).Select(p => (int)p.Alert.Leaves[0]));

        await box.RecordFailureAsync("siem", pending[6].Seq, "connection refused");
        var rows = await box.RowsAsync("siem");
        Assert.Equal(1, rows.Single(r => r.Seq == pending[6].Seq).Attempts);
        Assert.Equal("connection refused", rows.Single(r => r.Seq == pending[6].Seq).LastError);
        Assert.Equal(2, rows.Single(r => r.Seq == pending[7].Seq).State);

        Assert.Equal(7, await box.PruneAsync(DateTimeOffset.UtcNow.AddMinutes(1))); // 6 delivered + 1 suppressed
        Assert.Equal(3, (await box.RowsAsync("siem")).Count);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task SqliteOutbox_IsCreatedOwnerOnly()
    {
        var path = TestAlerts.TempFile(AlertOutbox.FileName);
        await using var box = AlertOutbox.Sqlite(path);
        await box.InitializeAsync();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task PostgresLease_OneReplicaDeliversAnOutput()
    {
        var cs = PostgresServer.Shared.CreateDatabase();
        await using var a = AlertOutbox.Postgres(cs);
        await using var b = AlertOutbox.Postgres(cs);
        await a.InitializeAsync();
        var lease = await a.TryLeaseAsync("siem");
        Assert.NotNull(lease);
        Assert.Null(await b.TryLeaseAsync("siem"));
        var other = await b.TryLeaseAsync("am");
        Assert.NotNull(other); // outputs are leased one by one
        await lease.DisposeAsync();
        var taken = await b.TryLeaseAsync("siem");
        Assert.NotNull(taken);
        await taken.DisposeAsync();
        await other.DisposeAsync();
    }
}
