using System.Text.Json;
using Skjold.Kubernetes.Loading;

namespace Skjold.Cli.Tests;

public sealed class InstallCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-install-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(new string[0], 4)]
    [InlineData(new[] { "--image", "ghcr.io/skjold-dev/skjold:0.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" }, 3)]
    [InlineData(new[] { "--cert-manager" }, 4)]
    public void Install_OutputPassesSkjoldScanAtRestrictedWithNoFinding(string[] extra, int expectedSuppressed)
    {
        var install = CliRunner.Run(_dir, null, ["install", "--output", "out", .. extra]);
        Assert.Equal(0, install.ExitCode);
        var scan = CliRunner.Run(_dir, null, "scan", "out", "--pss-level", "restricted", "--fail-on", "info", "--format", "json");
        Assert.Equal(0, scan.ExitCode);
        using var doc = JsonDocument.Parse(scan.Out);
        Assert.Equal(0, doc.RootElement.GetProperty("findings").GetArrayLength());
        Assert.Equal(0, doc.RootElement.GetProperty("summary").GetProperty("errors").GetInt32());
        Assert.Equal(expectedSuppressed, doc.RootElement.GetProperty("suppressed").GetArrayLength());
    }

    [Fact]
    public void Install_ComponentsAndWebhookSafety()
    {
        var run = CliRunner.Run(_dir, null, "install", "--namespace", "guard");
        Assert.Equal(0, run.ExitCode);
        var loaded = new ManifestLoader().LoadText("install.yaml", run.Out);
        Assert.Empty(loaded.Diagnostics);
        var kinds = loaded.Resources.Select(r => r.Kind).ToList();
        foreach (var kind in new[] { "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "ConfigMap", "Secret", "Deployment", "PodDisruptionBudget", "Service", "NetworkPolicy", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration" })
        {
            Assert.Contains(kind, kinds);
        }

        var deployment = loaded.Resources.Single(r => r.Kind == "Deployment").Root;
        Assert.Equal(2, deployment.GetProperty("spec").GetProperty("replicas").GetInt32());

        var role = loaded.Resources.Single(r => r.Kind == "ClusterRole").Root;
        var rule = Assert.Single(role.GetProperty("rules").EnumerateArray());
        Assert.Equal(["namespaces"], rule.GetProperty("resources").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(["get", "list", "watch"], rule.GetProperty("verbs").EnumerateArray().Select(x => x.GetString()));

        foreach (var config in loaded.Resources.Where(r => r.Kind.EndsWith("WebhookConfiguration", StringComparison.Ordinal)))
        {
            foreach (var webhook in config.Root.GetProperty("webhooks").EnumerateArray())
            {
                var excluded = webhook.GetProperty("namespaceSelector").GetProperty("matchExpressions")[0].GetProperty("values").EnumerateArray().Select(v => v.GetString()).ToList();
                Assert.Equal(["kube-system", "guard"], excluded);
                Assert.Equal("None", webhook.GetProperty("sideEffects").GetString());
                Assert.False(string.IsNullOrEmpty(webhook.GetProperty("clientConfig").GetProperty("caBundle").GetString()));
                var name = webhook.GetProperty("name").GetString();
                var failure = webhook.GetProperty("failurePolicy").GetString();
                Assert.Equal(name == "pods.validate.skjold.io" ? "Fail" : "Ignore", failure);
            }
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Install_WritesThePrivateKeyOwnerOnly_AndSaysNotToCommitIt()
    {
        var install = CliRunner.Run(_dir, null, "install", "--output", "out");

        Assert.Equal(0, install.ExitCode);
        var key = Path.Combine(_dir, "out", "30-certificate.yaml");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.NotEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, "out", "40-deployment.yaml")));
        Assert.Contains("do not commit it", install.Error, StringComparison.Ordinal);

        // Run again over the same directory: still owner-only.
        Assert.Equal(0, CliRunner.Run(_dir, null, "install", "--output", "out").ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        var ignore = File.ReadAllText(Path.Combine(Skjold.TestSupport.RepoPaths.Root, ".gitignore"));
        Assert.Contains("deploy/generated/", ignore, StringComparison.Ordinal);
        Assert.Contains("keys/", ignore, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_BadTimeout_IsUsageError()
    {
        Assert.Equal(2, CliRunner.Run(_dir, null, "install", "--webhook-timeout", "45").ExitCode);
    }
}
