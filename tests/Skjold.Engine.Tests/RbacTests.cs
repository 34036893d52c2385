using Skjold.Engine.Rbac;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

/// <summary>RBAC questions on clusters built by hand, where the right answer is known.</summary>
public sealed class RbacTests
{
    private const string Rbac = "rbac.authorization.k8s.io/v1";

    private static string ClusterRole(string name, string rules, string extra = "") => $$$"""
        apiVersion: {{{Rbac}}}
        kind: ClusterRole
        metadata: {name: {{{name}}}{{{extra}}}}
        rules: {{{rules}}}
        ---

        """;

    private static string Role(string ns, string name, string rules) => $$$"""
        apiVersion: {{{Rbac}}}
        kind: Role
        metadata: {name: {{{name}}}, namespace: {{{ns}}}}
        rules: {{{rules}}}
        ---

        """;

    private static string Binding(string kind, string? ns, string name, string roleKind, string role, string subjects) => $$$"""
        apiVersion: {{{Rbac}}}
        kind: {{{kind}}}
        metadata: {name: {{{name}}}{{{(ns is null ? "" : ", namespace: " + ns)}}}}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: {{{roleKind}}}, name: {{{role}}}}
        subjects: {{{subjects}}}
        ---

        """;

    private static string Sa(string ns, string name) => $"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: {ns}}}\n---\n";

    private static RbacModel Model(string yaml) => RbacModel.Build(Scans.Load(yaml));

    private static List<string> WhoCan(RbacModel m, string verb, string resource, string? sub = null, string? ns = null, string? name = null, string? group = null) =>
        m.WhoCan(verb, resource, sub, ns, name, group).Where(g => !g.BindingFromBootstrap).Select(g => g.Subject.ToString()).Distinct().Order(StringComparer.Ordinal).ToList();

    private static readonly string SecretsCluster =
        ClusterRole("secret-reader", "[{apiGroups: [''], resources: [secrets], verbs: [get, list]}]") +
        Binding("ClusterRoleBinding", null, "alice-secrets", "ClusterRole", "secret-reader", "[{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]") +
        Role("a", "local-secrets", "[{apiGroups: [''], resources: [secrets], verbs: [get]}]") +
        Binding("RoleBinding", "a", "devs-secrets", "Role", "local-secrets", "[{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]") +
        Binding("RoleBinding", "b", "app-secrets", "ClusterRole", "secret-reader", "[{kind: ServiceAccount, name: app, namespace: b}]") +
        Role("c", "db-only", "[{apiGroups: [''], resources: [secrets], verbs: [get], resourceNames: [db]}]") +
        Binding("RoleBinding", "c", "carol-db", "Role", "db-only", "[{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]");

    [Fact]
    public void WhoCan_ScopesNamespacedAndClusterGrants()
    {
        var m = Model(SecretsCluster);
        Assert.Equal(["Group devs", "User alice"], WhoCan(m, "get", "secrets", ns: "a"));
        Assert.Equal(["ServiceAccount b/app", "User alice"], WhoCan(m, "get", "secrets", ns: "b"));
        Assert.Equal(["User alice"], WhoCan(m, "get", "secrets", ns: "z"));
        Assert.Equal(["Group devs", "ServiceAccount b/app", "User alice"], WhoCan(m, "get", "secrets"));

        // list is granted by secret-reader only; devs' role has get alone.
        Assert.Equal(["User alice"], WhoCan(m, "list", "secrets", ns: "a"));
        Assert.Empty(WhoCan(m, "delete", "secrets"));
    }

    [Fact]
    public void WhoCan_ResourceNamesLimitToTheNamedObject()
    {
        var m = Model(SecretsCluster);
        Assert.Contains("User carol", WhoCan(m, "get", "secrets", ns: "c", name: "db"));
        Assert.DoesNotContain("User carol", WhoCan(m, "get", "secrets", ns: "c", name: "other"));
        Assert.DoesNotContain("User carol", WhoCan(m, "list", "secrets", ns: "c"));
    }

