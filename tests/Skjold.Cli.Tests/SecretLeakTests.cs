using System.Text;
using System.Text.Json.Nodes;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// No Secret value reaches a snapshot, a scan output, a report or a log line, even where kubectl
/// apply copied it into the last-applied-configuration annotation (data and stringData).
/// </summary>
public sealed class SecretLeakTests : IDisposable
{
    private const string Value = "Tr0ub4dor-unique-value-7f3a";
    private static readonly string Encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes(Value));

    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-leak-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string LastApplied => "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"db\",\"namespace\":\"shop\"},\"data\":{\"password\":\"" + Encoded + "\"},\"stringData\":{\"token\":\"" + Value + "\"}}";

    private static void AssertClean(string text, string where)
    {
        Assert.False(text.Contains(Value, StringComparison.Ordinal), $"{where} holds the secret value");
        Assert.False(text.Contains(Encoded, StringComparison.Ordinal), $"{where} holds the secret value (base64)");
    }

    [Fact]
    public async Task Snapshot_DropsLastAppliedConfigurationOfSecrets()
    {
        var items = (JsonArray)JsonNode.Parse(new ClusterGenerator(1).Generate())!["items"]!;
        items.Add(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Secret",
            ["metadata"] = new JsonObject
            {
                ["name"] = "db",
                ["namespace"] = "shop",
                ["annotations"] = new JsonObject { ["kubectl.kubernetes.io/last-applied-configuration"] = LastApplied, ["team"] = "shop" },
            },
            ["type"] = "Opaque",
        });
        await using var api = new FakeClusterApi(items, "v1.31.2");
        await api.StartAsync();
        var kubeconfig = api.WriteKubeconfig(_dir);

        var snap = CliRunner.Run(_dir, null, "snapshot", "-o", "snap.json", "--kubeconfig", kubeconfig);
        Assert.Equal(0, snap.ExitCode);
        var text = await File.ReadAllTextAsync(Path.Combine(_dir, "snap.json"));
        AssertClean(text, "the snapshot");
        AssertClean(snap.Out + snap.Error, "snapshot's output");
        var secret = JsonNode.Parse(text)!["items"]!.AsArray().Single(i => (string)i!["kind"]! == "Secret" && (string)i["metadata"]!["name"]! == "db")!;
        Assert.Equal("shop", (string?)secret["metadata"]!["annotations"]!["team"]); // other annotations stay
        Assert.StartsWith("(removed", (string?)secret["metadata"]!["annotations"]!["kubectl.kubernetes.io/last-applied-configuration"], StringComparison.Ordinal);

        foreach (var format in new[] { "table", "json", "sarif", "junit" })
        {
            var scan = CliRunner.Run(_dir, null, "scan", "snap.json", "--format", format);
            AssertClean(scan.Out + scan.Error, $"scan --format {format}");
        }
    }

    [Fact]
    public void ScanAndReport_OfSecretManifests_NeverPrintTheirValues()
    {
        File.WriteAllText(Path.Combine(_dir, "secret.yaml"), $$$"""
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              namespace: shop
              annotations:
                kubectl.kubernetes.io/last-applied-configuration: '{{{LastApplied}}}'
            data: {password: {{{Encoded}}}}
            stringData: {token: {{{Value}}}}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: shop}
            data: {DB_PASSWORD: {{{Value}}}, url: "postgres://app:{{{Value}}}@db/app"}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec:
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - {name: web, image: nginx, env: [{name: API_TOKEN, value: {{{Value}}}}]}
            """);
        foreach (var format in new[] { "table", "json", "sarif", "junit" })
        {
            var scan = CliRunner.Run(_dir, null, "scan", "secret.yaml", "--format", format);
            Assert.Equal(1, scan.ExitCode);
            AssertClean(scan.Out + scan.Error, $"scan --format {format}");
        }

        foreach (var format in new[] { "html", "json", "md", "csv", "policyreport" })
        {
            var report = CliRunner.Run(_dir, null, "report", "--framework", "gdpr", "secret.yaml", "--format", format);
            Assert.Equal(0, report.ExitCode);
            AssertClean(report.Out + report.Error, $"report --format {format}");
        }
    }
}
