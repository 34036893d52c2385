using System.Text.Json;
using Microsoft.Data.Sqlite;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

public sealed class AuditCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-auditcli-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private CliRun Run(params string[] args) => CliRunner.Run(_dir, null, args);

    private void IngestFalco()
    {
        Assert.Equal(0, Run("audit", "init").ExitCode);
        var all = Path.Combine(_dir, "audit.log");
        File.WriteAllLines(all, Directory.GetFiles(Path.Combine(RepoPaths.Peers, "falco", "audit-events", "k8s_audit"), "*.json")
            .Where(f => !f.EndsWith("fal_01_003.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).SelectMany(File.ReadAllLines).Where(l => l.Trim().Length > 0));
        var ingest = Run("audit", "ingest", "audit.log");
        Assert.True(ingest.ExitCode == 0, ingest.Error + ingest.Out);
    }

    [Fact]
    public void VerifyQueryExport_EndToEnd()
    {
        IngestFalco();
        var verify = Run("audit", "verify");
        Assert.Equal(0, verify.ExitCode);
        Assert.StartsWith("OK:", verify.Out, StringComparison.Ordinal);

        var json = Run("audit", "query", "--exec-sessions", "--format", "json");
        using (var doc = JsonDocument.Parse(json.Out))
        {
            Assert.Equal(2, doc.RootElement.GetArrayLength());
            Assert.All(doc.RootElement.EnumerateArray(), r => Assert.Equal("pods", r.GetProperty("resource").GetString()));
        }

        var csv = Run("audit", "query", "--user", "minikube-user", "--verb", "create", "--format", "csv");
        var lines = csv.Out.Trim().Split('\n');
        Assert.StartsWith("index,time,verb,user", lines[0], StringComparison.Ordinal);
        Assert.True(lines.Length > 2);
        Assert.All(lines.Skip(1), l => Assert.Contains(",create,minikube-user,", l, StringComparison.Ordinal));

        Assert.Equal(2, Run("audit", "query", "--since", "yesterday-ish").ExitCode);

        Assert.Equal(0, Run("audit", "export", "--resource", "secrets", "-o", "bundle.json").ExitCode);
        var ok = Run("audit", "verify", "--bundle", "bundle.json", "--public-key", "skjold-audit/audit-signing-key.pub.pem");
        Assert.Equal(0, ok.ExitCode);
        File.WriteAllText(Path.Combine(_dir, "bad.json"), File.ReadAllText(Path.Combine(_dir, "bundle.json")).Replace("minikube-user", "someone-else", StringComparison.Ordinal));
        var bad = Run("audit", "verify", "--bundle", "bad.json", "--public-key", "skjold-audit/audit-signing-key.pub.pem");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("FAIL changed at leaf", bad.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TamperedStore_ExitsOneNamingTheLeaf()
    {
        IngestFalco();
        using (var c = new SqliteConnection($"Data Source={Path.Combine(_dir, "skjold-audit", "audit.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE events SET payload = CAST(replace(CAST(payload AS TEXT), 'minikube-user', 'nobody') AS BLOB) WHERE idx = 7";
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }

        var verify = Run("audit", "verify");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains("FAIL changed at leaf 7", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutInit_ClearError()
    {
        var run = Run("audit", "ingest", "nothing.log");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("skjold audit init", run.Error, StringComparison.Ordinal);
    }
}