    [Fact]
    public void WhoCan_SubresourcesAndGroupsMatchLikeTheAuthorizer()
    {
        var m = Model(
            ClusterRole("exec", "[{apiGroups: [''], resources: [pods/exec], verbs: [create]}]") +
            ClusterRole("all-pod-subresources", "[{apiGroups: [''], resources: ['pods/*'], verbs: [create]}]") +
            ClusterRole("all-scale", "[{apiGroups: [apps], resources: ['*/scale'], verbs: [update]}]") +
            ClusterRole("deployer", "[{apiGroups: [apps], resources: [deployments], verbs: [create]}]") +
            Binding("ClusterRoleBinding", null, "e", "ClusterRole", "exec", "[{kind: User, name: exec-user}]") +
            Binding("ClusterRoleBinding", null, "s", "ClusterRole", "all-pod-subresources", "[{kind: User, name: sub-user}]") +
            Binding("ClusterRoleBinding", null, "sc", "ClusterRole", "all-scale", "[{kind: User, name: scaler}]") +
            Binding("ClusterRoleBinding", null, "d", "ClusterRole", "deployer", "[{kind: User, name: deployer}]"));

        // "pods/*" is not a wildcard: the authorizer matches "*", the exact name and "*/sub" only.
        Assert.Equal(["User exec-user"], WhoCan(m, "create", "pods", "exec"));
        Assert.Empty(WhoCan(m, "create", "pods")); // a subresource grant is not the resource
        Assert.Empty(WhoCan(m, "create", "pods", "attach"));
        Assert.Equal(["User scaler"], WhoCan(m, "update", "deployments", "scale"));
        Assert.Equal(["User deployer"], WhoCan(m, "create", "deployments"));
        Assert.Empty(WhoCan(m, "create", "deployments", group: "extensions"));
    }

    [Fact]
    public void AggregatedClusterRoles_CarryTheRulesOfMatchingRoles()
    {
        var m = Model(
            ClusterRole("monitoring", "[]", ", labels: {}}\naggregationRule: {clusterRoleSelectors: [{matchLabels: {example.com/aggregate-to-monitoring: 'true'}}]}\n#") +
            ClusterRole("metrics-reader", "[{apiGroups: [''], resources: [nodes/metrics], verbs: [get]}]", ", labels: {example.com/aggregate-to-monitoring: 'true'}") +
            ClusterRole("unrelated", "[{apiGroups: [''], resources: [secrets], verbs: [get]}]", ", labels: {other: 'true'}") +
            Binding("ClusterRoleBinding", null, "prom", "ClusterRole", "monitoring", "[{kind: ServiceAccount, name: prometheus, namespace: mon}]"));

        Assert.Equal(["ServiceAccount mon/prometheus"], WhoCan(m, "get", "nodes", "metrics"));
        Assert.Empty(WhoCan(m, "get", "secrets"));
    }

    [Fact]
    public void ImplicitGroups_GrantToServiceAccountsAndAuthenticatedUsers()
    {
        var m = Model(
            ClusterRole("cm-reader", "[{apiGroups: [''], resources: [configmaps], verbs: [get]}]") +
            ClusterRole("lease-writer", "[{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [update]}]") +
            ClusterRole("discovery", "[{nonResourceURLs: [/api, /apis], verbs: [get]}]") +
            Binding("RoleBinding", "ci", "ci-accounts", "ClusterRole", "cm-reader", "[{kind: Group, name: 'system:serviceaccounts:ci'}]") +
            Binding("ClusterRoleBinding", null, "all-accounts", "ClusterRole", "lease-writer", "[{kind: Group, name: 'system:serviceaccounts'}]") +
            Binding("ClusterRoleBinding", null, "everyone", "ClusterRole", "discovery", "[{kind: Group, name: 'system:authenticated'}]"));

        var ciBot = RbacSubject.Parse("system:serviceaccount:ci:bot");
        var webBot = RbacSubject.Parse("sa:web/bot");
        var bob = RbacSubject.Parse("bob");
        Assert.NotNull(m.Can(ciBot, "get", "configmaps", ns: "ci"));
        Assert.Null(m.Can(webBot, "get", "configmaps", ns: "web"));
        Assert.NotNull(m.Can(webBot, "update", "leases", ns: "kube-node-lease", group: "coordination.k8s.io"));
        Assert.Null(m.Can(bob, "update", "leases", group: "coordination.k8s.io"));
        Assert.Equal(3, m.GrantsOf(ciBot).Count(g => !g.BindingFromBootstrap));
        Assert.Single(m.GrantsOf(bob), g => !g.BindingFromBootstrap);
        Assert.Equal("Group system:authenticated", m.GrantsOf(bob).Single(g => !g.BindingFromBootstrap).Subject.ToString());
    }

