using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// Safe defaults: HTML never goes to a terminal, limits say when they cut, export has no silent
/// cap, ingest refuses what is not an audit log, progress fits where it is written, -q is quiet.
/// </summary>
public sealed class CliSafeDefaultsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-defaults-").FullName;

    private static string Examples => Path.Combine(RepoPaths.Root, "examples");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private CliRun Run(params string[] args) => CliRunner.Run(_dir, null, args);

    private static string Event(int i) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["kind"] = "Event",
        ["apiVersion"] = "audit.k8s.io/v1",
        ["level"] = "Metadata",
        ["auditID"] = $"00000000-0000-0000-0000-{i:D12}",
        ["stage"] = "ResponseComplete",
        ["requestURI"] = $"/api/v1/namespaces/team/configmaps/cm-{i}",
        ["verb"] = "get",
        ["user"] = new Dictionary<string, object> { ["username"] = "alice", ["groups"] = new[] { "dev" } },
        ["sourceIPs"] = new[] { "10.0.0.5" },
        ["objectRef"] = new Dictionary<string, object> { ["resource"] = "configmaps", ["namespace"] = "team", ["name"] = $"cm-{i}", ["apiVersion"] = "v1" },
        ["responseStatus"] = new Dictionary<string, object> { ["code"] = 200 },
        ["requestReceivedTimestamp"] = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc).AddSeconds(i).ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture),
        ["stageTimestamp"] = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc).AddSeconds(i).ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture),
    });

    private void Ingest(int events)
    {
        Assert.Equal(0, Run("audit", "init").ExitCode);
        File.WriteAllLines(Path.Combine(_dir, "audit.log"), Enumerable.Range(0, events).Select(Event));
        var ingest = Run("audit", "ingest", "audit.log");
        Assert.True(ingest.ExitCode == 0, ingest.Error);
    }

    [Fact]
    public void ReportHtml_OnATerminal_GoesToAFile_NotTheScreen()
    {
        var run = CliRunner.RunOnTerminal(_dir, "report", "--framework", "cis", Examples);

        Assert.DoesNotContain("<html", run.Out, StringComparison.OrdinalIgnoreCase);
        var file = Path.Combine(_dir, "skjold-cis-report.html");
        Assert.Contains("<html", File.ReadAllText(file), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("written to skjold-cis-report.html", run.Error, StringComparison.Ordinal);

        // Never over a file that is there.
        var again = CliRunner.RunOnTerminal(_dir, "report", "--framework", "cis", Examples);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("give --output FILE", again.Error, StringComparison.Ordinal);

        // Piped, HTML goes to stdout as asked.
        Assert.Contains("<html", Run("report", "--framework", "cis", Examples).Out, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AuditQuery_SaysWhenTheLimitCutsTheAnswer_AndOffersNewestFirst()
    {
        Ingest(30);

        var cut = Run("audit", "query", "--user", "alice", "--limit", "10", "-f", "json");
        Assert.Equal(0, cut.ExitCode);
        var rows = JsonDocument.Parse(cut.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(10, rows.Count);
        Assert.Contains("more match; raise --limit", cut.Error, StringComparison.Ordinal);
        Assert.Equal("cm-0", rows[0].GetProperty("name").GetString());

        var newest = Run("audit", "query", "--user", "alice", "--limit", "5", "--newest-first", "-f", "json");
        Assert.Equal("cm-29", JsonDocument.Parse(newest.Out).RootElement[0].GetProperty("name").GetString());

        var all = Run("audit", "query", "--user", "alice", "--limit", "30");
        Assert.DoesNotContain("more match", all.Error, StringComparison.Ordinal);

        Assert.Equal(2, Run("audit", "query", "--limit", "0").ExitCode);
    }

    [Fact]
    public void AuditExport_TakesEveryMatch_UnlessLimited_AndSaysWhenItIs()
    {
        Ingest(1_200); // more than the query default of 1,000

        var all = Run("audit", "export", "--user", "alice", "-o", "all.json");
        Assert.True(all.ExitCode == 0, all.Error);
        Assert.Equal(1_200, JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "all.json"))).RootElement.GetProperty("events").GetArrayLength());
        Assert.Contains("--public-key skjold-audit/audit-signing-key.pub.pem", all.Out, StringComparison.Ordinal);
        Assert.Matches(@"proved [0-9,]+ events\.\.\.\n", all.Error.ReplaceLineEndings("\n")); // progress, plain in a log

        var part = Run("audit", "export", "--user", "alice", "--limit", "100", "-o", "part.json");
        Assert.Equal(100, JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "part.json"))).RootElement.GetProperty("events").GetArrayLength());
        Assert.Contains("more than 100 events match", part.Error, StringComparison.Ordinal);
        Assert.Equal(0, Run("audit", "verify", "--bundle", "part.json", "--public-key", "skjold-audit/audit-signing-key.pub.pem").ExitCode);
    }

    [Fact]
    public void AuditIngest_SummaryAsJson()
    {
        Assert.Equal(0, Run("audit", "init").ExitCode);
        File.WriteAllLines(Path.Combine(_dir, "audit.log"), Enumerable.Range(0, 7).Select(Event));

        var run = Run("audit", "ingest", "audit.log", "--format", "json");

        Assert.Equal(0, run.ExitCode);
        var summary = JsonDocument.Parse(run.Out).RootElement;
        Assert.Equal(7, summary.GetProperty("sealed").GetInt64());
        Assert.Equal(0, summary.GetProperty("rejected").GetInt64());
    }

    [Fact]
    public void AuditPurgeAndErase_SummariesAsJson()
    {
        Ingest(5);

        var purge = Run("audit", "purge", "--dry-run", "-f", "json");
        Assert.Equal(0, purge.ExitCode);
        Assert.True(JsonDocument.Parse(purge.Out).RootElement.GetProperty("dryRun").GetBoolean());

        var erase = Run("audit", "erase", "--user", "alice", "--reason", "DSR-1", "--dry-run", "-f", "json");
        Assert.Equal(0, erase.ExitCode);
        var e = JsonDocument.Parse(erase.Out).RootElement;
        Assert.Equal(5, e.GetProperty("erased").GetInt64());
        Assert.DoesNotContain("alice", erase.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void AuditInit_RotateKey_AndHolds_SummariesAsJson()
    {
        var init = Run("audit", "init", "-f", "json", "--redact", "configmaps=data");
        Assert.True(init.ExitCode == 0, init.Error);
        var i = JsonDocument.Parse(init.Out).RootElement;
        Assert.True(i.GetProperty("keysCreated").GetBoolean());
        var keyId = i.GetProperty("keyId").GetString();
        Assert.Equal("configmaps=data", i.GetProperty("redact")[0].GetString());
        Assert.True(File.Exists(i.GetProperty("publicKey").GetString()));

        // A second init keeps the keys and says so, in JSON as well.
        var again = JsonDocument.Parse(Run("audit", "init", "-f", "json").Out).RootElement;
        Assert.False(again.GetProperty("keysCreated").GetBoolean());
        Assert.Equal(keyId, again.GetProperty("keyId").GetString());

        var rotate = Run("audit", "rotate-key", "-f", "json");
        Assert.True(rotate.ExitCode == 0, rotate.Error);
        var r = JsonDocument.Parse(rotate.Out).RootElement;
        Assert.Equal(keyId, r.GetProperty("previousKeyId").GetString());
        Assert.NotEqual(keyId, r.GetProperty("keyId").GetString());

        var add = Run("audit", "hold", "add", "--reason", "CASE-7", "-n", "payments", "--until", "2027-06-30", "-f", "json");
        Assert.True(add.ExitCode == 0, add.Error);
        var h = JsonDocument.Parse(add.Out).RootElement;
        Assert.Equal("payments", h.GetProperty("namespace").GetString());
        Assert.Equal("2027-06-30", h.GetProperty("until").GetString());
        Assert.Contains("+00:00", h.GetProperty("created").GetString(), StringComparison.Ordinal);
        var id = h.GetProperty("id").GetInt64();

        var release = Run("audit", "hold", "release", id.ToString(CultureInfo.InvariantCulture), "-f", "json");
        Assert.Equal(0, release.ExitCode);
        Assert.Equal(id, JsonDocument.Parse(release.Out).RootElement.GetProperty("released").GetInt64());

        var missing = Run("audit", "hold", "release", "999", "-f", "json");
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("", missing.Out);
        Assert.Contains("no legal hold 999", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Init_AndInstall_SummariesAsJson_InstallManifestsAsAList()
    {
        var init = Run("init", "-f", "json");
        Assert.Equal(0, init.ExitCode);
        Assert.False(JsonDocument.Parse(init.Out).RootElement.GetProperty("overwritten").GetBoolean());
        Assert.True(JsonDocument.Parse(Run("init", "--force", "-f", "json").Out).RootElement.GetProperty("overwritten").GetBoolean());

        var list = Run("install", "-f", "json");
        Assert.Equal(0, list.ExitCode);
        var root = JsonDocument.Parse(list.Out).RootElement;
        Assert.Equal("List", root.GetProperty("kind").GetString());
        var kinds = root.GetProperty("items").EnumerateArray().Select(x => x.GetProperty("kind").GetString()).ToList();
        Assert.Contains("Deployment", kinds);
        Assert.Contains("ValidatingWebhookConfiguration", kinds);
        // The YAML stream and the List hold the same objects.
        var yaml = Run("install").Out;
        Assert.Equal(yaml.Split("\nkind: ").Length - 1 + (yaml.StartsWith("kind: ", StringComparison.Ordinal) ? 1 : 0), kinds.Count);

        var files = Run("install", "-o", "gen", "-f", "json");
        Assert.Equal(0, files.ExitCode);
        var summary = JsonDocument.Parse(files.Out).RootElement;
        foreach (var f in summary.GetProperty("files").EnumerateArray())
        {
            Assert.True(File.Exists(Path.Combine(_dir, "gen", f.GetString()!)));
        }

        Assert.Equal(Path.Combine("gen", "30-certificate.yaml"), summary.GetProperty("privateKeyFile").GetString());
    }

    [Fact]
    public void AuditIngest_OfAFileWithoutAuditEvents_IsRefused_AndSealsNothing()
    {
        Ingest(3);
        File.WriteAllText(Path.Combine(_dir, "pod.json"), "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"}}\n");

        var run = Run("audit", "ingest", "pod.json");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("holds no Kubernetes audit event", run.Error, StringComparison.Ordinal);
        Assert.Contains("nothing was sealed", run.Error, StringComparison.Ordinal);
        var after = Run("audit", "query", "-f", "json");
        var rows = JsonDocument.Parse(after.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(3, rows.Count);
        Assert.DoesNotContain(rows, r => r.GetProperty("verb").GetString() == "ingest-rejected");
    }

    [Fact]
    public void Progress_InALog_IsPlainLines_OnATerminal_OneLine_AndQuietIsSilent()
    {
        Ingest(5);

        var log = Run("audit", "verify");
        Assert.DoesNotContain('\r', log.Error);
        Assert.Contains("verified 5 events...\n", log.Error.ReplaceLineEndings("\n"), StringComparison.Ordinal);

        var terminal = CliRunner.RunOnTerminal(_dir, "audit", "verify");
        Assert.Contains("\rverified 5 events...", terminal.Error, StringComparison.Ordinal);

        var quiet = Run("audit", "verify", "-q");
        Assert.Equal(0, quiet.ExitCode);
        Assert.DoesNotContain("verified 5 events", quiet.Error, StringComparison.Ordinal);
        Assert.Contains("OK:", quiet.Out, StringComparison.Ordinal);
    }
}

public sealed class HtmlReportContentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-html-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void Html_ShowsSeverityAndFix_FoldsLongLists_AndKeepsThisMachinesPathsOut()
    {
        Directory.CreateSymbolicLink(Path.Combine(_dir, "examples"), Path.Combine(RepoPaths.Root, "examples"));
        Directory.CreateSymbolicLink(Path.Combine(_dir, "snapshots"), Path.Combine(RepoPaths.Root, "snapshots"));
        var run = CliRunner.Run(_dir, null, "report", "--framework", "cis", "examples", "snapshots/example-cluster.json", "-o", "cis.html");
        Assert.Equal(0, run.ExitCode);
        var html = File.ReadAllText(Path.Combine(_dir, "cis.html"));

        Assert.DoesNotContain(_dir, html, StringComparison.Ordinal);
        Assert.DoesNotContain(RepoPaths.Root, html, StringComparison.Ordinal);
        Assert.Contains("(examples/insecure-app/deployment.yaml:", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"sev sev-critical\">critical</span>", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"fix\">Fix: ", html, StringComparison.Ordinal);
        Assert.Matches("<details><summary>[0-9]+ findings</summary>", html);

        // Inputs given as absolute paths inside the working directory are recorded relative to it.
        var absolute = CliRunner.Run(_dir, null, "report", "--framework", "cis", Path.Combine(_dir, "examples"), "-f", "json");
        Assert.DoesNotContain(_dir, absolute.Out, StringComparison.Ordinal);
    }
}

public sealed class ScanProgressTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-scanprogress-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void LargeScan_ShowsProgressOnStderr_PlainInALog_AndQuietIsSilent()
    {
        var items = string.Join(",", Enumerable.Range(0, 6_000).Select(i =>
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p" + i + "\",\"namespace\":\"ns\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.25\"}]}}"));
        File.WriteAllText(Path.Combine(_dir, "pods.json"), "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" + items + "]}");

        var run = CliRunner.Run(_dir, null, "scan", "pods.json", "-f", "json", "-o", "out.json");
        Assert.Equal(1, run.ExitCode);
        Assert.Matches(@"scanned [0-9,]+ of 6,000 resources\.\.\.\n", run.Error.ReplaceLineEndings("\n"));
        Assert.DoesNotContain('\r', run.Error);

        var quiet = CliRunner.Run(_dir, null, "scan", "pods.json", "-f", "json", "-o", "out.json", "-q");
        Assert.Equal(1, quiet.ExitCode);
        Assert.Equal(string.Empty, quiet.Error);

        var small = CliRunner.Run(_dir, null, "scan", Path.Combine(RepoPaths.Root, "examples"), "-f", "json", "-o", "small.json");
        Assert.DoesNotContain("scanned", small.Error, StringComparison.Ordinal);
    }
}

public sealed class ReportProgressTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-reportprogress-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void LargeReport_ShowsScanProgress_AndQuietIsSilentAboutIt()
    {
        var items = string.Join(",", Enumerable.Range(0, 5_500).Select(i =>
            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p" + i + "\",\"namespace\":\"ns\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1.25\"}]}}"));
        File.WriteAllText(Path.Combine(_dir, "pods.json"), "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" + items + "]}");

        var run = CliRunner.Run(_dir, null, "report", "--framework", "cis", "pods.json", "-f", "json", "-o", "cis.json");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"scanned [0-9,]+ of 5,500 resources\.\.\.\n", run.Error.ReplaceLineEndings("\n"));

        var quiet = CliRunner.Run(_dir, null, "report", "--framework", "cis", "pods.json", "-f", "json", "-o", "cis.json", "-q");
        Assert.DoesNotContain("scanned", quiet.Error, StringComparison.Ordinal);
    }
}
