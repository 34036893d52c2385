using Skjold.Engine.Policy;
using Skjold.Engine.Rbac;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

/// <summary>
/// One test per defect of the RBAC issue, each with the small input that showed it; the expected
/// answers are the API server's (its RBAC authorizer, bootstrap policy and API discovery).
/// </summary>
public sealed class RbacDefectTests
{
    private const string Rbac = "rbac.authorization.k8s.io/v1";

    private static string Crb(string name, string role, string subjects) =>
        $"apiVersion: {Rbac}\nkind: ClusterRoleBinding\nmetadata: {{name: '{name}'}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: '{role}'}}\nsubjects: {subjects}\n---\n";

    private static string Rb(string? ns, string name, string roleKind, string role, string subjects) =>
        $"apiVersion: {Rbac}\nkind: RoleBinding\nmetadata: {{name: '{name}'{(ns is null ? "" : $", namespace: {ns}")}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {roleKind}, name: '{role}'}}\nsubjects: {subjects}\n---\n";

    private static string Cr(string name, string rules, string labels = "{}") =>
        $"apiVersion: {Rbac}\nkind: ClusterRole\nmetadata: {{name: '{name}', labels: {labels}}}\nrules: {rules}\n---\n";

    private static string Role(string? ns, string name, string rules) =>
        $"apiVersion: {Rbac}\nkind: Role\nmetadata: {{name: '{name}'{(ns is null ? "" : $", namespace: {ns}")}}}\nrules: {rules}\n---\n";

    private static string User(string name) => $"[{{kind: User, name: '{name}', apiGroup: rbac.authorization.k8s.io}}]";

    private static string Group(string name) => $"[{{kind: Group, name: '{name}', apiGroup: rbac.authorization.k8s.io}}]";

    private static ScanPolicy Policy(int? minor = null, string ns = "default") => ScanPolicy.Default.With(minor, ns);

    private static RbacModel Model(string yaml, int? minor = null, string ns = "default") =>
        RbacModel.Build(Scans.Load(yaml, defaultNamespace: ns), new RbacModelOptions { KubeMinor = minor, DefaultNamespace = ns });

    private static string[] Findings(string yaml, string id, int? minor = null, string ns = "default") =>
        [.. new Scanner(Policy(minor, ns)).Scan(Scans.Load(yaml, defaultNamespace: ns)).Findings.Where(f => f.CheckId == id).Select(f => f.Resource.Name).Order(StringComparer.Ordinal)];

    private static List<string> WhoCan(RbacModel m, string verb, string resource, string? ns = null, string? name = null) =>
        [.. m.WhoCan(m.Query(verb, resource, name: name, ns: ns)).Select(g => g.Subject.ToString()).Distinct().Order(StringComparer.Ordinal)];

    // 1. Binding names mean nothing to the authorizer.
    [Fact]
    public void Defect1_BindingNamedLikeTheSystem_IsJudged()
    {
        var yaml = Crb("system:mallory-admin", "cluster-admin", User("mallory"));
        Assert.Equal(["system:mallory-admin"], Findings(yaml, "rbac/cluster-admin-binding"));

        // The API server's own binding, exactly as bootstrapped, is exempt...
        Assert.Empty(Findings(Crb("cluster-admin", "cluster-admin", Group("system:masters")), "rbac/cluster-admin-binding"));

        // ...but a bootstrap name with another subject is judged for that subject.
        var borrowed = Crb("system:kube-controller-manager", "system:kube-controller-manager",
            "[{kind: User, name: 'system:kube-controller-manager'}, {kind: User, name: mallory}]");
        Assert.Equal(["system:kube-controller-manager"], Findings(borrowed, "rbac/secrets-read"));
        Assert.True(BootstrapPolicy.IsBootstrapBinding(Scans.Load(Crb("system:kube-scheduler", "system:kube-scheduler", User("system:kube-scheduler")))[0]));
        Assert.False(BootstrapPolicy.IsBootstrapBinding(Scans.Load(Crb("system:kube-scheduler", "cluster-admin", User("system:kube-scheduler")))[0]));
    }

