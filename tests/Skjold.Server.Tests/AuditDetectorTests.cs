using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Skjold.Audit;
using Skjold.Audit.Signing;
using Skjold.Audit.Storage;
using Skjold.Detection.Falco;
using Skjold.Server.Detection;

namespace Skjold.Server.Tests;

/// <summary>Detection on the sealed stream: alerts are sealed into the same trail, naming the leaf; Skjold's own records raise nothing.</summary>
public sealed class AuditDetectorTests
{
    private const string Rules = """
        - rule: Any secret read
          desc: d
          condition: ka.target.resource = secrets and ka.verb = get
          output: "%ka.user.name read %ka.target.name"
          priority: ERROR
          source: k8s_audit
        - rule: Everything
          desc: would match Skjold's own records too, were they judged
          condition: ka.verb exists
          output: "%ka.verb"
          priority: DEBUG
          source: k8s_audit
        """;

    private static JsonElement Event(string verb, string resource) => JsonDocument.Parse($$"""
        {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{{Guid.NewGuid()}}","stage":"ResponseComplete","verb":"{{verb}}",
         "requestURI":"/api/v1/namespaces/pay/{{resource}}/db","user":{"username":"mallory","groups":["dev"]},
         "objectRef":{"resource":"{{resource}}","namespace":"pay","name":"db","apiVersion":"v1"},"responseStatus":{"code":200},
         "requestReceivedTimestamp":"2026-12-01T10:00:00Z","stageTimestamp":"2026-12-01T10:00:00Z"}
        """).RootElement.Clone();

    [Fact]
    public async Task Alerts_AreSealedIntoTheTrail_NamingRuleAndLeaf_AndAlertsRaiseNoAlerts()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-detector-").FullName;
        var keys = AuditKeys.Create(dir);
        var store = new SqliteAuditStore(dir);
        await store.InitializeAsync(default);
        var log = new AuditLog(store, keys);
        await log.StartAsync(default);
        try
        {
            var rules = new FalcoRuleSet();
            rules.Load(Rules, "rules.yaml");
            var detector = new AuditDetector(log, new Skjold.Detection.Skjold.DetectionEngine(rules), NullLogger.Instance);
            var subscription = log.Subscribe(detector);
            await log.AppendAsync([Event("list", "pods"), Event("get", "secrets")]);
            await log.AppendAsync([Event("get", "configmaps")]);
            await subscription.DisposeAsync();

            // Four alerts: 3 x Everything, 1 x Any secret read; the four alert records themselves raised none.
            Assert.Equal(4, detector.Alerts);
            var sealedAlerts = new List<(long Index, string Payload)>();
            await foreach (var (record, payload) in store.QueryAsync(new AuditQuery { Verbs = [AuditDetector.AlertVerb], Limit = 100 }, true, default))
            {
                sealedAlerts.Add((record.Index, Encoding.UTF8.GetString(payload!)));
            }

            Assert.Equal(4, sealedAlerts.Count);
            var secret = Assert.Single(sealedAlerts, a => a.Payload.Contains("Any secret read", StringComparison.Ordinal));
            Assert.Contains("\"skjold.io/leaf\":\"1\"", secret.Payload, StringComparison.Ordinal);
            Assert.Contains("\"skjold.io/output\":\"mallory read db\"", secret.Payload, StringComparison.Ordinal);
            Assert.Contains("\"skjold.io/priority\":\"Error\"", secret.Payload, StringComparison.Ordinal);
            Assert.All(sealedAlerts, a => Assert.True(a.Index >= 3));

            await log.SignNowAsync(default);
            using var verifier = new TreeHeadVerifier(keys.PublicKeyPem);
            Assert.True((await AuditVerifier.VerifyStoreAsync(store, verifier, null, default)).Ok);
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
