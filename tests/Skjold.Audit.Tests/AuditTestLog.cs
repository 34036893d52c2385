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
        return await AuditVerifier.VerifyStoreAsync(Store, v, null, default);
    }

    public static JsonElement Event(int i, string verb = "get", string user = "alice", string resource = "pods", string ns = "shop", string? name = null,
        int code = 200, string time = "2026-11-24T10:00:00Z", string? subresource = null, string? extra = null)
    {
        var sub = subresource is null ? string.Empty : $",\"subresource\":\"{subresource}\"";
        var nameJson = name is null ? string.Empty : $",\"name\":\"{name}\"";
        var json = $$"""
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-{{i}}","stage":"ResponseComplete",
             "requestURI":"/api/v1/namespaces/{{ns}}/{{resource}}","verb":"{{verb}}",
             "user":{"username":"{{user}}","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.0.{{i % 250}}"],"userAgent":"kubectl/v1.31",
             "objectRef":{"resource":"{{resource}}","namespace":"{{ns}}"{{nameJson}}{{sub}},"apiVersion":"v1"},
             "responseStatus":{"metadata":{},"code":{{code}}},"requestReceivedTimestamp":"{{time}}","stageTimestamp":"{{time}}"{{extra ?? string.Empty}}}
            """;
        return JsonDocument.Parse(json).RootElement.Clone();
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
