using Skjold.Engine.Network;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

/// <summary>
/// Calico and Cilium policies, each case with the answer Calico's and Cilium's documented
/// evaluation gives: tiers, order, Pass and end-of-tier deny for Calico; deny-first and the union
/// of allows, namespace-scoped endpoint selectors and entities for Cilium; and a diagnostic for
/// what is not modelled instead of answering as if it were absent.
/// </summary>
public sealed class CalicoCiliumPolicyTests
{
    private static string Pod(string ns, string name, string labels) => NetworkYaml.Pod(ns, name, labels);

    private static string Ns(string name, string labels = "") => NetworkYaml.Ns(name, labels);

    private static string K8s(string ns, string name, string spec) => NetworkYaml.Policy(ns, name, spec);

    private static string Gnp(string name, string spec) => NetworkYaml.ClusterPolicy("projectcalico.org/v3", "GlobalNetworkPolicy", name, spec);

    private static string CalicoNp(string ns, string name, string spec, string api = "projectcalico.org/v3") => NetworkYaml.Policy(ns, name, spec, api);

    private static string Cnp(string ns, string name, string spec) => NetworkYaml.Policy(ns, name, spec, "cilium.io/v2", "CiliumNetworkPolicy");

    private static string Ccnp(string name, string spec) => NetworkYaml.ClusterPolicy("cilium.io/v2", "CiliumClusterwideNetworkPolicy", name, spec);

    private static readonly string Base =
        Ns("shop", "team: shop") + Ns("ops", "team: ops") +
        Pod("shop", "web", "app: web") + Pod("shop", "db", "app: db") + Pod("shop", "bad", "app: bad") +
        Pod("ops", "backup", "app: backup") + Pod("ops", "web", "app: web");

    private static NetworkModel Model(string yaml) => NetworkModel.Build(Scans.Load(yaml));

    private static string Conn(NetworkModel m, string from, string to) => m.Allowed(m.Resolve(from).Single(), m.Resolve(to).Single()).ToString();

    private static string[] Findings(string yaml, string id) =>
        [.. Scans.Scan(yaml).Findings.Where(f => f.CheckId == id).Select(f => f.Resource.Name).Order(StringComparer.Ordinal)];

    private const string DenyAll = "{selector: all(), types: [Ingress, Egress]}";

    [Fact]
    public void CalicoGlobalDefaultDeny_DeniesAndCountsAsTheNamespacesDefaultDeny()
    {
        var open = Model(Base);
        Assert.Equal("All Connections", Conn(open, "shop/web", "shop/db"));
        Assert.Equal(["ops", "shop"], Findings(Base, "netpol/namespace-default-deny"));

        var yaml = Base + Gnp("default-deny", DenyAll);
        var m = Model(yaml);
        Assert.Equal("No Connections", Conn(m, "shop/web", "shop/db"));
        Assert.Equal("No Connections", Conn(m, "ops/backup", "shop/db"));
        Assert.Empty(m.External(m.Resolve("shop/db").Single(), egress: false));
        Assert.Empty(Findings(yaml, "netpol/namespace-default-deny"));
        Assert.Empty(Findings(yaml, "netpol/workload-unselected"));
        Assert.Equal(["backup", "bad", "db", "web", "web"], Findings(yaml, "netpol/egress-blocks-dns"));
    }