    // 2. system: users are not the platform by prefix; anonymous is everyone; SA-named users are service accounts.
    [Fact]
    public void Defect2_AnonymousAndServiceAccountUsers_AreWhoTheAuthorizerSays()
    {
        var yaml = Crb("anon-admin", "cluster-admin", User("system:anonymous"));
        Assert.Equal(["anon-admin"], Findings(yaml, "rbac/cluster-admin-binding"));
        Assert.Equal(["anon-admin"], Findings(yaml, "rbac/anonymous-access"));

        var m = Model(yaml);
        var anonymous = RbacUser.Of(RbacSubject.Parse("user:system:anonymous"));
        Assert.Equal(["system:unauthenticated"], anonymous.Groups);
        var roles = m.GrantsOf(anonymous).Select(g => g.RoleName).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["cluster-admin", "system:public-info-viewer"], roles); // not basic-user or discovery: those are system:authenticated's

        var saAsUser = Crb("bot-secrets", "cluster-admin", User("system:serviceaccount:ci:bot"));
        var model = Model(saAsUser);
        Assert.NotNull(model.Can(RbacSubject.Parse("sa:ci/bot"), "get", "secrets", ns: "payments"));
        Assert.Contains(new RbacSubject(RbacSubject.ServiceAccount, "bot", "ci"), model.Subjects());
        Assert.Contains("cluster-admin", new EscalationFinder(model, Scans.Load(saAsUser)).Goal(RbacSubject.Parse("sa:ci/bot"))!.Goal, StringComparison.Ordinal);