    [Theory]
    [InlineData("user:alice", "User", "alice", null)]
    [InlineData("alice@bank.example", "User", "alice@bank.example", null)]
    [InlineData("group:sre", "Group", "sre", null)]
    [InlineData("sa:ci/deployer", "ServiceAccount", "deployer", "ci")]
    [InlineData("system:serviceaccount:ci:deployer", "ServiceAccount", "deployer", "ci")]
    public void Subjects_Parse(string text, string kind, string name, string? ns)
    {
        Assert.Equal(new RbacSubject(kind, name, ns), RbacSubject.Parse(text));
    }

    [Fact]
    public void Subjects_ServiceAccountNeedsNamespace()
    {
        Assert.Throws<FormatException>(() => RbacSubject.Parse("sa:deployer"));
    }

    private static readonly string CiEscalation =
        Sa("ci", "runner") + Sa("ci", "deployer") +
        Role("ci", "pipeline", "[{apiGroups: [''], resources: [pods], verbs: [create, get]}]") +
        Binding("RoleBinding", "ci", "runners", "Role", "pipeline", "[{kind: Group, name: ci-runners}]") +
        ClusterRole("release-manager", "[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}, {apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings], verbs: [create]}]") +
        Binding("ClusterRoleBinding", null, "ci-deployer", "ClusterRole", "release-manager", "[{kind: ServiceAccount, name: deployer, namespace: ci}]");

    [Fact]
    public void Escalation_CreatePodsThenRunAsAPowerfulServiceAccount()
    {
        var resources = Scans.Load(CiEscalation);
        var finder = new EscalationFinder(RbacModel.Build(resources), resources);
        var path = finder.Find(RbacSubject.Parse("group:ci-runners"));

        Assert.NotNull(path);
        Assert.Equal(2, path.Steps.Count);
        Assert.Equal("can create pods in ci", path.Steps[0].Action);
        Assert.Equal(new RbacSubject("ServiceAccount", "deployer", "ci"), path.Steps[0].To);
        Assert.Null(path.Steps[1].To);
        Assert.Contains("bind cluster-admin to anyone", path.Goal, StringComparison.Ordinal);
        Assert.Equal("ClusterRoleBinding ci-deployer -> ClusterRole release-manager", path.Steps[1].Grant.Via);

        // The deployer holds the permission itself: that is a direct finding, not a path.
        Assert.Null(finder.Find(RbacSubject.Parse("sa:ci/deployer")));
        Assert.NotNull(finder.Goal(RbacSubject.Parse("sa:ci/deployer")));

        // Someone with no way in has no path.
        Assert.Null(finder.Find(RbacSubject.Parse("user:visitor")));
    }

    [Fact]
    public void Escalation_NoPathWhenTheNamespaceHasNoPowerfulAccount()
    {
        var yaml = CiEscalation.Replace("namespace: ci}]", "namespace: other}]", StringComparison.Ordinal) + Sa("other", "deployer");
        var resources = Scans.Load(yaml);
        var finder = new EscalationFinder(RbacModel.Build(resources), resources);
        Assert.Null(finder.Find(RbacSubject.Parse("group:ci-runners")));
    }