    [Fact]
    public void CalicoTiers_PassHandsOnToTheNextTier_AndAnUndecidedTierDenies()
    {
        var tier = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\nspec: {order: 100}\n---\n";
        var security = Gnp("security.block-bad", "{tier: security, order: 10, selector: all(), types: [Ingress], ingress: [{action: Deny, source: {selector: app == 'bad'}}, {action: Pass}]}");
        var allowDb = K8s("shop", "db-from-shop", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {}}]}]}");
        var m = Model(Base + tier + security + allowDb);
        Assert.Equal("All Connections", Conn(m, "shop/web", "shop/db")); // passed, then allowed by the Kubernetes policy
        Assert.Equal("No Connections", Conn(m, "shop/bad", "shop/db")); // denied in the security tier, whatever the default tier says
        Assert.Equal("No Connections", Conn(m, "ops/backup", "shop/db")); // passed, then denied at the end of the default tier
        Assert.Equal("All Connections", Conn(m, "shop/web", "ops/backup")); // passed, no policy of the default tier applies: profile allows
        Assert.Equal("No Connections", Conn(m, "shop/bad", "ops/backup"));

        // A tier that passes everything is not a default deny.
        var yaml = Base + tier + security;
        Assert.Equal(["ops", "shop"], Findings(yaml, "netpol/namespace-default-deny"));
        Assert.Contains("pass it on", Scans.Scan(yaml).Findings.First(f => f.CheckId == "netpol/namespace-default-deny").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CalicoOrder_FirstMatchingRuleWins()
    {
        var m = Model(Base +
            CalicoNp("shop", "allow-all", "{order: 20, selector: app == 'db', ingress: [{action: Allow}]}") +
            CalicoNp("shop", "no-postgres-from-web", "{order: 10, selector: app == 'db', ingress: [{action: Deny, protocol: TCP, source: {selector: app == 'web'}, destination: {ports: [5432, '6000:6010']}}]}"));
        var allowed = m.Allowed(m.Resolve("shop/web").Single(), m.Resolve("shop/db").Single());
        Assert.False(allowed.Contains("TCP", 5432));
        Assert.False(allowed.Contains("TCP", 6005));
        Assert.True(allowed.Contains("TCP", 80));
        Assert.True(allowed.Contains("UDP", 5432));
        Assert.Equal("All Connections", Conn(m, "ops/web", "shop/db")); // the deny's selector is scoped to the policy's namespace
    }

    [Fact]
    public void CalicoSelectors_NamespaceSelectorAndTypesDefaulting()
    {
        // GlobalNetworkPolicy narrowed to one namespace; only egress rules, so only egress is isolated.
        var yaml = Base + Gnp("shop-egress", "{namespaceSelector: kubernetes.io/metadata.name == 'shop', egress: [{action: Allow, destination: {namespaceSelector: team == 'ops', selector: \"has(app) && app in {'backup'}\"}}]}");
        var m = Model(yaml);
        Assert.Equal("All Connections", Conn(m, "shop/web", "ops/backup"));
        Assert.Equal("No Connections", Conn(m, "shop/web", "ops/web"));
        Assert.Equal("No Connections", Conn(m, "shop/web", "shop/db"));
        Assert.Equal("All Connections", Conn(m, "ops/web", "shop/db")); // ops is not selected; shop's ingress is not isolated
        Assert.Equal(["ops", "shop"], Findings(yaml, "netpol/namespace-default-deny"));
        Assert.Contains("for ingress:", Scans.Scan(yaml).Findings.Single(f => f.CheckId == "netpol/namespace-default-deny" && f.Resource.Name == "shop").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("all()", "app=web", true)]
    [InlineData("", "app=web", true)]
    [InlineData("app == 'web'", "app=web", true)]
    [InlineData("app != 'web'", "", true)]
    [InlineData("app != 'web'", "app=web", false)]
    [InlineData("app in {'a', \"web\"}", "app=web", true)]
    [InlineData("app not in {'a'}", "", true)]
    [InlineData("has(app) && !has(tier)", "app=web", true)]
    [InlineData("!(has(app) || has(tier))", "app=web", false)]
    [InlineData("app starts with 'we' && app ends with 'eb' && app contains 'e'", "app=web", true)]
    [InlineData("has(app) && env == 'prod' || tier == 'x'", "app=web,tier=x", true)]
    [InlineData("has(app) && (env == 'prod' || tier == 'y')", "app=web,tier=x", false)]
    [InlineData("has == 'x'", "has=x", true)]
    [InlineData("global()", "app=web", false)]
    public void CalicoSelectorExpressions(string expression, string labels, bool expected)
    {
        var selector = CalicoSelector.Parse(expression, out var error);
        Assert.Null(error);
        var map = labels.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=')).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(expected, selector!.Matches(map));
    }

    [Theory]
    [InlineData("app == 'web")]
    [InlineData("app ==")]
    [InlineData("app === 'x'")]
    [InlineData("(app == 'x'")]
    [InlineData("app like 'x'")]
    public void CalicoSelectorErrors_AreRejectedWithAReason(string expression)
    {
        Assert.Null(CalicoSelector.Parse(expression, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void CalicoSelector_DeepNestingIsBounded()
    {
        var deep = new string('(', 100_000) + "all()" + new string(')', 100_000);
        Assert.Null(CalicoSelector.Parse(deep, out var error));
        Assert.Contains("longer than", error, StringComparison.Ordinal);
        var nested = new string('!', 5000) + "all()";
        Assert.Null(CalicoSelector.Parse(nested, out error));
        Assert.Contains("deeper", error, StringComparison.Ordinal);
    }

    [Fact]
    public void CalicoNets_MatchPodsByTheClustersPodRanges_AndNetworkSetsBySelector()
    {
        var node = "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {podCIDR: 10.244.0.0/24}\n---\n";
        var denyPrivate = Gnp("no-private", "{selector: app == 'web', types: [Egress], egress: [{action: Deny, destination: {nets: [10.0.0.0/8]}}, {action: Allow}]}");
        var known = Model(Base + node + denyPrivate);
        Assert.Equal("No Connections", Conn(known, "shop/web", "shop/db")); // pods are in 10.244.0.0/24, inside the denied range
        var unknown = Model(Base + denyPrivate);
        Assert.Equal("All Connections", Conn(unknown, "shop/web", "shop/db")); // pod addresses unknown: a deny counts only where it surely matches
        Assert.Contains(unknown.External(unknown.Resolve("shop/web").Single(), egress: true), r => NetworkModel.FormatRange(r.Lo, r.Hi) == "11.0.0.0-255.255.255.255");

        var set = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: partners, labels: {role: partner}}\nspec: {nets: [203.0.113.0/24]}\n---\n";
        var m = Model(Base + set + Gnp("web-out", "{selector: app == 'web', types: [Egress], egress: [{action: Allow, destination: {selector: role == 'partner'}}]}"));
        var ranges = m.External(m.Resolve("shop/web").Single(), egress: true).Select(r => NetworkModel.FormatRange(r.Lo, r.Hi)).ToList();
        Assert.Equal(["203.0.113.0-203.0.113.255"], ranges);
        Assert.Equal("No Connections", Conn(m, "shop/web", "shop/db"));
    }

    [Fact]
    public void CalicoOpenRulesAndUnmodelledParts_AreReported()
    {
        var yaml = Base +
            CalicoNp("shop", "open", "{selector: app == 'db', ingress: [{action: Allow}], egress: [{action: Allow, destination: {nets: [0.0.0.0/0]}}]}") +
            CalicoNp("shop", "l7", "{selector: app == 'web', ingress: [{action: Allow, http: {methods: [GET]}}, {source: {selector: all()}}]}") +
            "apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata: {name: try}\nspec: {selector: all()}\n---\n";
        var result = Scans.Scan(yaml);
        Assert.Contains(result.Findings, f => f.CheckId == "netpol/ingress-from-anywhere" && f.Resource.Name == "open");
        Assert.Contains(result.Findings, f => f.CheckId == "netpol/egress-to-anywhere" && f.Resource.Name == "open" && f.Message.Contains("0.0.0.0/0", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Code == "netpol-not-modelled" && d.Message.Contains("HTTP", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Code == "netpol-not-modelled" && d.Message.Contains("no valid action", StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Code == "netpol-not-modelled" && d.Message.Contains("staged", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Diagnostics, d => d.Level == Skjold.Engine.Model.DiagnosticLevel.Error);
        var m = Model(yaml);
        Assert.Equal("All Connections", Conn(m, "shop/db", "shop/web")); // the HTTP rule counts as allowing
    }

    [Fact]
    public void CiliumClusterwideDefaultDeny_WithDnsAllowed()
    {
        var dns = Ns("kube-system") + Pod("kube-system", "coredns", "k8s-app: kube-dns");
        var ccnp = Ccnp("default-deny", """
            {endpointSelector: {matchExpressions: [{key: io.kubernetes.pod.namespace, operator: NotIn, values: [kube-system]}]},
             egress: [{toEndpoints: [{matchLabels: {'k8s:io.kubernetes.pod.namespace': kube-system, 'k8s:k8s-app': kube-dns}}], toPorts: [{ports: [{port: '53', protocol: UDP}], rules: {dns: [{matchPattern: '*'}]}}]}]}
            """);
        var yaml = Base + dns + ccnp;
        var m = Model(yaml);
        Assert.Equal("UDP 53", Conn(m, "shop/web", "kube-system/coredns"));
        Assert.Equal("No Connections", Conn(m, "shop/web", "shop/db")); // egress default deny
        Assert.Equal("All Connections", Conn(m, "kube-system/coredns", "shop/db")); // ingress is not isolated
        Assert.Empty(m.External(m.Resolve("shop/web").Single(), egress: true));

        var result = Scans.Scan(yaml);
        Assert.DoesNotContain(result.Findings, f => f.CheckId == "netpol/egress-blocks-dns");
        var defaultDeny = result.Findings.Where(f => f.CheckId == "netpol/namespace-default-deny").ToList();
        Assert.Equal(["ops", "shop"], defaultDeny.Select(f => f.Resource.Name).Order(StringComparer.Ordinal));
        Assert.All(defaultDeny, f => Assert.Contains("no default deny for ingress:", f.Message, StringComparison.Ordinal));
        Assert.Contains(result.Diagnostics, d => d.Message.Contains("L7 rules (dns)", StringComparison.Ordinal));
    }

    [Fact]
    public void CiliumEndpointSelectors_StayInThePolicysNamespaceUnlessTheyNameOne()
    {
        var same = Model(Base + Cnp("shop", "db", "{endpointSelector: {matchLabels: {app: db}}, ingress: [{fromEndpoints: [{matchLabels: {app: web}}]}]}"));
        Assert.Equal("All Connections", Conn(same, "shop/web", "shop/db"));
        Assert.Equal("No Connections", Conn(same, "ops/web", "shop/db"));

        var other = Model(Base + Cnp("shop", "db", "{endpointSelector: {matchLabels: {app: db}}, ingress: [{fromEndpoints: [{matchLabels: {app: web, 'k8s:io.kubernetes.pod.namespace': ops}}]}]}"));
        Assert.Equal("No Connections", Conn(other, "shop/web", "shop/db"));
        Assert.Equal("All Connections", Conn(other, "ops/web", "shop/db"));

        var byNamespaceLabel = Model(Base + Ccnp("db", "{endpointSelector: {matchLabels: {app: db}}, ingress: [{fromEndpoints: [{matchLabels: {io.cilium.k8s.namespace.labels.team: ops}}]}]}"));
        Assert.Equal("All Connections", Conn(byNamespaceLabel, "ops/backup", "shop/db"));
        Assert.Equal("No Connections", Conn(byNamespaceLabel, "shop/web", "shop/db"));
    }

    [Fact]
    public void CiliumDenyWinsOverEveryAllow_EmptyRuleAllowsNothing_PortsOnlyAllowsEveryPeer()
    {
        var deny = Model(Base + K8s("shop", "allow-all", "{podSelector: {}, ingress: [{}]}") +
            Cnp("shop", "no-pg", "{endpointSelector: {matchLabels: {app: db}}, ingressDeny: [{fromEndpoints: [{matchLabels: {app: web}}], toPorts: [{ports: [{port: '5432', protocol: TCP}]}]}]}"));
        var allowed = deny.Allowed(deny.Resolve("shop/web").Single(), deny.Resolve("shop/db").Single());
        Assert.False(allowed.Contains("TCP", 5432));
        Assert.True(allowed.Contains("TCP", 5433));
        Assert.Equal("All Connections", Conn(deny, "shop/bad", "shop/db"));

        var empty = Model(Base + Cnp("shop", "deny-in", "{endpointSelector: {}, ingress: [{}]}"));
        Assert.Equal("No Connections", Conn(empty, "shop/web", "shop/db"));
        Assert.Empty(empty.External(empty.Resolve("shop/db").Single(), egress: false));

        var ports = Model(Base + Cnp("shop", "https", "{endpointSelector: {matchLabels: {app: db}}, ingress: [{toPorts: [{ports: [{port: '443'}]}]}]}"));
        Assert.Equal("SCTP 443,TCP 443,UDP 443", Conn(ports, "ops/backup", "shop/db"));
        Assert.Equal("SCTP 443,TCP 443,UDP 443", ports.External(ports.Resolve("shop/db").Single(), egress: false).Single().Connections.ToString());
    }

    [Fact]
    public void CiliumEntitiesAndDefaultDenySwitch()
    {
        var yaml = Base + Cnp("shop", "public", "{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEntities: [world], toPorts: [{ports: [{port: '443', protocol: TCP}]}]}]}");
        var m = Model(yaml);
        Assert.Equal("TCP 443", m.External(m.Resolve("shop/web").Single(), egress: false).Single().Connections.ToString());
        Assert.Equal("No Connections", Conn(m, "shop/db", "shop/web")); // world is outside the cluster
        Assert.Contains(Scans.Scan(yaml).Findings, f => f.CheckId == "netpol/ingress-from-anywhere" && f.Message.Contains("world", StringComparison.Ordinal));

        var cluster = Model(Base + Cnp("shop", "in-cluster", "{endpointSelector: {matchLabels: {app: web}}, ingress: [{fromEntities: [cluster]}]}"));
        Assert.Equal("All Connections", Conn(cluster, "ops/backup", "shop/web"));
        Assert.Empty(cluster.External(cluster.Resolve("shop/web").Single(), egress: false));

        // enableDefaultDeny false: the policy adds allows but isolates nothing.
        var soft = Model(Base + Cnp("shop", "soft", "{endpointSelector: {matchLabels: {app: web}}, enableDefaultDeny: {ingress: false}, ingress: [{fromEntities: [cluster]}]}"));
        Assert.Single(soft.External(soft.Resolve("shop/web").Single(), egress: false));
    }

    [Fact]
    public void PolicyKindsThatAreNotModelled_GetADiagnostic()
    {
        var yaml = Base +
            "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 10, subject: {namespaces: {}}, ingress: [{action: Deny, from: [{namespaces: {}}]}]}\n---\n" +
            "apiVersion: crd.antrea.io/v1beta1\nkind: ClusterNetworkPolicy\nmetadata: {name: b}\nspec: {}\n---\n" +
            Cnp("shop", "fqdn", "{endpointSelector: {matchLabels: {app: web}}, egress: [{toFQDNs: [{matchName: api.example.com}]}]}") +
            "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: host, namespace: shop}\nspec: {nodeSelector: {}, ingress: [{}]}\n---\n";
        var result = Scans.Scan(yaml);
        var notes = result.Diagnostics.Where(d => d.Code == "netpol-not-modelled").Select(d => d.Message).ToList();
        Assert.Contains(notes, n => n.Contains("AdminNetworkPolicy", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("crd.antrea.io", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("toFQDNs", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("host policy", StringComparison.Ordinal));
        var m = Model(yaml);
        Assert.Contains(m.External(m.Resolve("shop/web").Single(), egress: true), r => r.Connections.IsAll); // the FQDN rule counts as allowing
    }

    [Fact]
    public void DefaultDenyMessage_SaysWhatWasChecked()
    {
        var none = Scans.Scan(Base).Findings.Single(f => f.CheckId == "netpol/namespace-default-deny" && f.Resource.Name == "shop");
        Assert.Contains("no network policy applies to it", none.Message, StringComparison.Ordinal);

        var some = Base + K8s("shop", "web", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress, Egress]}");
        var partial = Scans.Scan(some).Findings.Single(f => f.CheckId == "netpol/namespace-default-deny" && f.Resource.Name == "shop");
        Assert.Contains("no policy selects every pod", partial.Message, StringComparison.Ordinal);
        Assert.Contains("1 of its 3 workloads", partial.Message, StringComparison.Ordinal);

        var allowAll = Base + K8s("shop", "all", "{podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{}]}");
        var open = Scans.Scan(allowAll).Findings.Single(f => f.CheckId == "netpol/namespace-default-deny" && f.Resource.Name == "shop");
        Assert.Contains("allow all ingress and egress traffic", open.Message, StringComparison.Ordinal);

        var crdV1 = Base + CalicoNp("shop", "deny", DenyAll, api: "crd.projectcalico.org/v1");
        Assert.Equal(["ops"], Findings(crdV1, "netpol/namespace-default-deny"));
    }
}
