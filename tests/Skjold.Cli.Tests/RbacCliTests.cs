using System.Text.Json;

namespace Skjold.Cli.Tests;

/// <summary>The RBAC defects as a user meets them on the command line: scan, rbac who-can, can and paths agree.</summary>
public sealed class RbacCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("skjold-rbac-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string yaml)
    {
        File.WriteAllText(Path.Combine(_dir, name), yaml);
        return name;
    }

    private const string MalloryAdmin = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: "system:mallory-admin"}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
        subjects: [{kind: User, name: mallory, apiGroup: rbac.authorization.k8s.io}]
        """;

    [Fact]
    public void ScanAndPaths_AgreeOnABindingNamedLikeTheSystem()
    {
        var file = Write("mallory.yaml", MalloryAdmin);
        var scan = CliRunner.Run(_dir, null, "scan", file, "--format", "json");
        Assert.Equal(1, scan.ExitCode);
        Assert.Contains(JsonDocument.Parse(scan.Out).RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("checkId").GetString() == "rbac/cluster-admin-binding");

        var paths = CliRunner.Run(_dir, null, "rbac", "paths", file);
        Assert.Equal(1, paths.ExitCode);
        Assert.Contains("User mallory => holds cluster-admin", paths.Out, StringComparison.Ordinal);
        Assert.Contains("ClusterRole cluster-admin", paths.Out, StringComparison.Ordinal);
        Assert.Contains("Roles from Kubernetes' bootstrap policy (the input does not define them): ClusterRole cluster-admin.", paths.Out, StringComparison.Ordinal);

        var report = CliRunner.Run(_dir, null, "report", "--framework", "cis", file, "--format", "json");
        Assert.Equal(0, report.ExitCode);
        var statuses = JsonDocument.Parse(report.Out).RootElement.GetProperty("controls").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("status").GetString()!);
        Assert.Equal("fail", statuses["5.1.1"]);
        Assert.Equal("fail", statuses["5.1.2"]); // cluster-admin reads secrets
        Assert.Equal("fail", statuses["5.1.4"]); // and creates pods
    }

    [Fact]
    public void WhoCan_ResolvesResourcesAndUrls_AndSaysWhatItAssumed()
    {
        var file = Write("rbac.yaml", MalloryAdmin + """

            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata: {name: metrics}
            rules: [{nonResourceURLs: [/metrics], verbs: [get]}, {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: local-metrics, namespace: team}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics}
            subjects: [{kind: User, name: rita, apiGroup: rbac.authorization.k8s.io}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRoleBinding
            metadata: {name: scraper}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics}
            subjects: [{kind: ServiceAccount, name: prometheus, namespace: monitoring}]
            """);

        var urls = CliRunner.Run(_dir, null, "rbac", "who-can", "get", "/metrics", file, "--format", "json");
        Assert.Equal(0, urls.ExitCode);
        var subjects = JsonDocument.Parse(urls.Out).RootElement.EnumerateArray().Select(r => r.GetProperty("subject").GetString()).ToHashSet();
        Assert.Contains("ServiceAccount monitoring/prometheus", subjects);
        Assert.Contains("User mallory", subjects);
        Assert.Contains("Group system:masters", subjects);
        Assert.DoesNotContain("User rita", subjects); // a RoleBinding grants no URL

        var slices = CliRunner.Run(_dir, null, "rbac", "who-can", "list", "endpointslices", "-n", "team", file);
        Assert.Equal(0, slices.ExitCode);
        Assert.Contains("User rita", slices.Out, StringComparison.Ordinal);
        Assert.Contains("list endpointslices.discovery.k8s.io in namespace team", slices.Out, StringComparison.Ordinal);
        Assert.Equal(string.Empty, slices.Error);

        var unknown = CliRunner.Run(_dir, null, "rbac", "who-can", "get", "widgets", file);
        Assert.Equal(0, unknown.ExitCode);
        Assert.Contains("warning: 'widgets' is not a built-in resource", unknown.Error, StringComparison.Ordinal);

        var nodes = CliRunner.Run(_dir, null, "rbac", "who-can", "get", "nodes", "-n", "team", file);
        Assert.Contains("nodes is cluster-scoped", nodes.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("rita", nodes.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Can_AddsTheGroupsTheApiServerAdds()
    {
        var file = Write("groups.yaml", """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: devs-edit, namespace: shop}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
            subjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]
            """);
        var alone = CliRunner.Run(_dir, null, "rbac", "can", "user:alice", file, "--format", "json");
        Assert.DoesNotContain(JsonDocument.Parse(alone.Out).RootElement.EnumerateArray(), r => r.GetProperty("binding").GetString()!.Contains("devs-edit", StringComparison.Ordinal));
        Assert.Contains(JsonDocument.Parse(alone.Out).RootElement.EnumerateArray(), r => r.GetProperty("subject").GetString() == "Group system:authenticated");

        var member = CliRunner.Run(_dir, null, "rbac", "can", "user:alice", "--group", "devs", file, "--format", "json");
        var rows = JsonDocument.Parse(member.Out).RootElement.EnumerateArray().ToList();
        Assert.Contains(rows, r => r.GetProperty("rule").GetString()!.Contains("secrets", StringComparison.Ordinal) && r.GetProperty("scope").GetString() == "in namespace shop" && r.GetProperty("bootstrap").GetBoolean());

        var masters = CliRunner.Run(_dir, null, "rbac", "can", "user:root", "--group", "system:masters", file);
        Assert.Contains("allows system:masters every request before RBAC", masters.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void KubeVersionAndNamespace_ChangeTheVerdictAsTheyWould()
    {
        var file = Write("peek.yaml", """
            apiVersion: rbac.authorization.k8s.io/v1
            kind: Role
            metadata: {name: peek}
            rules: [{apiGroups: [""], resources: [pods/exec], verbs: [get]}]
            ---
            apiVersion: rbac.authorization.k8s.io/v1
            kind: RoleBinding
            metadata: {name: peekers}
            roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: peek}
            subjects: [{kind: User, name: pia, apiGroup: rbac.authorization.k8s.io}]
            """);
        static string[] Ids(CliRun run) => [.. JsonDocument.Parse(run.Out).RootElement.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("checkId").GetString()!)];

        var old = CliRunner.Run(_dir, null, "scan", file, "--kube-version", "1.33", "--namespace", "argocd", "--format", "json");
        Assert.Equal(1, old.ExitCode);
        Assert.Contains("rbac/pod-exec", Ids(old));
        Assert.Contains(JsonDocument.Parse(old.Out).RootElement.GetProperty("findings").EnumerateArray(), f => f.GetProperty("resource").GetProperty("namespace").GetString() == "argocd");
        var current = CliRunner.Run(_dir, null, "scan", file, "--kube-version", "v1.35.0", "--format", "json");
        Assert.DoesNotContain("rbac/pod-exec", Ids(current));

        var who = CliRunner.Run(_dir, null, "rbac", "who-can", "get", "pods/exec", "-n", "argocd", file);
        Assert.Contains("User pia", who.Out, StringComparison.Ordinal);

        var bad = CliRunner.Run(_dir, null, "scan", file, "--kube-version", "banana");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--kube-version 'banana'", bad.Error, StringComparison.Ordinal);
        var badNs = CliRunner.Run(_dir, null, "scan", file, "--namespace", "Not_A_Namespace");
        Assert.Equal(2, badNs.ExitCode);
    }
}
