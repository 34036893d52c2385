using Skjold.Engine.Network;
using Skjold.TestSupport;

namespace Skjold.Engine.Tests;

/// <summary>NetworkPolicy semantics on small hand-built clusters where the answer follows from the Kubernetes documentation.</summary>
public sealed class NetworkPolicyTests
{
    private static string Pod(string ns, string name, string labels, string extra = "") =>
        NetworkYaml.Pod(ns, name, labels, extra, NetworkYaml.HttpPort + ", {name: dns, containerPort: 5353, protocol: UDP}");

    private static string Ns(string name, string labels = "") => NetworkYaml.Ns(name, labels);

    private static string Policy(string ns, string name, string spec) => NetworkYaml.Policy(ns, name, spec);

    private static NetworkModel Model(string yaml) => NetworkModel.Build(Scans.Load(yaml));

    private static string Conn(NetworkModel m, string from, string to) => m.Allowed(m.Resolve(from).Single(), m.Resolve(to).Single()).ToString();

    private static readonly string Base =
        Ns("shop", "team: shop") + Ns("ops", "team: ops") +
        Pod("shop", "web", "app: web") + Pod("shop", "api", "app: api") + Pod("shop", "db", "app: db") +
        Pod("ops", "prometheus", "app: prometheus") + Pod("ops", "backup", "app: backup");

    [Fact]
    public void WithoutPolicies_EverythingIsAllowed()
    {
        var m = Model(Base);
        Assert.Equal("All Connections", Conn(m, "shop/web", "shop/db"));
        Assert.Equal("All Connections", Conn(m, "ops/backup", "shop/db"));
        var external = m.External(m.Resolve("shop/db").Single(), egress: false);
        Assert.Equal(("0.0.0.0-255.255.255.255", "All Connections"), (NetworkModel.FormatRange(external[0].Lo, external[0].Hi), external[0].Connections.ToString()));
    }

    [Fact]
    public void DefaultDenyIngress_IsolatesOnlyIngress()
    {
        var m = Model(Base + Policy("shop", "deny", "{podSelector: {}, policyTypes: [Ingress]}"));
        Assert.Equal("No Connections", Conn(m, "shop/web", "shop/db"));
        Assert.Equal("No Connections", Conn(m, "ops/backup", "shop/db"));
        Assert.Equal("All Connections", Conn(m, "shop/db", "ops/backup")); // egress untouched
        Assert.Empty(m.External(m.Resolve("shop/db").Single(), egress: false));
    }

