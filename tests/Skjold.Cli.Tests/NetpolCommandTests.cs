using System.Text.Json;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

public sealed class NetpolCommandTests
{
    private const string Snapshot = "snapshots/example-cluster.json";

    [Fact]
    public void Reach_DeniedNamesTheIsolatingPolicies_ExitOne()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "netpol", "reach", Snapshot, "--from", "team-001/svc-1", "--to", "team-001/svc-0:8080/TCP");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("DENIED: team-001/svc-1[Deployment] -> team-001/svc-0[Deployment] on 8080/TCP", run.Out, StringComparison.Ordinal);
        Assert.Contains("isolated by team-001/default-deny, team-001/allow-ingress-controller", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Reach_AllowedWithoutPolicies_ExitZero_Json()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "netpol", "reach", Snapshot, "--from", "web/frontend", "--to", "ci/gitlab-runner", "--format", "json");
        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        Assert.True(doc.RootElement.GetProperty("allowed").GetBoolean());
        Assert.Equal("All Connections", doc.RootElement.GetProperty("allowedConnections").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("egressPolicies").GetArrayLength());
    }

    [Fact]
    public void Reach_UnknownOrBadTarget_ExitTwo()
    {
        var unknown = CliRunner.Run(RepoPaths.Root, null, "netpol", "reach", Snapshot, "--from", "web/nope", "--to", "ci/gitlab-runner");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no pod or workload of that name", unknown.Error, StringComparison.Ordinal);
        var badPort = CliRunner.Run(RepoPaths.Root, null, "netpol", "reach", Snapshot, "--from", "web/frontend", "--to", "ci/gitlab-runner:http/TCP");
        Assert.Equal(2, badPort.ExitCode);
        Assert.Contains("PORT/PROTOCOL", badPort.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("csv", "source,destination,connections,external")]
    [InlineData("dot", "digraph connectivity {")]
    [InlineData("table", "connections between workloads")]
    public void Map_Formats(string format, string expected)
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "netpol", "map", Snapshot, "--format", format);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains(expected, run.Out, StringComparison.Ordinal);
        Assert.Contains("web/frontend[Deployment]", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_Json_ListsExposureToTheOutside()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "netpol", "map", Snapshot, "--format", "json");
        Assert.Equal(0, run.ExitCode);
        var rows = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToList();
        Assert.Contains(rows, r => r.GetProperty("source").GetString() == "0.0.0.0-255.255.255.255[External]" && r.GetProperty("destination").GetString() == "web/frontend[Deployment]");
        Assert.DoesNotContain(rows, r => r.GetProperty("destination").GetString() == "payments/ledger[Deployment]"); // default deny, nothing allowed in
    }

    private const string CalicoCluster = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: shop, labels: {app: web}}
        spec: {containers: [{name: c, image: 'r.example/a:1'}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: db, namespace: shop, labels: {app: db}}
        spec: {containers: [{name: c, image: 'r.example/a:1'}]}
        ---
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: default-deny}
        spec: {selector: all(), types: [Ingress, Egress]}
        ---
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: block-web}
        spec: {order: 1, selector: "app == 'db'", types: [Ingress], ingress: [{action: Deny, source: {selector: "app == 'web'"}}]}
        ---
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: platform}
        spec: {priority: 1, subject: {namespaces: {}}}
        """;

    [Fact]
    public void Reach_CalicoGlobalDefaultDeny_IsDenied_AndUnmodelledKindsAreNamed()
    {
        var dir = Directory.CreateTempSubdirectory("skjold-netpol-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "cluster.yaml"), CalicoCluster);
            var run = CliRunner.Run(dir, null, "netpol", "reach", "cluster.yaml", "--from", "shop/web", "--to", "shop/db:5432/TCP");
            Assert.Equal(1, run.ExitCode);
            Assert.StartsWith("DENIED: shop/web[Pod] -> shop/db[Pod] on 5432/TCP", run.Out, StringComparison.Ordinal);
            Assert.Contains("isolated by GlobalNetworkPolicy default-deny", run.Out, StringComparison.Ordinal);
            Assert.Contains("denied by GlobalNetworkPolicy block-web rule spec.ingress[0]", run.Out, StringComparison.Ordinal);
            Assert.Contains("AdminNetworkPolicy platform", run.Error, StringComparison.Ordinal);
            Assert.Contains("not modelled", run.Error, StringComparison.Ordinal);

            var json = CliRunner.Run(dir, null, "netpol", "reach", "cluster.yaml", "--from", "shop/web", "--to", "shop/db", "--format", "json");
            using var doc = JsonDocument.Parse(json.Out);
            Assert.False(doc.RootElement.GetProperty("allowed").GetBoolean());
            Assert.Single(doc.RootElement.GetProperty("warnings").EnumerateArray());
            Assert.Single(doc.RootElement.GetProperty("ingressDeniedBy").EnumerateArray());

            var scan = CliRunner.Run(dir, null, "scan", "cluster.yaml", "--format", "json");
            using var result = JsonDocument.Parse(scan.Out);
            Assert.DoesNotContain(result.RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("checkId").GetString() == "netpol/namespace-default-deny");
            Assert.Contains(result.RootElement.GetProperty("diagnostics").EnumerateArray(), d => d.GetProperty("message").GetString()!.Contains("AdminNetworkPolicy", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
