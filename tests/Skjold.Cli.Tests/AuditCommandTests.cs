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
    public void Init_Redact_RulesKeptBesideTheKeys_AppliedWhenSealing()
    {
        var bad = Run("audit", "init", "--redact", "ConfigMap=data");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("lower case", bad.Error, StringComparison.Ordinal);

        var init = Run("audit", "init", "--redact", "configmaps=data,binaryData");
        Assert.True(init.ExitCode == 0, init.Error);
        Assert.Contains("configmaps data,binaryData", init.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "skjold-audit", "audit-redaction.rules")));

        File.WriteAllText(Path.Combine(_dir, "cm.log"), """
            {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"cm-1","stage":"ResponseComplete","verb":"create","requestURI":"/api/v1/namespaces/shop/configmaps","user":{"username":"alice"},"objectRef":{"resource":"configmaps","namespace":"shop","name":"app"},"responseStatus":{"code":201},"requestObject":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"app"},"data":{"password":"hunter2-not-for-the-log"}},"requestReceivedTimestamp":"2026-11-24T10:00:00Z","stageTimestamp":"2026-11-24T10:00:00Z"}

            """);
        var ingest = Run("audit", "ingest", "cm.log");
        Assert.True(ingest.ExitCode == 0, ingest.Error);
        using (var c = new SqliteConnection($"Data Source={Path.Combine(_dir, "skjold-audit", "audit.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT CAST(payload AS TEXT) FROM events WHERE audit_id = 'cm-1'";
            var payload = (string)cmd.ExecuteScalar()!;
            Assert.DoesNotContain("hunter2", payload, StringComparison.Ordinal);
            Assert.Contains("\"password\":\"hmac-sha256:", payload, StringComparison.Ordinal);
        }

        // A rules file edited by hand and broken: writers refuse to start and say where.
        File.AppendAllText(Path.Combine(_dir, "skjold-audit", "audit-redaction.rules"), "configmaps\n");
        var broken = Run("audit", "ingest", "cm.log");
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("audit-redaction.rules:3", broken.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ProofAndConsistency_PrintVerifiableJson()
    {
        IngestFalco();
        var proof = Run("audit", "proof", "3");
        Assert.True(proof.ExitCode == 0, proof.Error);
        long size;
        byte[] root;
        using (var doc = JsonDocument.Parse(proof.Out))
        {
            Assert.True(doc.RootElement.GetProperty("verified").GetBoolean());
            size = doc.RootElement.GetProperty("treeHead").GetProperty("size").GetInt64();
            root = Convert.FromBase64String(doc.RootElement.GetProperty("treeHead").GetProperty("root").GetString()!);
        }

        var consistency = Run("audit", "consistency", "5");
        Assert.True(consistency.ExitCode == 0, consistency.Error);
        using (var doc = JsonDocument.Parse(consistency.Out))
        {
            var r = doc.RootElement;
            Assert.True(r.GetProperty("verified").GetBoolean());
            Assert.Equal(size, r.GetProperty("treeHead").GetProperty("size").GetInt64());
            var p = r.GetProperty("proof").EnumerateArray().Select(x => Convert.FromBase64String(x.GetString()!)).ToList();
            Assert.True(Skjold.Audit.Merkle.MerkleTree.VerifyConsistency(5, size, Convert.FromBase64String(r.GetProperty("oldRoot").GetString()!), root, p));
        }

        Assert.Equal(2, Run("audit", "consistency", (size + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)).ExitCode);
        Assert.Equal(2, Run("audit", "proof", size.ToString(System.Globalization.CultureInfo.InvariantCulture)).ExitCode);
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
