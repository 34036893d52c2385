using System.Text.Json;
using System.Text.Json.Nodes;
using Skjold.TestSupport;

namespace Skjold.Cli.Tests;

/// <summary>
/// skjold snapshot, scan --cluster, scan SNAPSHOT and skjold rbac. The live path runs against
/// <see cref="FakeClusterApi"/>, an in-process HTTP server speaking the Kubernetes list API with
/// pagination, because there is no API server on the test machines.
/// </summary>
public sealed class ClusterCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Example => Path.Combine(RepoPaths.Root, "snapshots", "example-cluster.json");

    private static async Task<FakeClusterApi> StartApiAsync(int teams)
    {
        var items = (JsonArray)JsonNode.Parse(new ClusterGenerator(teams).Generate())!["items"]!;
        var api = new FakeClusterApi(items, "v1.29.6");
        api.Forbidden.Add("/apis/apiextensions.k8s.io/v1/customresourcedefinitions");
        await api.StartAsync();
        return api;
    }

    private static HashSet<string> FindingKeys(string json) =>
        [.. JsonDocument.Parse(json).RootElement.GetProperty("findings").EnumerateArray().Select(f =>
            $"{f.GetProperty("checkId").GetString()} {f.GetProperty("resource").GetProperty("kind").GetString()} " +
            $"{(f.GetProperty("resource").TryGetProperty("namespace", out var ns) ? ns.GetString() : "-")}/{f.GetProperty("resource").GetProperty("name").GetString()} {f.GetProperty("message").GetString()}")];

    [Fact]
    public async Task Snapshot_ReadsEveryKindInPages_AndNeverSecretValues()
    {
        await using var api = await StartApiAsync(teams: 25); // 600+ pods: more than one page of 500
        var kubeconfig = api.WriteKubeconfig(_dir);

        var run = CliRunner.Run(_dir, null, "snapshot", "--output", "snap.json", "--kubeconfig", kubeconfig);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Wrote ", run.Out, StringComparison.Ordinal);
        Assert.Contains("v1.29.6", run.Out, StringComparison.Ordinal);
        Assert.Contains("customresourcedefinitions (403)", run.Error, StringComparison.Ordinal);
        var text = await File.ReadAllTextAsync(Path.Combine(_dir, "snap.json"));
        Assert.DoesNotContain("c3VwZXItc2VjcmV0LXZhbHVl", text, StringComparison.Ordinal);
        Assert.True(api.MetadataOnlyRequests >= 1, "secrets must be listed as metadata only");

        var snapshot = JsonNode.Parse(text)!;
        var items = snapshot["items"]!.AsArray();
        var expected = (JsonArray)JsonNode.Parse(new ClusterGenerator(25).Generate())!["items"]!;
        var readable = expected.Count(i => (string)i!["kind"]! is not ("ClusterVersion" or "CustomResourceDefinition"));
        Assert.Equal(readable + 1, items.Count); // + the ClusterVersion object
        Assert.True(items.Count(i => (string)i!["kind"]! == "Pod") > 500);
        Assert.All(items, i => Assert.NotNull(i!["apiVersion"]));
        Assert.All(items.Where(i => (string)i!["kind"]! == "Secret"), s => Assert.Null(s!["data"]));
        Assert.Equal("v1.29.6", (string?)snapshot["metadata"]!["annotations"]!["skjold.io/server-version"]);
        Assert.True(api.PageRequests > Kubernetes.Live.ClusterReader.Kinds.Count(k => !k.Fallback), "pods should take more than one page");
    }

    [Fact]
    public async Task ReportCluster_GivesTheSameControlStatusesAsTheSnapshot()
    {
        await using var api = await StartApiAsync(teams: 2);
        var kubeconfig = api.WriteKubeconfig(_dir);
        Assert.Equal(0, CliRunner.Run(_dir, null, "snapshot", "-o", "snap.json", "--kubeconfig", kubeconfig).ExitCode);

        var live = CliRunner.Run(_dir, null, "report", "--framework", "cis", "--cluster", "--kubeconfig", kubeconfig, "--format", "json");
        var offline = CliRunner.Run(_dir, null, "report", "--framework", "cis", "snap.json", "--format", "json");

        Assert.Equal(0, live.ExitCode);
        Assert.Equal(0, offline.ExitCode);
        static Dictionary<string, string> Statuses(string json) => JsonDocument.Parse(json).RootElement.GetProperty("controls").EnumerateArray()
            .ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("status").GetString()!);
        var liveStatuses = Statuses(live.Out);
        Assert.Equal(Statuses(offline.Out), liveStatuses);
        Assert.Equal("fail", liveStatuses["5.1.1"]); // cluster-admin bound outside the platform in the generated cluster
        Assert.Equal("not applicable", liveStatuses["1.2.1"]); // node checks need --node-results
        Assert.Contains(JsonDocument.Parse(live.Out).RootElement.GetProperty("inputs").EnumerateArray(), i => i.GetString()!.Contains("cluster", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ScanCluster_GivesTheSameFindingsAsScanningTheSnapshot()
    {
        await using var api = await StartApiAsync(teams: 2);
        var kubeconfig = api.WriteKubeconfig(_dir);
        Assert.Equal(0, CliRunner.Run(_dir, null, "snapshot", "-o", "snap.json", "--kubeconfig", kubeconfig).ExitCode);

        var live = CliRunner.Run(_dir, null, "scan", "--cluster", "--kubeconfig", kubeconfig, "--format", "json");
        var offline = CliRunner.Run(_dir, null, "scan", "snap.json", "--format", "json");

        Assert.Equal(1, live.ExitCode);
        Assert.Equal(1, offline.ExitCode);
        var liveKeys = FindingKeys(live.Out);
        Assert.Equal(FindingKeys(offline.Out), liveKeys);
        Assert.Contains(liveKeys, k => k.StartsWith("rbac/escalation-path", StringComparison.Ordinal));
        Assert.Contains(liveKeys, k => k.StartsWith("upgrade/end-of-life ClusterVersion", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Snapshot_ReadsCalicoAndCiliumPolicies_FallingBackToCalicosCrds_AndAbsentCrdsAreNoGap()
    {
        var items = (JsonArray)JsonNode.Parse(new ClusterGenerator(1).Generate())!["items"]!;
        items.Add(JsonNode.Parse("""{"apiVersion": "crd.projectcalico.org/v1", "kind": "GlobalNetworkPolicy", "metadata": {"name": "default.default-deny"}, "spec": {"selector": "all()", "types": ["Ingress", "Egress"]}}"""));
        items.Add(JsonNode.Parse("""{"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "db", "namespace": "team-000"}, "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["world"]}]}}"""));
        await using var api = new FakeClusterApi(items, "v1.29.6");
        api.NotServed.Add("/apis/projectcalico.org/v3/globalnetworkpolicies"); // no Calico API server: only its CRDs
        api.NotServed.Add("/apis/projectcalico.org/v3/networkpolicies");
        api.NotServed.Add("/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies"); // CRD not installed
        await api.StartAsync();
        var kubeconfig = api.WriteKubeconfig(_dir);

        var run = CliRunner.Run(_dir, null, "snapshot", "-o", "snap.json", "--kubeconfig", kubeconfig);
        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("adminnetworkpolicies", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("globalnetworkpolicies", run.Error, StringComparison.Ordinal);
        var snapshot = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_dir, "snap.json")))!;
        var kinds = snapshot["items"]!.AsArray().Select(i => $"{(string)i!["apiVersion"]!} {(string)i["kind"]!}").ToList();
        Assert.Contains("crd.projectcalico.org/v1 GlobalNetworkPolicy", kinds);
        Assert.Contains("cilium.io/v2 CiliumNetworkPolicy", kinds);
        Assert.Null(snapshot["metadata"]!["annotations"]!["skjold.io/missing-kinds"]);

        var scan = CliRunner.Run(_dir, null, "scan", "snap.json", "--format", "json");
        using var doc = JsonDocument.Parse(scan.Out);
        var findings = doc.RootElement.GetProperty("findings").EnumerateArray().ToList();
        Assert.DoesNotContain(findings, f => f.GetProperty("checkId").GetString() == "netpol/namespace-default-deny");
        Assert.Contains(findings, f => f.GetProperty("checkId").GetString() == "netpol/ingress-from-anywhere" && f.GetProperty("resource").GetProperty("kind").GetString() == "CiliumNetworkPolicy");
    }

    [Fact]
    public async Task Snapshot_WrongCredentials_ExitTwoWithAClearMessage()
    {
        await using var api = await StartApiAsync(teams: 0);
        var kubeconfig = api.WriteKubeconfig(_dir);
        await File.WriteAllTextAsync(kubeconfig, (await File.ReadAllTextAsync(kubeconfig)).Replace(api.Token, "wrong", StringComparison.Ordinal));

        var run = CliRunner.Run(_dir, null, "snapshot", "-o", "snap.json", "--kubeconfig", kubeconfig);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("401", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", run.Error, StringComparison.Ordinal); // no credentials in messages
        Assert.True(api.Unauthorized > 0);
    }

    [Fact]
    public void ScanCluster_WithPaths_IsAUsageError()
    {
        var run = CliRunner.Run(_dir, null, "scan", "--cluster", "x.yaml");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("either --cluster or paths", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ExampleSnapshot_IsTheGeneratorsOutput()
    {
        // Regenerate with: dotnet run --project bench/Skjold.Benchmarks -c Release -- snapshot-gen 3 snapshots/example-cluster.json
        Assert.Equal(ClusterGenerator.Example().Generate(), File.ReadAllText(Example).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void ScanExampleSnapshot_FindsEachPostureFamily()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "scan", "snapshots/example-cluster.json", "--format", "json");
        Assert.Equal(1, run.ExitCode);
        var ids = JsonDocument.Parse(run.Out).RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("checkId").GetString()).ToHashSet();
        foreach (var id in new[]
        {
            "rbac/cluster-admin-binding", "rbac/escalation-path", "rbac/secrets-read", "rbac/pod-exec", "rbac/nodes-proxy", "rbac/default-sa-bound",
            "rbac/missing-subject", "rbac/missing-role", "secrets/sprawl", "secrets/legacy-sa-token", "secrets/unused", "secrets/configmap-credential",
            "wl/secret-env", "upgrade/end-of-life", "residency/node-region", "residency/volume-region", "residency/registry",
        })
        {
            Assert.Contains(id, ids);
        }
    }

    [Fact]
    public void RbacWhoCan_AnswersFromTheSnapshot()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "rbac", "who-can", "bind", "clusterroles.rbac.authorization.k8s.io", "snapshots/example-cluster.json", "--format", "json");
        Assert.Equal(0, run.ExitCode);
        var subjects = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().Select(r => r.GetProperty("subject").GetString()).ToHashSet();
        Assert.Contains("ServiceAccount ci/deployer", subjects);
        Assert.Contains("User kari.nordmann@bank.example", subjects);
        Assert.Contains("Group system:masters", subjects);
        Assert.DoesNotContain("Group ci-runners", subjects);

        var exec = CliRunner.Run(RepoPaths.Root, null, "rbac", "who-can", "create", "pods/exec", "-n", "team-001", "snapshots/example-cluster.json");
        Assert.Equal(0, exec.ExitCode);
        Assert.Contains("Group sre", exec.Out, StringComparison.Ordinal);
        Assert.Contains("subjects may create pods/exec in namespace team-001", exec.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("team-000", exec.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void RbacCan_ListsGrantsThroughImplicitGroups()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "rbac", "can", "sa:ci/runner", "snapshots/example-cluster.json", "--format", "json");
        Assert.Equal(0, run.ExitCode);
        var rows = JsonDocument.Parse(run.Out).RootElement.EnumerateArray().ToList();
        Assert.Contains(rows, r => r.GetProperty("rule").GetString()!.Contains(": create,get,list,watch,delete on pods", StringComparison.Ordinal) && r.GetProperty("scope").GetString() == "in namespace ci");

        var bad = CliRunner.Run(RepoPaths.Root, null, "rbac", "can", "sa:nonamespace", "snapshots/example-cluster.json");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("sa:NAMESPACE/NAME", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void RbacPaths_ShowsTheEscalationStepByStep()
    {
        var run = CliRunner.Run(RepoPaths.Root, null, "rbac", "paths", "group:ci-runners", "snapshots/example-cluster.json");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Group ci-runners => can bind cluster-admin to anyone", run.Out, StringComparison.Ordinal);
        Assert.Contains("1. can create pods in ci -> acts as ServiceAccount ci/deployer", run.Out, StringComparison.Ordinal);
        Assert.Contains("via ClusterRoleBinding ci-deployer -> ClusterRole release-manager", run.Out, StringComparison.Ordinal);

        var all = CliRunner.Run(RepoPaths.Root, null, "rbac", "paths", "snapshots/example-cluster.json", "--format", "json");
        Assert.Equal(1, all.ExitCode);
        var subjects = JsonDocument.Parse(all.Out).RootElement.EnumerateArray().Select(p => p.GetProperty("subject").GetString()).ToList();
        Assert.Contains("Group ci-runners", subjects);
        Assert.Contains("Group sre", subjects);
        Assert.DoesNotContain("Group system:masters", subjects);

        var none = CliRunner.Run(RepoPaths.Root, null, "rbac", "paths", "user:nobody", "snapshots/example-cluster.json");
        Assert.Equal(0, none.ExitCode);
        Assert.Contains("No escalation path", none.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Rbac_WithoutInput_IsAUsageError()
    {
        var run = CliRunner.Run(_dir, null, "rbac", "who-can", "get", "secrets");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("give a snapshot, manifests or --cluster", run.Error, StringComparison.Ordinal);
    }
}