    [Fact]
    public void Escalation_ThreeHopsThroughImpersonationAndALegacyTokenSecret()
    {
        var yaml =
            Sa("a", "one") + Sa("b", "two") +
            ClusterRole("impersonate-one", "[{apiGroups: [''], resources: [serviceaccounts], verbs: [impersonate], resourceNames: [one]}]") +
            Binding("RoleBinding", "a", "helpdesk", "ClusterRole", "impersonate-one", "[{kind: User, name: helpdesk}]") +
            Role("b", "secret-get", "[{apiGroups: [''], resources: [secrets], verbs: [get]}]") +
            Binding("RoleBinding", "b", "one-reads-b", "Role", "secret-get", "[{kind: ServiceAccount, name: one, namespace: a}]") +
            "apiVersion: v1\nkind: Secret\nmetadata: {name: two-token, namespace: b, annotations: {kubernetes.io/service-account.name: two}}\ntype: kubernetes.io/service-account-token\n---\n" +
            Binding("ClusterRoleBinding", null, "two-admin", "ClusterRole", "cluster-admin", "[{kind: ServiceAccount, name: two, namespace: b}]") +
            ClusterRole("cluster-admin", "[{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]");
        var resources = Scans.Load(yaml);
        var finder = new EscalationFinder(RbacModel.Build(resources), resources);
        var path = finder.Find(RbacSubject.Parse("helpdesk"));

        Assert.NotNull(path);
        Assert.Equal(
            ["can impersonate service account a/one", "can read the legacy token secret b/two-token of service account b/two"],
            path.Steps.Take(2).Select(s => s.Action));
        Assert.Equal("holds cluster-admin (every verb on every resource)", path.Goal);
        Assert.Equal(3, path.Steps.Count);
    }

    [Fact]
    public void Checks_ReportEscalationPathsAndRiskyBindings()
    {
        var yaml = CiEscalation +
            ClusterRole("cluster-admin", "[{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]") +
            Binding("ClusterRoleBinding", null, "cluster-admin", "ClusterRole", "cluster-admin", "[{kind: Group, name: 'system:masters'}]") +
            Binding("ClusterRoleBinding", null, "kari-admin", "ClusterRole", "cluster-admin", "[{kind: User, name: kari}]") +
            Role("team", "owner", "[{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]") +
            Binding("RoleBinding", "team", "owners", "Role", "owner", "[{kind: Group, name: team-owners}]") +
            Binding("RoleBinding", "ci", "ghost", "ClusterRole", "release-manager", "[{kind: ServiceAccount, name: ghost, namespace: ci}]") +
            Binding("RoleBinding", "ci", "dangling", "Role", "does-not-exist", "[{kind: User, name: x}]") +
            Binding("RoleBinding", "ci", "default-pods", "Role", "pipeline", "[{kind: ServiceAccount, name: default, namespace: ci}]");
        var result = Scans.Scan(yaml);
        string[] Of(string id) => [.. result.Findings.Where(f => f.CheckId == id).Select(f => f.Resource.Name).Order(StringComparer.Ordinal)];

        Assert.Equal(["kari-admin"], Of("rbac/cluster-admin-binding")); // system:masters is the platform's own
        Assert.Contains("runners", Of("rbac/escalation-path"));
        Assert.Equal(["ci-deployer", "ghost", "kari-admin", "owners"], Of("rbac/escalate-bind")); // owners may bind roles in team
        Assert.Equal(["ghost"], Of("rbac/missing-subject"));
        Assert.Equal(["dangling"], Of("rbac/missing-role"));
        Assert.Equal(["default-pods"], Of("rbac/default-sa-bound"));

        // A namespaced binding of a wildcard role cannot reach cluster-scoped resources.
        Assert.Contains("owners", Of("rbac/wildcard"));
        Assert.Contains("owners", Of("rbac/secrets-read"));
        Assert.DoesNotContain("owners", Of("rbac/nodes-proxy"));
        Assert.DoesNotContain("owners", Of("rbac/pv-create"));
        Assert.DoesNotContain("owners", Of("rbac/webhook-write"));
        Assert.Contains("kari-admin", Of("rbac/nodes-proxy"));

        var path = result.Findings.First(f => f.CheckId == "rbac/escalation-path" && f.Message.StartsWith("Group ci-runners", StringComparison.Ordinal));
        Assert.Contains("can create pods in ci, running as ServiceAccount ci/deployer", path.Message, StringComparison.Ordinal);
    }
}