        Assert.False(RbacSubject.Parse("user:system:anonymous").IsPlatform);
        Assert.False(RbacSubject.Parse("group:system:authenticated").IsPlatform);
        Assert.False(RbacSubject.Parse("user:system:mallory").IsPlatform);
        Assert.True(RbacSubject.Parse("user:system:kube-scheduler").IsPlatform);
        Assert.True(RbacSubject.Parse("sa:kube-system/replicaset-controller").IsPlatform);
        Assert.False(RbacSubject.Parse("sa:kube-system/tiller").IsPlatform);
    }

    // 3. Built-in ClusterRoles exist without being in the input, with their aggregation.
    [Fact]
    public void Defect3_BuiltInClusterRoles_ComeFromTheBootstrapPolicy()
    {
        var yaml = Rb("team", "viewers", "ClusterRole", "view", Group("auditors")) +
            Rb("team", "editors", "ClusterRole", "edit", Group("devs")) +
            Crb("tokens", "system:auth-delegator", User("proxy")) +
            Crb("root", "cluster-admin", User("kari"));
        Assert.Empty(Findings(yaml, "rbac/missing-role"));
        Assert.Equal(["root"], Findings(yaml, "rbac/cluster-admin-binding"));
        Assert.Equal(["editors", "root"], Findings(yaml, "rbac/create-pods"));

        var m = Model(yaml);
        Assert.Contains("Group auditors", WhoCan(m, "list", "pods", "team"));
        Assert.DoesNotContain("Group auditors", WhoCan(m, "get", "secrets", "team")); // view does not read secrets
        Assert.Contains("Group devs", WhoCan(m, "get", "secrets", "team"));
        Assert.Contains("User proxy", WhoCan(m, "create", "tokenreviews.authentication.k8s.io"));
        Assert.Contains("ClusterRole view", m.BootstrapRolesUsed);

        // A custom role labelled aggregate-to-view reaches view, and through it edit and admin.
        var aggregated = yaml + Cr("leaky", "[{apiGroups: [''], resources: [pods/exec, secrets], verbs: [get, create]}]", "{rbac.authorization.k8s.io/aggregate-to-view: 'true'}");
        var m2 = Model(aggregated);
        Assert.Contains("Group auditors", WhoCan(m2, "create", "pods/exec", "team"));
        Assert.Contains("Group auditors", WhoCan(m2, "get", "secrets", "team"));
        Assert.Equal(["editors", "viewers"], Findings(aggregated, "rbac/secrets-read").Where(n => n != "root").ToArray());
    }

    // 4. Objects without metadata.namespace are where kubectl apply -n puts them, for every check.
    [Fact]
    public void Defect4_NamespacelessObjects_AreInTheApplyNamespace()
    {
        var yaml = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: argocd-server}\n---\n" +
            Role(null, "argocd-server", "[{apiGroups: [''], resources: [secrets], verbs: [get, list]}]") +
            Rb(null, "argocd-server", "Role", "argocd-server", "[{kind: ServiceAccount, name: argocd-server}]") +
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: server}\nspec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {serviceAccountName: argocd-server, containers: [{name: c, image: x}]}}}\n";
        var resources = Scans.Load(yaml, defaultNamespace: "argocd");
        Assert.All(resources, r => Assert.Equal("argocd", r.Ref.Namespace));
        Assert.All(resources, r => Assert.True(r.NamespaceDefaulted));

        var m = Model(yaml, ns: "argocd");
        Assert.Equal(["ServiceAccount argocd/argocd-server"], WhoCan(m, "get", "secrets", "argocd").Where(s => s.Contains("argocd", StringComparison.Ordinal)).ToList());
        Assert.NotNull(m.Can(RbacSubject.Parse("sa:argocd/argocd-server"), "list", "secrets", ns: "argocd"));
        Assert.Empty(Findings(yaml, "rbac/missing-role", ns: "argocd"));
        Assert.Equal(["argocd-server"], Findings(yaml, "rbac/secrets-read", ns: "argocd"));

        // Without --namespace they are in default, and still resolve among themselves.
        Assert.NotNull(Model(yaml).Can(RbacSubject.Parse("sa:default/argocd-server"), "get", "secrets", ns: "default"));

        // Cluster-scoped kinds get no namespace.
        Assert.Null(Scans.Load(Cr("c", "[]"), defaultNamespace: "argocd")[0].Ref.Namespace);
    }

    // 5. A RoleBinding never grants cluster-scoped resources or non-resource URLs.
    [Fact]
    public void Defect5_RoleBindingToClusterRole_GrantsNothingClusterScoped()
    {
        var yaml = Cr("powerful", "[{apiGroups: [''], resources: [nodes, users, pods], verbs: [get, impersonate]}, {nonResourceURLs: [/metrics], verbs: [get]}]") +
            Rb("team", "local", "ClusterRole", "powerful", User("bob"));
        var m = Model(yaml);
        Assert.DoesNotContain("User bob", WhoCan(m, "get", "nodes"));
        Assert.DoesNotContain("User bob", WhoCan(m, "get", "nodes", "team"));
        Assert.DoesNotContain("User bob", WhoCan(m, "impersonate", "users"));
        Assert.DoesNotContain("User bob", WhoCan(m, "get", "/metrics"));
        Assert.Contains("User bob", WhoCan(m, "get", "pods", "team"));
        Assert.DoesNotContain("User bob", WhoCan(m, "get", "pods", "other"));
        Assert.Empty(Findings(yaml, "rbac/impersonate"));
    }

    // 6. Resource matching as the authorizer does it, with the built-in resource table.
    [Fact]
    public void Defect6_ResourcesAndNamesMatchLikeTheAuthorizer()
    {
        var yaml = Cr("sub-star", "[{apiGroups: [''], resources: ['pods/*'], verbs: [create]}]") + Crb("a", "sub-star", User("star")) +
            Cr("slices", "[{apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list]}, {apiGroups: [admissionregistration.k8s.io], resources: [validatingadmissionpolicybindings], verbs: [delete]}]") +
            Crb("b", "slices", User("net")) +
            Cr("logs", "[{nonResourceURLs: ['/logs/*', /metrics], verbs: [get]}]") + Crb("c", "logs", User("ops")) +
            Role("t", "named", "[{apiGroups: [''], resources: [secrets], resourceNames: [db], verbs: [get, list, create, deletecollection]}]") +
            Rb("t", "d", "Role", "named", User("carol"));
        var m = Model(yaml);
        Assert.DoesNotContain("User star", WhoCan(m, "create", "pods/exec", "x"));
        Assert.Contains("User net", WhoCan(m, "list", "endpointslices", "x"));
        Assert.Equal("discovery.k8s.io", m.Query("list", "endpointslices").Request.ApiGroup);
        Assert.Null(m.Query("list", "endpointslices").Warning);
        Assert.Contains("User net", WhoCan(m, "delete", "validatingadmissionpolicybindings"));
        Assert.False(m.Query("delete", "validatingadmissionpolicybindings").Namespaced);
        Assert.NotNull(m.Query("get", "widgets").Warning);
        Assert.Contains("User ops", WhoCan(m, "get", "/metrics"));
        Assert.Contains("User ops", WhoCan(m, "get", "/logs/kubelet.log"));
        Assert.DoesNotContain("User ops", WhoCan(m, "get", "/logs"));

        Assert.Contains("User carol", WhoCan(m, "get", "secrets", "t", "db"));
        Assert.DoesNotContain("User carol", WhoCan(m, "list", "secrets", "t")); // no name: no field selector
        Assert.Contains("User carol", WhoCan(m, "list", "secrets", "t", "db")); // kubectl get secret db (field selector metadata.name)
        Assert.DoesNotContain("User carol", WhoCan(m, "create", "secrets", "t", "db")); // create carries no name
        Assert.DoesNotContain("User carol", WhoCan(m, "deletecollection", "secrets", "t", "db"));

        // Verbs and groups are case-sensitive, as the authorizer compares them.
        Assert.DoesNotContain("User net", WhoCan(m, "LIST", "endpointslices", "x"));
    }

    // 7. Writing a pod controller's template, or a pod's ephemeral containers, runs code as a service account.
    [Fact]
    public void Defect7_PodCreationEquivalents_CountInFindingsAndPaths()
    {
        var yaml = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: powerful, namespace: app}\n---\n" +
            Crb("powerful", "cluster-admin", "[{kind: ServiceAccount, name: powerful, namespace: app}]") +
            Role("app", "updater", "[{apiGroups: [apps], resources: [deployments], verbs: [update]}]") + Rb("app", "updaters", "Role", "updater", User("ulla")) +
            Role("app", "debugger", "[{apiGroups: [''], resources: [pods/ephemeralcontainers], verbs: [patch]}]") + Rb("app", "debuggers", "Role", "debugger", User("dag")) +
            Role("app", "cron", "[{apiGroups: [batch], resources: [cronjobs], verbs: [patch]}]") + Rb("app", "crons", "Role", "cron", User("cato")) +
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: app}\nspec: {serviceAccountName: powerful, containers: [{name: c, image: x}]}\n---\n";
        Assert.Equal(["crons", "debuggers", "powerful", "updaters"], Findings(yaml, "rbac/create-pods"));
        var paths = Findings(yaml, "rbac/escalation-path");
        Assert.Equal(["crons", "debuggers", "updaters"], paths);

        var m = Model(yaml);
        var finder = new EscalationFinder(m, Scans.Load(yaml));
        var path = finder.Find(RbacSubject.Parse("user:dag"))!;
        Assert.Equal("can patch pods/ephemeralcontainers in app", path.Steps[0].Action);
        Assert.Equal(RbacSubject.Parse("sa:app/powerful"), path.Steps[0].To);
        Assert.Equal("can update deployments.apps in app", finder.Find(RbacSubject.Parse("user:ulla"))!.Steps[0].Action);
    }

    // 8. Before 1.35, get on pods/exec, attach and portforward is enough.
    [Fact]
    public void Defect8_ExecWithGet_DependsOnTheClusterVersion()
    {
        var yaml = Role("app", "peek", "[{apiGroups: [''], resources: [pods/exec, pods/portforward], verbs: [get]}]") + Rb("app", "peekers", "Role", "peek", User("pia"));
        Assert.Equal(["peekers"], Findings(yaml, "rbac/pod-exec", minor: 34));
        Assert.Equal(["peekers"], Findings(yaml, "rbac/pod-portforward", minor: 34));
        Assert.Empty(Findings(yaml, "rbac/pod-exec", minor: 35));
        Assert.Empty(Findings(yaml, "rbac/pod-portforward", minor: 35));

        // A snapshot says its own version.
        var snapshot = "apiVersion: skjold.io/v1alpha1\nkind: ClusterVersion\nmetadata: {name: cluster}\ngitVersion: v1.29.6\n---\n" + yaml;
        Assert.Equal(29, Model(snapshot, minor: 35).KubeMinor);
        Assert.Equal(["peekers"], Findings(snapshot, "rbac/pod-exec", minor: 35));
    }

    // 9. Deleting webhook configurations switches admission control off.
    [Fact]
    public void Defect9_DeletingWebhookConfigurations_IsWebhookWrite()
    {
        var yaml = Cr("remover", "[{apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], verbs: [delete]}]") + Crb("r", "remover", User("rolf")) +
            Cr("collector", "[{apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [deletecollection]}]") + Crb("c", "collector", User("cora"));
        Assert.Equal(["c", "r"], Findings(yaml, "rbac/webhook-write"));
    }

    // 10. The checks that were missing.
    [Fact]
    public void Defect10_NewChecks_FindWhatTheyDescribe()
    {
        var anonRead = Cr("lister", "[{apiGroups: [''], resources: [namespaces], verbs: [list]}]") + Crb("anon-list", "lister", Group("system:unauthenticated"));
        Assert.Equal(["anon-list"], Findings(anonRead, "rbac/anonymous-read"));
        Assert.Empty(Findings(anonRead, "rbac/anonymous-access"));
        Assert.Empty(Findings(Crb("system:public-info-viewer", "system:public-info-viewer", "[{kind: Group, name: 'system:authenticated'}, {kind: Group, name: 'system:unauthenticated'}]"), "rbac/anonymous-read"));

        var forward = Role("a", "fwd", "[{apiGroups: [''], resources: [pods/portforward], verbs: [create]}]") + Rb("a", "fwd", "Role", "fwd", User("f"));
        Assert.Equal(["fwd"], Findings(forward, "rbac/pod-portforward"));

        var events = Cr("ev", "[{apiGroups: [events.k8s.io], resources: [events], verbs: [deletecollection]}]") + Crb("ev", "ev", User("e"));
        Assert.Equal(["ev"], Findings(events, "rbac/events-delete"));

        var dns = Role("kube-system", "cm", "[{apiGroups: [''], resources: [configmaps], verbs: [patch]}]") + Rb("kube-system", "cm", "Role", "cm", User("d")) +
            Role("team", "cm", "[{apiGroups: [''], resources: [configmaps], verbs: [patch]}]") + Rb("team", "cm-team", "Role", "cm", User("d"));
        Assert.Equal(["cm"], Findings(dns, "rbac/kube-system-configmap-write"));

        var netpol = Cr("np", "[{apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [update]}]") +
            Crb("np-everywhere", "np", User("n")) +
            Rb("shop", "np-foreign", "ClusterRole", "np", "[{kind: ServiceAccount, name: ci, namespace: build}]") +
            Rb("shop", "np-own", "ClusterRole", "np", "[{kind: ServiceAccount, name: ci, namespace: shop}]");
        Assert.Equal(["np-everywhere", "np-foreign"], Findings(netpol, "rbac/netpol-write"));
    }

    // 11. Messages: grammar and the rule that grants.
    [Fact]
    public void Defect11_Messages_NameTheRuleInCorrectGrammar()
    {
        var one = new Scanner(Policy()).Scan(Scans.Load(Crb("x", "cluster-admin", User("mallory")))).Findings.Single(f => f.CheckId == "rbac/cluster-admin-binding");
        Assert.StartsWith("User mallory holds cluster-admin cluster-wide", one.Message, StringComparison.Ordinal);
        Assert.Contains("rule 0:", one.Message, StringComparison.Ordinal);
        var two = new Scanner(Policy()).Scan(Scans.Load(Crb("x", "cluster-admin", "[{kind: User, name: a}, {kind: User, name: b}]"))).Findings.Single(f => f.CheckId == "rbac/cluster-admin-binding");
        Assert.StartsWith("User a and User b hold cluster-admin", two.Message, StringComparison.Ordinal);
        var secrets = new Scanner(Policy()).Scan(Scans.Load(Role("a", "r", "[{apiGroups: [''], resources: [pods]}, {apiGroups: [''], resources: [secrets], verbs: [list]}]") + Rb("a", "b", "Role", "r", User("u"))))
            .Findings.Single(f => f.CheckId == "rbac/secrets-read");
        Assert.Contains("through Role r (rule 1: list on secrets)", secrets.Message, StringComparison.Ordinal);
    }

    // Issue 14, item 11: a ClusterRole with cluster-admin's rule is cluster-admin, whatever its name (Argo CD's controller).
    [Fact]
    public void ArgoCdController_HoldsTheEquivalentOfClusterAdmin()
    {
        var yaml = Cr("argocd-application-controller", "[{apiGroups: ['*'], resources: ['*'], verbs: ['*']}, {nonResourceURLs: ['*'], verbs: ['*']}]") +
            Crb("argocd-application-controller", "argocd-application-controller", "[{kind: ServiceAccount, name: argocd-application-controller, namespace: argocd}]");
        Assert.Equal(["argocd-application-controller"], Findings(yaml, "rbac/cluster-admin-binding"));
        var finding = new Scanner(Policy()).Scan(Scans.Load(yaml)).Findings.Single(f => f.CheckId == "rbac/cluster-admin-binding");
        Assert.Contains("the equivalent of cluster-admin (ClusterRole argocd-application-controller)", finding.Message, StringComparison.Ordinal);
    }

    // A request on one Namespace object is in that namespace (the API server's request-info parser reads
    // /api/v1/namespaces/NAME as namespace NAME): a RoleBinding there that grants a verb on namespaces
    // allows it on the namespace itself, and nothing else cluster-scoped.
    [Fact]
    public void RoleBindingOnNamespaces_GrantsItsOwnNamespaceObject_Only()
    {
        var yaml = Cr("ns-deleter", "[{apiGroups: [''], resources: [namespaces], verbs: [get, delete]}]")
            + Cr("ns-lister", "[{apiGroups: [''], resources: [namespaces], verbs: [list, create]}]")
            + Rb("shop", "ns-deleter", "ClusterRole", "ns-deleter", User("alice"))
            + Rb("shop", "ns-lister", "ClusterRole", "ns-lister", User("bob"))
            + Rb("shop", "admin-here", "ClusterRole", "cluster-admin", User("carol"))
            + Crb("ns-deleter-everywhere", "ns-deleter", User("dave"));
        var m = Model(yaml);

        // delete namespace shop: alice (RoleBinding in shop), carol (cluster-admin bound in shop), dave (everywhere).
        Assert.Equal(["User alice", "User carol", "User dave"], WhoCan(m, "delete", "namespaces", name: "shop").Where(s => s.StartsWith("User", StringComparison.Ordinal)));
        // delete namespace payments: only dave; alice's and carol's bindings are in shop.
        Assert.Equal(["User dave"], WhoCan(m, "delete", "namespaces", name: "payments").Where(s => s.StartsWith("User", StringComparison.Ordinal)));
        var request = m.Query("delete", "namespaces", name: "shop").Request;
        Assert.Equal("shop", request.Namespace);
        Assert.NotNull(m.Can(RbacSubject.Parse("user:alice"), "delete", "namespaces", name: "shop"));
        Assert.Null(m.Can(RbacSubject.Parse("user:alice"), "delete", "namespaces", name: "payments"));
        Assert.NotNull(m.Can(RbacSubject.Parse("user:carol"), "update", "namespaces", subresource: "finalize", name: "shop"));

        // list and create of namespaces never name one: only cluster-wide grants allow them.
        Assert.Null(m.Can(RbacSubject.Parse("user:bob"), "list", "namespaces", ns: "shop"));
        Assert.Null(m.Can(RbacSubject.Parse("user:bob"), "create", "namespaces", name: "shop"));
        Assert.DoesNotContain("User bob", WhoCan(m, "list", "namespaces"));

        // The grant of alice's rule is effective (own namespace); bob's rule can allow nothing.
        var alice = m.GrantsOf(RbacUser.Of(RbacSubject.Parse("user:alice"))).Single(g => g.RoleName == "ns-deleter");
        Assert.True(alice.CanAllowAnything(m.Api));
        var bob = m.GrantsOf(RbacUser.Of(RbacSubject.Parse("user:bob"))).Single(g => g.RoleName == "ns-lister");
        Assert.False(bob.CanAllowAnything(m.Api));

        // A -n that differs from the named namespace is answered for the name, with a warning.
        var mismatch = m.Query("delete", "namespaces", name: "shop", ns: "payments");
        Assert.Equal("shop", mismatch.Request.Namespace);
        Assert.Contains("is in namespace shop", mismatch.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void CanAllowAnything_RoleBindingRulesOnClusterScopedResourcesOrUrls_GrantNothing()
    {
        var yaml = Cr("nodes", "[{apiGroups: [''], resources: [nodes, persistentvolumes], verbs: ['*']}]")
            + Cr("urls", "[{nonResourceURLs: ['/metrics'], verbs: [get]}]")
            + Cr("wild", "[{apiGroups: [''], resources: ['*'], verbs: [get]}]")
            + Cr("crd", "[{apiGroups: [example.com], resources: [widgets], verbs: [get]}]")
            + Cr("sub", "[{apiGroups: [''], resources: [pods/log], verbs: [get]}]")
            + Rb("shop", "a", "ClusterRole", "nodes", User("a")) + Rb("shop", "b", "ClusterRole", "urls", User("b"))
            + Rb("shop", "c", "ClusterRole", "wild", User("c")) + Rb("shop", "d", "ClusterRole", "crd", User("d"))
            + Rb("shop", "e", "ClusterRole", "sub", User("e")) + Crb("f", "nodes", User("f"));
        var m = Model(yaml);
        bool Effective(string user) => m.GrantsOf(RbacUser.Of(RbacSubject.Parse("user:" + user))).Where(g => !g.RoleFromBootstrap).All(g => g.CanAllowAnything(m.Api));
        Assert.False(Effective("a")); // nodes and persistentvolumes are cluster-scoped
        Assert.False(Effective("b")); // a RoleBinding never grants a URL
        Assert.True(Effective("c"));  // '*' covers the namespace's resources
        Assert.True(Effective("d"));  // unknown to the input: may be namespaced
        Assert.True(Effective("e"));  // pods/log is a namespaced resource's subresource
        Assert.True(Effective("f"));  // cluster-wide
    }
}