    [Fact]
    public void PodAndNamespaceSelectorInOnePeer_MustBothMatch_SeparatePeersAreAlternatives()
    {
        var and = Model(Base + Policy("shop", "db", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}, podSelector: {matchLabels: {app: backup}}}]}]}"));
        Assert.Equal("All Connections", Conn(and, "ops/backup", "shop/db"));
        Assert.Equal("No Connections", Conn(and, "ops/prometheus", "shop/db"));
        Assert.Equal("No Connections", Conn(and, "shop/api", "shop/db")); // backup label, but wrong namespace

        var or = Model(Base + Policy("shop", "db", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}}, {podSelector: {matchLabels: {app: api}}}]}]}"));
        Assert.Equal("All Connections", Conn(or, "ops/prometheus", "shop/db"));
        Assert.Equal("All Connections", Conn(or, "shop/api", "shop/db"));
        Assert.Equal("No Connections", Conn(or, "shop/web", "shop/db"));
    }

    [Fact]
    public void MatchExpressionsAndTheNamespaceNameLabel()
    {
        var m = Model(Base + Policy("shop", "db", "{podSelector: {matchExpressions: [{key: app, operator: In, values: [db, api]}]}, ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}, podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [backup]}]}}]}]}"));
        Assert.Equal("All Connections", Conn(m, "ops/prometheus", "shop/api"));
        Assert.Equal("No Connections", Conn(m, "ops/backup", "shop/db"));
        Assert.Equal("All Connections", Conn(m, "ops/backup", "shop/web")); // web is not selected
    }

    [Fact]
    public void Ports_NumbersRangesNamesAndProtocols()
    {
        var m = Model(Base + Policy("shop", "api", "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{podSelector: {}}], ports: [{port: http}, {port: 9000, endPort: 9100}, {port: dns, protocol: UDP}, {protocol: SCTP}]}]}"));
        Assert.Equal("SCTP 1-65535,TCP 8080,9000-9100,UDP 5353", Conn(m, "shop/web", "shop/api"));
        var reach = m.Reach(m.Resolve("shop/web").Single(), m.Resolve("shop/api").Single());
        Assert.True(reach.Allowed.Contains("TCP", 9050));
        Assert.False(reach.Allowed.Contains("TCP", 9101));
        Assert.False(reach.Allowed.Contains("UDP", 8080));
        Assert.Equal(["shop/api"], reach.IngressPolicies);
        Assert.Empty(reach.EgressPolicies);
    }

    [Fact]
    public void UnionOfPoliciesAndIntersectionOfEgressWithIngress()
    {
        var m = Model(Base +
            Policy("shop", "a", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 5432}]}]}") +
            Policy("shop", "b", "{podSelector: {matchLabels: {app: db}}, ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 6432}]}]}") +
            Policy("shop", "c", "{podSelector: {matchLabels: {app: api}}, egress: [{to: [{podSelector: {matchLabels: {app: db}}}], ports: [{port: 6432}, {port: 7000}]}]}"));
        Assert.Equal("TCP 6432", Conn(m, "shop/api", "shop/db"));
        Assert.Equal("No Connections", Conn(m, "shop/api", "shop/web")); // api is egress-isolated by c (egress rules imply Egress)
    }

    [Fact]
    public void PolicyTypesDefaults()
    {
        // An empty egress list does not make the policy an egress policy.
        var m = Model(Base + Policy("shop", "p", "{podSelector: {matchLabels: {app: web}}, ingress: [], egress: []}"));
        Assert.Equal("All Connections", Conn(m, "shop/web", "ops/backup"));
        Assert.Equal("No Connections", Conn(m, "shop/api", "shop/web"));
        // Explicit Egress with no rules denies all egress.
        var e = Model(Base + Policy("shop", "p", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress]}"));
        Assert.Equal("No Connections", Conn(e, "shop/web", "ops/backup"));
        Assert.Equal("All Connections", Conn(e, "shop/api", "shop/web"));
    }

    [Fact]
    public void IpBlocks_ExceptAndTheAddressRangesOutsideTheCluster()
    {
        var m = Model(Base + Policy("shop", "out", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}], ports: [{port: 443}]}]}"));
        var web = m.Resolve("shop/web").Single();
        var ranges = m.External(web, egress: true).Select(r => $"{NetworkModel.FormatRange(r.Lo, r.Hi)} {r.Connections}").ToList();
        Assert.Equal(["10.0.0.0-10.0.255.255 TCP 443", "10.2.0.0-10.255.255.255 TCP 443"], ranges);
        Assert.Equal("No Connections", Conn(m, "shop/web", "shop/api")); // an IP block does not match pods

        // Other pods are not egress-isolated: all addresses, in the ranges the blocks cut the space into.
        var api = m.External(m.Resolve("shop/api").Single(), egress: true);
        Assert.Equal(5, api.Count);
        Assert.All(api, r => Assert.True(r.Connections.IsAll));
    }

    [Fact]
    public void HostNetworkPods_AreOutsideNetworkPolicy()
    {
        var yaml = Base + Pod("shop", "node-agent", "app: agent", "hostNetwork: true, ") + Policy("shop", "deny", "{podSelector: {}, policyTypes: [Ingress, Egress]}");
        var m = Model(yaml);
        Assert.Equal("All Connections", Conn(m, "shop/node-agent", "ops/backup"));
        Assert.Equal("No Connections", Conn(m, "shop/web", "ops/backup"));
        var strict = NetworkModel.Build(Scans.Load(yaml), hostNetworkOutsidePolicy: false);
        Assert.Equal("No Connections", Conn(strict, "shop/node-agent", "ops/backup"));
    }

    [Fact]
    public void WorkloadsStandForTheirPods()
    {
        var yaml = Ns("shop") + """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: shop}
            spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: 'r/a:1'}]}}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-abc-1, namespace: shop, labels: {app: web}, ownerReferences: [{kind: ReplicaSet, name: web-abc, controller: true}]}
            spec: {containers: [{name: c, image: 'r/a:1'}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web-abc-2, namespace: shop, labels: {app: web}, ownerReferences: [{kind: ReplicaSet, name: web-abc, controller: true}]}
            spec: {containers: [{name: c, image: 'r/a:1'}]}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: etcd-node1, namespace: shop, labels: {tier: control-plane}, ownerReferences: [{kind: Node, name: node1, controller: true}]}
            spec: {containers: [{name: c, image: 'r/a:1'}]}
            """;
        var ids = Model(yaml).Workloads.Select(w => w.Id).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["shop/etcd-node1[Pod]", "shop/web-abc[ReplicaSet]", "shop/web[Deployment]"], ids);
    }

    [Fact]
    public void Findings_DefaultDenyUnselectedNothingSelectedDnsAndOpenRules()
    {
        var yaml = Base + Ns("kube-system") +
            Policy("shop", "deny-in", "{podSelector: {}, policyTypes: [Ingress]}") +
            Policy("shop", "web-out", "{podSelector: {matchLabels: {app: web}}, policyTypes: [Egress], egress: [{to: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 8080}]}]}") +
            Policy("shop", "typo", "{podSelector: {matchLabels: {app: dbb}}, ingress: [{}]}") +
            Policy("shop", "public", "{podSelector: {matchLabels: {app: api}}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}") +
            Policy("ops", "prom", "{podSelector: {matchLabels: {app: prometheus}}, policyTypes: [Ingress, Egress], egress: [{to: [{namespaceSelector: {}}], ports: [{port: 53, protocol: UDP}]}, {to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]}");
        var result = Scans.Scan(yaml);
        string[] Of(string id) => [.. result.Findings.Where(f => f.CheckId == id).Select(f => f.Resource.Name).Order(StringComparer.Ordinal)];

        Assert.Equal(["ops", "shop"], Of("netpol/namespace-default-deny")); // shop lacks egress isolation, ops both
        Assert.Equal(["backup"], Of("netpol/workload-unselected"));
        Assert.Equal(["typo"], Of("netpol/selects-nothing"));
        Assert.Equal(["web"], Of("netpol/egress-blocks-dns"));
        Assert.Equal(["public", "typo"], Of("netpol/ingress-from-anywhere"));
        Assert.Equal(["prom"], Of("netpol/egress-to-anywhere"));
        Assert.Contains("minus the excepted ranges", result.Findings.Single(f => f.CheckId == "netpol/egress-to-anywhere").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionSets_PrintLikeTheConnectivityList()
    {
        var set = ConnectionSet.Of("UDP", 53, 53).Union(ConnectionSet.Of("TCP", 80, 80)).Union(ConnectionSet.Of("TCP", 81, 90)).Union(ConnectionSet.Of("TCP", 443, 443));
        Assert.Equal("TCP 80-90,443,UDP 53", set.ToString());
        Assert.Equal("TCP 85-90", set.Intersect(ConnectionSet.Of("TCP", 85, 100)).ToString());
        Assert.True(ConnectionSet.AllOf("TCP").Union(ConnectionSet.AllOf("UDP")).Union(ConnectionSet.AllOf("SCTP")).IsAll);
    }
}
