using Microsoft.Data.Sqlite;

namespace Skjold.Cli.Tests;

/// <summary>
/// The trust model from the command line, as an auditor and an operator use it: which key verify
/// trusts, checkpoints against rollback, purge and erasure that stay provable, key rotation,
/// queries that refuse forged answers, writers that refuse a tampered store, private files.
/// </summary>
public sealed class AuditTrustCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-audittrust-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, true);
    }

    private CliRun Run(params string[] args) => CliRunner.Run(_dir, null, args);

    private string Db => Path.Combine(_dir, "skjold-audit", "audit.db");

    private static string Event(int i, string user = "alice", string time = "2026-11-24T10:00:00Z") =>
        $$"""{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e-{{i}}","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/namespaces/shop/secrets/db","user":{"username":"{{user}}","groups":["dev"]},"sourceIPs":["10.0.0.{{i % 200}}"],"userAgent":"kubectl/v1.31","objectRef":{"resource":"secrets","namespace":"shop","name":"db","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"{{time}}","stageTimestamp":"{{time}}"}""";

    private void Ingest(string file, int from, int count, string user = "alice", string time = "2026-11-24T10:00:00Z")
    {
        File.WriteAllLines(Path.Combine(_dir, file), Enumerable.Range(from, count).Select(i => Event(i, user, time)));
        var run = Run("audit", "ingest", file);
        Assert.True(run.ExitCode == 0, run.Error + run.Out);
    }

    private void Sql(string sql)
    {
        using var c = new SqliteConnection($"Data Source={Db};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    [Fact]
    public void Verify_WarnsWhenItTrustsTheDataDirectorysKey_AndAPinnedKeyIdCatchesAReplacedKey()
    {
        Assert.Equal(0, Run("audit", "init").ExitCode);
        Ingest("a.log", 0, 20);
        var pub = Path.Combine(_dir, "skjold-audit", "audit-signing-key.pub.pem");
        File.Copy(pub, Path.Combine(_dir, "auditor.pem"));
        var keyId = System.Text.RegularExpressions.Regex.Match(Run("audit", "checkpoint").Out, "\"keyId\": \"([0-9a-f]{16})\"").Groups[1].Value;

        var fallback = Run("audit", "verify");
        Assert.Equal(0, fallback.ExitCode);
        Assert.Contains("proves nothing against whoever can write that directory", fallback.Error, StringComparison.Ordinal);

        var auditor = Run("audit", "verify", "--public-key", "auditor.pem");
        Assert.Equal(0, auditor.ExitCode);
        Assert.DoesNotContain("warning", auditor.Error, StringComparison.Ordinal);
        Assert.Equal(0, Run("audit", "verify", "--key-id", keyId).ExitCode);

        // Someone who holds the data directory replaces the key pair.
        var other = Directory.CreateTempSubdirectory("skjold-forger-").FullName;
        Assert.Equal(0, CliRunner.Run(other, null, "audit", "init").ExitCode);
        File.Copy(Path.Combine(other, "skjold-audit", "audit-signing-key.pub.pem"), pub, overwrite: true);
        Directory.Delete(other, true);
        var pinned = Run("audit", "verify", "--key-id", keyId);
        Assert.Equal(1, pinned.ExitCode);
        Assert.Contains("not the pinned", pinned.Out, StringComparison.Ordinal);
        Assert.Equal(0, Run("audit", "verify", "--public-key", "auditor.pem").ExitCode); // the heads are still the original key's
        Assert.Equal(1, Run("audit", "verify").ExitCode); // the swapped key does not verify them
    }

    [Fact]
    public void Checkpoint_CatchesARollbackToABackup()
    {
        Assert.Equal(0, Run("audit", "init").ExitCode);
        Ingest("a.log", 0, 30);
        SqliteConnection.ClearAllPools();
        var backup = Path.Combine(_dir, "backup");
        CopyDirectory(Path.Combine(_dir, "skjold-audit"), backup);
        Ingest("b.log", 30, 30, user: "mallory");
        var cp = Run("audit", "checkpoint", "-o", "cp.json");
        Assert.True(cp.ExitCode == 0, cp.Error);
        var ok = Run("audit", "verify", "--since-checkpoint", "cp.json");
        Assert.True(ok.ExitCode == 0, ok.Out + ok.Error);
        Assert.Contains("extending the checkpoint of size 60", ok.Out, StringComparison.Ordinal);

        // mallory restores the backup taken before their events were sealed.
        SqliteConnection.ClearAllPools();
        foreach (var f in Directory.GetFiles(Path.Combine(_dir, "skjold-audit"), "audit.db*"))
        {
            File.Delete(f);
        }

        foreach (var f in Directory.GetFiles(backup, "audit.db*"))
        {
            File.Copy(f, Path.Combine(_dir, "skjold-audit", Path.GetFileName(f)));
        }

        Assert.Equal(0, Run("audit", "verify").ExitCode); // self-consistent on its own
        var caught = Run("audit", "verify", "--since-checkpoint", "cp.json");
        Assert.Equal(1, caught.ExitCode);
        Assert.Contains("FAIL rollback", caught.Out, StringComparison.Ordinal);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from))
        {
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
    }

    [Fact]
    public void PurgeAndErase_DryRunChangesNothing_ShortRetentionNeedsForce_AndTheLogStillVerifies()
    {
        Assert.Equal(0, Run("audit", "init").ExitCode);
        Ingest("old.log", 0, 20, time: "2024-01-01T00:00:00Z");
        Ingest("new.log", 20, 10, user: "jane@example.com", time: DateTimeOffset.UtcNow.AddDays(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));

        var dry = Run("audit", "purge", "--dry-run");
        Assert.Equal(0, dry.ExitCode);
        Assert.Contains("Dry run: 20 events would be purged", dry.Out, StringComparison.Ordinal);
        Assert.Contains("20 events", Run("audit", "query", "--user", "alice").Out, StringComparison.Ordinal);

        var tooShort = Run("audit", "purge", "--retention-days", "30");
        Assert.Equal(2, tooShort.ExitCode);
        Assert.Contains("shorter than the framework minimum of 365 days", tooShort.Error, StringComparison.Ordinal);
        Assert.Equal(0, Run("audit", "purge").ExitCode);

        var eraseDry = Run("audit", "erase", "--user", "jane@example.com", "--reason", "DSR-7", "--dry-run");
        Assert.Contains("10 events of that user would be erased", eraseDry.Out, StringComparison.Ordinal);
        var erase = Run("audit", "erase", "--user", "jane@example.com", "--reason", "DSR-7");
        Assert.True(erase.ExitCode == 0, erase.Error);
        Assert.Contains("0 events", Run("audit", "query", "--user", "jane@example.com").Out, StringComparison.Ordinal);

        var verify = Run("audit", "verify");
        Assert.True(verify.ExitCode == 0, verify.Out);
        Assert.Contains("20 purged, 10 erased under sealed records", verify.Out, StringComparison.Ordinal);

        // A payload deleted by hand is not a purge.
        Sql("UPDATE events SET payload = NULL, purged = 1 WHERE idx = 25");
        var forged = Run("audit", "verify");
        Assert.Equal(1, forged.ExitCode);
        Assert.Contains("FAIL purge-unrecorded at leaf 25", forged.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void RotateKey_OldAndNewHeadsVerifyWithTheOldKey()
    {
        Assert.Equal(0, Run("audit", "init").ExitCode);
        Ingest("a.log", 0, 10);
        File.Copy(Path.Combine(_dir, "skjold-audit", "audit-signing-key.pub.pem"), Path.Combine(_dir, "old.pem"));
        var rotate = Run("audit", "rotate-key");
        Assert.True(rotate.ExitCode == 0, rotate.Error);
        Ingest("b.log", 10, 10);

        var withOld = Run("audit", "verify", "--public-key", "old.pem", "--format", "json");
        Assert.True(withOld.ExitCode == 0, withOld.Out);
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(withOld.Out).RootElement.GetProperty("trustedKeys").GetArrayLength());
        var both = Run("audit", "verify", "--public-key", "skjold-audit/audit-signing-key.pub.pem", "--public-key", "old.pem");
        Assert.Equal(0, both.ExitCode);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Init_CreatesTheDataDirectoryForTheOwnerAlone()
    {
        // audit init writes the keys before the store opens: the directory it creates is 0700, not the umask's 0755.
        Assert.Equal(0, Run("audit", "init").ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(_dir, "skjold-audit")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "skjold-audit", "audit-redaction.key")));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void TamperedStore_QueriesRefuse_WritersRefuse_AndFilesArePrivate()
    {
        Assert.Equal(0, Run("audit", "init").ExitCode);
        Ingest("a.log", 0, 20);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Db));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "skjold-audit", "audit-signing-key.pem")));

        Sql("UPDATE events SET username = 'mallory' WHERE idx = 4");
        var query = Run("audit", "query", "--user", "alice");
        Assert.Equal(1, query.ExitCode); // one of alice's sealed events is missing from the answer
        Assert.Contains("but 20 were sealed there", query.Error, StringComparison.Ordinal);
        var all = Run("audit", "query");
        Assert.Equal(1, all.ExitCode); // the forged row itself
        Assert.Contains("leaf 4", all.Error, StringComparison.Ordinal);
        var mallory = Run("audit", "query", "--user", "mallory");
        Assert.Equal(0, mallory.ExitCode); // the truth: mallory did nothing, and the forged row is not shown
        Assert.Contains("0 events", mallory.Out, StringComparison.Ordinal);
        Sql("UPDATE events SET username = 'alice' WHERE idx = 4");
        Assert.Equal(0, Run("audit", "query", "--user", "alice").ExitCode);

        Sql("INSERT INTO events(idx, ts, audit_id, verb, username, leaf_hash, payload) SELECT 20, ts, 'forged', 'delete', 'mallory', leaf_hash, payload FROM events WHERE idx = 19");
        File.WriteAllLines(Path.Combine(_dir, "more.log"), [Event(50)]);
        var ingest = Run("audit", "ingest", "more.log");
        Assert.Equal(2, ingest.ExitCode);
        Assert.Contains("leaf 20 is in the store although the tree state ends at 20", ingest.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", ingest.Error, StringComparison.Ordinal);
    }
}
