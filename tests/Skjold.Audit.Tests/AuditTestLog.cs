using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;

namespace Skjold.Audit.Tests;

/// <summary>A fresh audit log in a temporary directory (SQLite by default, or any store).</summary>
internal sealed class AuditTestLog : IAsyncDisposable
{
    private AuditTestLog(string dir, IAuditStore store, AuditKeys keys, AuditLog log, FakeTimeProvider time)
    {
        Directory = dir;
        Store = store;
        Keys = keys;
        Log = log;
        Time = time;
    }

    public string Directory { get; }

    public IAuditStore Store { get; }

    public AuditKeys Keys { get; }

    public AuditLog Log { get; }

    public FakeTimeProvider Time { get; }

    public static async Task<AuditTestLog> CreateAsync(Func<string, IAuditStore>? storeFactory = null, AuditLogOptions? options = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("skjold-audit-").FullName;
        var keys = AuditKeys.Create(dir);
        var store = storeFactory?.Invoke(dir) ?? new SqliteAuditStore(dir);
        await store.InitializeAsync(default);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero));
        var log = new AuditLog(store, keys, options ?? new AuditLogOptions { SignEvery = 10 }, time);
        await log.StartAsync(default);
        return new AuditTestLog(dir, store, keys, log, time);
    }

    public TreeHeadVerifier Verifier() => new(Keys.PublicKeyPem);

    public async Task<VerificationReport> VerifyAsync()
    {
        using var v = Verifier();
        return await AuditVerifier.VerifyStoreAsync(Store, v, null, default, new VerifyOptions { Time = Time });
    }

    public static JsonElement Event(int i, string verb = "get", string user = "alice", string resource = "pods", string ns = "shop", string? name = null,
        int code = 200, string time = "2026-11-24T10:00:00Z", string? subresource = null, string? extra = null, string group = "dev", string? apiGroup = null)
    {
        var sub = subresource is null ? string.Empty : $",\"subresource\":\"{subresource}\"";
        var nameJson = (name is null ? string.Empty : $",\"name\":\"{name}\"") + (apiGroup is null ? string.Empty : $",\"apiGroup\":\"{apiGroup}\"");
        var json = $$"""
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-{{i}}","stage":"ResponseComplete",
             "requestURI":"/api/v1/namespaces/{{ns}}/{{resource}}","verb":"{{verb}}",
             "user":{"username":"{{user}}","groups":["{{group}}","system:authenticated"]},"sourceIPs":["10.0.0.{{i % 250}}"],"userAgent":"kubectl/v1.31",
             "objectRef":{"resource":"{{resource}}","namespace":"{{ns}}"{{nameJson}}{{sub}},"apiVersion":"v1"},
             "responseStatus":{"metadata":{},"code":{{code}}},"requestReceivedTimestamp":"{{time}}","stageTimestamp":"{{time}}"{{extra ?? string.Empty}}}
            """;
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    /// <summary>
    /// Thirty events a minute apart from 10:00, every third by group ops, then the questions an
    /// investigator asks of a group: a time window in order, the latest first, and with a user.
    /// </summary>
    public async Task AssertGroupQueriesAsync()
    {
        await Log.AppendAsync([.. Enumerable.Range(0, 30).Select(i => Event(i, user: i % 2 == 0 ? "alice" : "bob",
            time: new DateTimeOffset(2026, 11, 24, 10, i, 0, TimeSpan.Zero).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            group: i % 3 == 0 ? "ops" : "dev"))]);
        var first = (await Store.StateAsync(default)).Size - 30;
        async Task<List<long>> Q(AuditQuery q)
        {
            var list = new List<long>();
            await foreach (var (r, _) in Store.QueryAsync(q, false, default))
            {
                Assert.Contains(q.Group!, r.Groups);
                list.Add(r.Index - first);
            }

            return list;
        }

        var window = new AuditQuery { Group = "ops", Since = new DateTimeOffset(2026, 11, 24, 10, 5, 0, TimeSpan.Zero), Until = new DateTimeOffset(2026, 11, 24, 10, 20, 0, TimeSpan.Zero) };
        Assert.Equal([6L, 9, 12, 15, 18], await Q(window));
        Assert.Equal([18L, 15], await Q(window with { Descending = true, Limit = 2 }));
        Assert.Equal([6L, 12, 18], await Q(window with { User = "alice" }));
        Assert.Equal(20, (await Q(new AuditQuery { Group = "dev" })).Count(i => i >= 0)); // earlier events of the log are before first
    }

    public async ValueTask DisposeAsync()
    {
        await Log.DisposeAsync();
        await Store.DisposeAsync();
        Keys.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, true);
        }
        catch (IOException)
        {
        }
    }
}
