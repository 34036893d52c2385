using System.Text.Json;
using Skjold.Audit.Query;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Tests;

/// <summary>--around ALERT_ID: from a sealed alert to what its identity did in the window around it.</summary>
public sealed class AroundAlertTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    private string _dir = null!;
    private AuditKeys _keys = null!;
    private SqliteAuditStore _store = null!;
    private AuditLog _log = null!;

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("skjold-around-").FullName;
        _keys = AuditKeys.Create(_dir);
        _store = new SqliteAuditStore(_dir);
        await _store.InitializeAsync(default);
        _log = new AuditLog(_store, _keys, time: new Microsoft.Extensions.Time.Testing.FakeTimeProvider(T));
        await _log.StartAsync(default);
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        await _store.DisposeAsync();
        _keys.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private static JsonElement Event(string user, DateTimeOffset at, string verb = "get", string resource = "secrets", string ns = "shop", string? name = "db", string? podExtra = null)
    {
        var extra = podExtra is null ? "" : $",\"extra\":{{\"authentication.kubernetes.io/pod-name\":[\"{podExtra}\"]}}";
        return JsonDocument.Parse($$"""
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{{Guid.NewGuid()}}","stage":"ResponseComplete","verb":"{{verb}}",
             "requestURI":"/api/v1/namespaces/{{ns}}/{{resource}}","user":{"username":"{{user}}"{{extra}}},
             "objectRef":{"resource":"{{resource}}","namespace":"{{ns}}"{{(name is null ? "" : $",\"name\":\"{name}\"")}},"apiVersion":"v1"},"responseStatus":{"code":200},
             "requestReceivedTimestamp":"{{at:O}}","stageTimestamp":"{{at:O}}"}
            """).RootElement.Clone();
    }

    private async Task<ConfirmedQuery> Confirmed()
    {
        await _log.SignNowAsync(default);
        return new ConfirmedQuery(_store, new TreeHeadVerifier(_keys.PublicKeyPem));
    }

    [Fact]
    public async Task FalcoAlertOnAPod_FollowsThePodsServiceAccountAndRequestsOnThePod_InTheWindow()
    {
        await _log.AppendAsync([
            Event("system:serviceaccount:shop:web", T.AddMinutes(-5), podExtra: "web-7d9"),      // 0: the pod's token, in the window
            Event("system:serviceaccount:shop:web", T.AddMinutes(-4), podExtra: "web-other"),    // 1: same account, another pod
            Event("system:serviceaccount:shop:web", T.AddMinutes(-40), podExtra: "web-7d9"),     // 2: outside the window
            Event("alice", T.AddMinutes(2), verb: "create", resource: "pods", name: "web-7d9"), // 3: exec into the pod (on the pod)
            Event("system:serviceaccount:pay:web", T.AddMinutes(1), podExtra: "web-7d9"),        // 4: a pod of that name in another namespace
        ]);
        await _log.RecordSystemEventAsync(AroundAlert.FalcoVerb, "Error: Write below binary dir", new Dictionary<string, string>
        {
            ["skjold.io/rule"] = "Write below binary dir",
            ["skjold.io/alert-id"] = "7f3c2b1a1d2e4f5a8b9c0a1b2c3d4e5f",
            ["skjold.io/time"] = T.ToString("O"),
            ["skjold.io/falco-namespace"] = "shop",
            ["skjold.io/falco-pod"] = "web-7d9",
        }, default);
        var confirmed = await Confirmed();
        var r = await AroundAlert.ResolveAsync(confirmed, new AuditQuery(), "7F3C2B1A", TimeSpan.FromMinutes(15), default);
        Assert.Equal(5, r.AlertLeaf);
        Assert.Contains("pod shop/web-7d9", r.Subject, StringComparison.Ordinal);
        var rows = (await confirmed.RunAsync(r.Query with { Limit = 100 }, payloads: true, default)).Rows;
        var matched = rows.Where(x => x.Payload is { } p && r.Matches(JsonDocument.Parse(p).RootElement)).Select(x => x.Record.Index).ToList();
        Assert.Equal([0L, 3L], matched);
    }

    [Fact]
    public async Task DetectionAlert_FollowsTheUserOfTheEventItFiredOn()
    {
        await _log.AppendAsync([Event("mallory", T.AddMinutes(-1)), Event("bob", T), Event("mallory", T.AddMinutes(20))]);
        await _log.RecordSystemEventAsync(AroundAlert.DetectionVerb, "Error: r", new Dictionary<string, string>
        {
            ["skjold.io/rule"] = "Secret read",
            ["skjold.io/alert-id"] = "aaaaaaaabbbbbbbbccccccccdddddddd",
            ["skjold.io/leaf"] = "0",
        }, default);
        var confirmed = await Confirmed();
        var r = await AroundAlert.ResolveAsync(confirmed, new AuditQuery { Verbs = ["get"] }, "aaaaaaaabbbb", TimeSpan.FromMinutes(15), default);
        Assert.Equal("user mallory", r.Subject);
        Assert.Equal("mallory", r.Query.User);
        Assert.Equal(["get"], r.Query.Verbs); // the other filters stay
        var rows = (await confirmed.RunAsync(r.Query, payloads: false, default)).Rows;
        Assert.Equal([0L], rows.Select(x => x.Record.Index));
    }

    [Theory]
    [InlineData("0123", "too short")]
    [InlineData("ffffffffffff", "no alert with id")]
    public async Task UnknownOrShortIds_AreClearErrors(string id, string expected)
    {
        await _log.AppendAsync([Event("bob", T)]);
        var ex = await Assert.ThrowsAsync<KeyNotFoundException>(async () => await AroundAlert.ResolveAsync(await Confirmed(), new AuditQuery(), id, TimeSpan.FromMinutes(15), default));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
