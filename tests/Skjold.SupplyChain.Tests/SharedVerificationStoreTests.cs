using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Skjold.SupplyChain.Policy;
using Skjold.TestSupport;

namespace Skjold.SupplyChain.Tests;

/// <summary>Verdicts shared between replicas through a real PostgreSQL server.</summary>
public sealed class SharedVerificationStoreTests
{
    [Fact]
    public async Task Put_ThenGetFromAnotherReplica_UntilExpiry()
    {
        var connection = PostgresServer.Shared.CreateDatabase();
        await using var db1 = NpgsqlDataSource.Create(connection);
        await using var db2 = NpgsqlDataSource.Create(connection);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var one = await PostgresVerificationStore.OpenAsync(db1, clock, default);
        var two = await PostgresVerificationStore.OpenAsync(db2, clock, default);
        await one.PutAsync("payments|r/a@sha256:1", true, "signed by ci", clock.GetUtcNow().AddMinutes(10), default);
        var seen = await two.GetAsync("payments|r/a@sha256:1", default);
        Assert.Equal((true, "signed by ci"), seen);
        await one.PutAsync("payments|r/a@sha256:1", false, "revoked", clock.GetUtcNow().AddMinutes(10), default);
        Assert.Equal((false, "revoked"), await two.GetAsync("payments|r/a@sha256:1", default));
        clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Null(await two.GetAsync("payments|r/a@sha256:1", default));
    }
}
