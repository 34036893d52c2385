using System.Text.Json;

namespace Skjold.Cli.Tests;

/// <summary><c>skjold detect</c>: Falco k8s_audit rules over an audit log file.</summary>
public sealed class DetectCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-detect-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private CliRun Run(params string[] args) => CliRunner.Run(_dir, null, args);

    private const string Rules = """
        - list: trusted_users
          items: [alice]
        - rule: Secret read by an untrusted user
          desc: a secret was read by someone not on the list
          condition: ka.target.resource = secrets and ka.verb = get and not ka.user.name in (trusted_users)
          output: "%ka.user.name read %ka.target.namespace/%ka.target.name (init images %ka.req.pod.initContainers.image)"
          priority: WARNING
          source: k8s_audit
          tags: [k8s, secrets]
        """;

    private static string Event(string user, string verb = "get") =>
        $$"""{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-{{user}}-{{verb}}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/pay/secrets/db","verb":"{{verb}}","user":{"username":"{{user}}"},"objectRef":{"resource":"secrets","namespace":"pay","name":"db"},"requestReceivedTimestamp":"2026-12-01T10:00:00Z","stageTimestamp":"2026-12-01T10:00:00Z"}""";

    [Fact]
    public void Alerts_AtOrAboveFailOn_ExitOne_AndJsonListsThem()
    {
        File.WriteAllText(Path.Combine(_dir, "rules.yaml"), Rules);
        File.WriteAllLines(Path.Combine(_dir, "audit.log"), [Event("alice"), Event("mallory"), "not json", Event("mallory", "list")]);

        var table = Run("detect", "audit.log", "--rules", "rules.yaml");
        Assert.Equal(1, table.ExitCode);
        Assert.Contains("WARNING       Secret read by an untrusted user: mallory read pay/db (init images <NA>)", table.Out, StringComparison.Ordinal);
        Assert.Contains("audit.log:3: not an audit event", table.Error, StringComparison.Ordinal);
        Assert.Contains("3 events, 1 alerts", table.Error, StringComparison.Ordinal);

        var json = JsonDocument.Parse(Run("detect", "audit.log", "-r", "rules.yaml", "-f", "json").Out).RootElement;
        Assert.Equal(3, json.GetProperty("events").GetInt32());
        var alert = Assert.Single(json.GetProperty("alerts").EnumerateArray().ToList());
        Assert.Equal("Warning", alert.GetProperty("priority").GetString());
        Assert.Equal("secrets", alert.GetProperty("tags")[1].GetString());

        Assert.Equal(0, Run("detect", "audit.log", "-r", "rules.yaml", "--fail-on", "error").ExitCode);
    }

    [Fact]
    public void AuditIngest_WithDetectRules_SealsAlertsIntoTheTrail_AndItStillVerifies()
    {
        File.WriteAllText(Path.Combine(_dir, "rules.yaml"), Rules);
        File.WriteAllLines(Path.Combine(_dir, "audit.log"), [Event("alice"), Event("mallory")]);
        Assert.Equal(0, Run("audit", "init").ExitCode);

        var ingest = Run("audit", "ingest", "audit.log", "--detect-rules", "rules.yaml", "--format", "json");
        Assert.True(ingest.ExitCode == 0, ingest.Error);
        Assert.Equal(1, JsonDocument.Parse(ingest.Out).RootElement.GetProperty("alerts").GetInt32());
        Assert.Contains("alert: WARNING Secret read by an untrusted user (leaf 1): mallory read pay/db", ingest.Error, StringComparison.Ordinal);

        var alerts = JsonDocument.Parse(Run("audit", "query", "--verb", "detection-alert", "-f", "json").Out).RootElement;
        Assert.Equal(1, alerts.GetArrayLength());
        Assert.Equal(0, Run("audit", "verify").ExitCode);

        Assert.Equal(2, Run("audit", "ingest", "audit.log", "--detect-rules", "missing.yaml").ExitCode);
    }

    [Fact]
    public void Detect_OverTheSealedTrail_HuntsWithTodaysRules_AndSkipsRowsThatDoNotMatchTheirLeafHash()
    {
        File.WriteAllText(Path.Combine(_dir, "rules.yaml"), Rules);
        File.WriteAllLines(Path.Combine(_dir, "audit.log"), [Event("alice"), Event("mallory"), Event("trudy")]);
        Assert.Equal(0, Run("audit", "init").ExitCode);
        Assert.Equal(0, Run("audit", "ingest", "audit.log").ExitCode);

        var hunt = Run("detect", "--data-dir", "skjold-audit", "--rules", "rules.yaml", "-f", "json");
        Assert.Equal(1, hunt.ExitCode);
        var alerts = JsonDocument.Parse(hunt.Out).RootElement.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("where").GetString()).ToList();
        Assert.Equal(["leaf 1", "leaf 2"], alerts);

        // Someone rewrites a sealed payload: the row is not judged as if it were the sealed event.
        using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, "skjold-audit", "audit.db")}"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "UPDATE events SET payload = CAST('{}' AS BLOB) WHERE idx = 2";
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }

        var after = Run("detect", "--data-dir", "skjold-audit", "--rules", "rules.yaml");
        Assert.Contains("warning: leaf 2: payload does not match its leaf hash", after.Error, StringComparison.Ordinal);
        Assert.Contains("mallory read pay/db", after.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("trudy", after.Out, StringComparison.Ordinal);

        Assert.Equal(2, Run("detect", "audit.log", "--data-dir", "skjold-audit", "-r", "rules.yaml").ExitCode);
        Assert.Equal(0, Run("detect", "--data-dir", "skjold-audit", "-r", "rules.yaml", "--since", "2027-01-01T00:00:00Z").ExitCode);
    }

    [Fact]
    public void RulesListAndLint_ShowWhatTheFilesHold_AfterOverrides()
    {
        File.WriteAllText(Path.Combine(_dir, "rules.yaml"), Rules);
        File.WriteAllText(Path.Combine(_dir, "off.yaml"), "- rule: Secret read by an untrusted user\n  enabled: false\n");

        var lint = Run("rules", "lint", "-r", "rules.yaml", "-r", "off.yaml");
        Assert.Equal(0, lint.ExitCode);
        Assert.Contains("OK: 1 rules (1 for k8s_audit, compiled; 0 of other sources, not run), 1 disabled", lint.Out, StringComparison.Ordinal);

        var list = JsonDocument.Parse(Run("rules", "list", "-r", "rules.yaml", "-r", "off.yaml", "-f", "json").Out).RootElement[0];
        Assert.False(list.GetProperty("enabled").GetBoolean());
        Assert.Equal("rules.yaml:3", list.GetProperty("defined").GetString());

        File.WriteAllText(Path.Combine(_dir, "bad.yaml"), "- macro: m\n  condition: ka.user.name bcontains x\n- rule: uses m\n  desc: d\n  condition: m\n  output: o\n  priority: INFO\n  source: k8s_audit\n");
        var bad = Run("rules", "lint", "-r", "bad.yaml");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("bad.yaml:3: rule 'uses m': in macro 'm': operator 'bcontains' is not supported", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ARuleFileThatCannotBeLoaded_IsExitTwo_NamingFileLineAndRule()
    {
        File.WriteAllText(Path.Combine(_dir, "bad.yaml"), Rules.Replace("ka.verb = get", "proc.name = bash", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_dir, "audit.log"), Event("bob") + "\n");

        var run = Run("detect", "audit.log", "--rules", "bad.yaml");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("error: bad.yaml:3: rule 'Secret read by an untrusted user': 'proc.name' is not a field of the k8s_audit source", run.Error, StringComparison.Ordinal);
        Assert.Equal(string.Empty, run.Out);
    }

    [Fact]
    public void ExecIntoLabelledProductionNamespace_NeedsTheNamespacesFile()
    {
        File.WriteAllText(Path.Combine(_dir, "skjold.yaml"), "detection:\n  productionLabels: {environment: production}\n");
        File.WriteAllText(Path.Combine(_dir, "namespaces.yaml"), """
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Namespace, metadata: {name: payments, labels: {environment: production}}}
            - {apiVersion: v1, kind: Namespace, metadata: {name: staging, labels: {environment: staging}}}
            """);
        string Exec(string ns) =>
            $$"""{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"exec-{{ns}}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/{{ns}}/pods/web/exec","verb":"create","user":{"username":"mallory"},"sourceIPs":["10.1.2.3"],"objectRef":{"resource":"pods","subresource":"exec","namespace":"{{ns}}","name":"web"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-12-01T10:00:00Z","stageTimestamp":"2026-12-01T10:00:00Z"}""";
        File.WriteAllLines(Path.Combine(_dir, "audit.log"), [Exec("payments"), Exec("staging")]);

        var without = Run("detect", "audit.log", "--builtin", "-f", "json");
        Assert.DoesNotContain("Skjold exec into production", without.Out, StringComparison.Ordinal);

        var with = Run("detect", "audit.log", "--builtin", "--namespaces-file", "namespaces.yaml", "-f", "json");
        using var doc = JsonDocument.Parse(with.Out);
        var fired = doc.RootElement.GetProperty("alerts").EnumerateArray().Where(a => a.GetProperty("rule").GetString() == "Skjold exec into production").ToList();
        var alert = Assert.Single(fired);
        Assert.Contains("payments/web", alert.GetProperty("output").GetString(), StringComparison.Ordinal);

        var bad = Run("detect", "audit.log", "--builtin", "--namespaces-file", "missing.yaml");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--namespaces-file", bad.Error, StringComparison.Ordinal);
    }
}
