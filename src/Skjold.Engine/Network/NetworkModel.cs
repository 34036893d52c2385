using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Network;

/// <summary>A container port with a name, for resolving named ports in policies.</summary>
public sealed record NamedPort(string Name, int Port, string Protocol);

/// <summary>
/// A set of pods that share labels and ports: a workload (Deployment, StatefulSet, DaemonSet,
/// ReplicaSet, Job, CronJob, ReplicationController) or a pod without one. Policies select pods by
/// labels, so one representative stands for all replicas.
/// </summary>
public sealed record NetworkWorkload(string Namespace, string Name, string Kind, IReadOnlyDictionary<string, string> Labels,
    IReadOnlyList<NamedPort> Ports, Resource Resource, bool HostNetwork)
{
    public string Id => $"{Namespace}/{Name}[{Kind}]";

    /// <summary>The pods' service account (Calico and Cilium select by it).</summary>
    public string ServiceAccount { get; init; } = "default";

    public override string ToString() => Id;
}

/// <summary>Something in the input the model does not capture, said instead of answering as if it were absent.</summary>
public sealed record NetworkNote(Resource Resource, string Path, string Message);

/// <summary>What decides a connection: the policies on each side and which of their rules allow or deny it.</summary>
public sealed record ReachAnswer(
    ConnectionSet Allowed,
    ConnectionSet EgressAllowed,
    ConnectionSet IngressAllowed,
    IReadOnlyList<string> EgressPolicies,
    IReadOnlyList<string> IngressPolicies,
    IReadOnlyList<string> EgressAllowedBy,
    IReadOnlyList<string> IngressAllowedBy)
{
    public IReadOnlyList<string> EgressDeniedBy { get; init; } = [];

    public IReadOnlyList<string> IngressDeniedBy { get; init; } = [];
}

/// <summary>
/// The cluster's connectivity under network policy. Kubernetes NetworkPolicy (networking.k8s.io/v1)
/// as Kubernetes defines it: a pod is isolated for a direction when a policy selects it for that
/// direction, and then only the union of those policies' rules is allowed; a connection needs the
/// source's egress and the destination's ingress. Calico NetworkPolicy and GlobalNetworkPolicy
/// (projectcalico.org/v3, crd.projectcalico.org/v1) as Calico evaluates them: tiers in order, in
/// each tier the policies that apply in order and their rules first match first (Allow, Deny,
/// Pass to the next tier, Log), what a tier that applies leaves undecided denied (or passed, by the
/// tier's defaultAction), and after the last tier the namespace profile, which allows; Kubernetes
/// policies sit in the default tier at order 1000. Cilium CiliumNetworkPolicy and
/// CiliumClusterwideNetworkPolicy (cilium.io/v2) as Cilium does: deny rules first, whichever policy
/// holds them, then the union of allow rules, for endpoints that a policy with rules in that
/// direction (or enableDefaultDeny) puts in default deny. Peers by labels, namespaces, entities,
/// CIDRs (for addresses outside the cluster) and Calico network sets; ports by number, range or
/// name. L7, DNS names and the like are not modelled: such a condition is taken as matching for
/// allow rules and not for deny rules (the answer may say ALLOWED where the cluster denies, never
/// the reverse), and a note says so. Pods on the host network are outside pod policy. Built once;
/// queries do not touch the resources.
/// </summary>
public sealed partial class NetworkModel
{
    public const string DefaultTier = "default";
    internal const string NamespaceNameLabel = "kubernetes.io/metadata.name";

    /// <summary>A namespace name no real namespace can have (not a DNS label): the probes' peers live there.</summary>
    private const string ProbeNamespace = "~probe";

    private readonly Dictionary<string, Dictionary<string, string>> _namespaces = new(StringComparer.Ordinal);
    private readonly List<NetworkWorkload> _workloads = [];
    private readonly List<NetworkPolicyInfo> _policies = [];
    private readonly List<NetworkNote> _notes = [];
    private readonly Dictionary<NetworkWorkload, (Plan Ingress, Plan Egress)> _plans = [];
    private readonly Dictionary<string, NetworkWorkload> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double? Order, bool DefaultPass)> _tiers = new(StringComparer.Ordinal);
    private readonly Dictionary<NetworkWorkload, Dictionary<string, string>> _calicoLabels = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<NetworkWorkload, Dictionary<string, string>> _ciliumLabels = new(ReferenceEqualityComparer.Instance);
    private uint[] _ingressBoundaries = [];
    private uint[] _egressBoundaries = [];

    private NetworkModel()
    {
    }

    public IReadOnlyList<NetworkWorkload> Workloads => _workloads;

    public IReadOnlyList<NetworkPolicyInfo> Policies => _policies;

    public IReadOnlyCollection<string> Namespaces => _namespaces.Keys;

    /// <summary>Policies, rules and kinds the model does not capture, with where they are.</summary>
    public IReadOnlyList<NetworkNote> Notes => _notes;

    /// <summary>True when Calico policies are in the input: Kubernetes policies then sit in Calico's default tier at order 1000.</summary>
    public bool HasCalico { get; private set; }

    internal List<NetworkSet> NetworkSets { get; } = [];

    internal Dictionary<(string Namespace, string Name), (LabelSelector? Selector, Resource Resource)> Services { get; } = [];

    internal Dictionary<(string Namespace, string Name), Dictionary<string, string>> ServiceAccountLabels { get; } = [];

    /// <summary>Address ranges of pods (nodes' podCIDRs, Calico IP pools); private ranges when the input has none.</summary>
    internal List<(uint Lo, uint Hi)> PodRanges { get; } = [];

    /// <param name="resources">Pods or workloads, namespaces and network policies.</param>
    /// <param name="index">The scan's index, if one is already built.</param>
    /// <param name="hostNetworkOutsidePolicy">
    /// True (Kubernetes' behaviour with common plugins): pods on the host network are not isolated by
    /// NetworkPolicy. False treats them like other pods, as some analysers do.
    /// </param>
    public static NetworkModel Build(IReadOnlyList<Resource> resources, ResourceIndex? index = null, bool hostNetworkOutsidePolicy = true)
    {
        index ??= new ResourceIndex(resources);
        var model = new NetworkModel();
        foreach (var r in resources)
        {
            if (r.Kind == "Namespace")
            {
                var labels = ReadLabels(Json.Get(Json.Get(r.Root, "metadata"u8), "labels"u8));
                labels[NamespaceNameLabel] = r.Ref.Name;
                model._namespaces[r.Ref.Name] = labels;
            }
        }

        foreach (var r in resources)
        {
            switch (GroupOf(r))
            {
                case "projectcalico.org" or "crd.projectcalico.org":
                    model.ReadCalicoSupport(r);
                    break;
                case "cilium.io":
                    model.ReadCiliumSupport(r);
                    break;
            }
        }

        var unmodelled = new Dictionary<string, List<Resource>>(StringComparer.Ordinal);
        foreach (var r in resources)
        {
            var group = GroupOf(r);
            if (r.Kind == "NetworkPolicy" && r.Ref.ApiVersion == "networking.k8s.io/v1")
            {
                model._policies.Add(KubernetesPolicies.Read(r));
                model.Namespace(r.Ref.Namespace ?? "default");
            }
            else if (group is "projectcalico.org" or "crd.projectcalico.org")
            {
                model.ReadCalico(r, unmodelled);
            }
            else if (group == "cilium.io")
            {
                model.ReadCilium(r, unmodelled);
            }
            else if (UnmodelledPolicyKind(r, group) is { } why)
            {
                (unmodelled.TryGetValue(why, out var list) ? list : unmodelled[why] = []).Add(r);
            }
            else if (r.Kind == "Service" && r.Ref.ApiVersion == "v1")
            {
                var selector = Json.Get(Json.Get(r.Root, "spec"u8), "selector"u8);
                model.Services[(r.Ref.Namespace ?? "default", r.Ref.Name)] = (selector.ValueKind == JsonValueKind.Object && selector.EnumerateObject().Any()
                    ? new LabelSelector(ReadLabels(selector), []) : null, r);
            }
            else if (r.Kind == "ServiceAccount" && r.Ref.ApiVersion == "v1")
            {
                model.ServiceAccountLabels[(r.Ref.Namespace ?? "default", r.Ref.Name)] = ReadLabels(Json.Get(Json.Get(r.Root, "metadata"u8), "labels"u8));
            }
            else if (r.Kind == "Node" && r.Ref.ApiVersion == "v1")
            {
                var spec = Json.Get(r.Root, "spec"u8);
                foreach (var cidr in Json.Get(spec, "podCIDRs"u8) is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray().Select(Json.AsString) : [Json.GetString(spec, "podCIDR")])
                {
                    if (TryRange(cidr, out var range))
                    {
                        model.PodRanges.Add(range);
                    }
                }
            }
            else if (ReadWorkload(r, index, hostNetworkOutsidePolicy) is { } w && model._byId.TryAdd(w.Id, w))
            {
                model._workloads.Add(w);
                model.Namespace(w.Namespace);
            }
        }

        foreach (var (why, list) in unmodelled)
        {
            model._notes.Add(new NetworkNote(list[0], "metadata", $"{(list.Count == 1 ? $"{list[0].Kind} {Display(list[0])}" : $"{list.Count} {list[0].Kind} objects")} ({list[0].Ref.ApiVersion}): {why}; reachability and netpol findings do not include {(list.Count == 1 ? "it" : "them")}"));
        }

        if (model._policies.Any(p => p.Flavor is PolicyFlavor.Calico or PolicyFlavor.CalicoGlobal) && model._policies.Any(p => p.Flavor is PolicyFlavor.Cilium or PolicyFlavor.CiliumClusterwide))
        {
            var first = model._policies.First(p => p.Flavor is PolicyFlavor.Cilium or PolicyFlavor.CiliumClusterwide);
            model._notes.Add(new NetworkNote(first.Resource, "metadata", "the input has both Calico and Cilium policies; a cluster enforces only those of its network plugin, and the answers apply both"));
        }

        if (model.PodRanges.Count == 0)
        {
            // Unknown pod addresses: pods are somewhere in the private and shared ranges.
            foreach (var cidr in new[] { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10" })
            {
                TryRange(cidr, out var range);
                model.PodRanges.Add(range);
            }
        }

        model.HasCalico = model._policies.Any(p => p.Flavor is PolicyFlavor.Calico or PolicyFlavor.CalicoGlobal);
        if (model.HasCalico)
        {
            foreach (var p in model._policies.Where(p => p.Flavor == PolicyFlavor.Kubernetes).ToList())
            {
                var i = model._policies.IndexOf(p);
                model._policies[i] = KubernetesPolicies.Read(p.Resource, calicoOrder: 1000);
            }
        }

        model.CacheCalicoNamespaceLabels();
        var hasCilium = model._policies.Any(p => p.Flavor is PolicyFlavor.Cilium or PolicyFlavor.CiliumClusterwide);
        foreach (var w in model._workloads)
        {
            if (model.HasCalico)
            {
                model._calicoLabels[w] = model.CalicoLabelsOf(w);
            }

            if (hasCilium)
            {
                model._ciliumLabels[w] = model.CiliumLabelsOf(w);
            }
        }

        foreach (var w in model._workloads)
        {
            model._plans[w] = (model.BuildPlan(w, egress: false), model.BuildPlan(w, egress: true));
        }

        // Addresses outside the cluster are split, per direction, at every address range the policies name.
        var setBounds = model.NetworkSets.SelectMany(s => s.Ranges).ToList();
        model._ingressBoundaries = Boundaries(model._policies.SelectMany(p => p.IngressRules.Concat(p.IngressDeny)), setBounds);
        model._egressBoundaries = Boundaries(model._policies.SelectMany(p => p.EgressRules.Concat(p.EgressDeny)), setBounds);
        return model;
    }

    private static string GroupOf(Resource r)
    {
        var slash = r.Ref.ApiVersion.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? string.Empty : r.Ref.ApiVersion[..slash];
    }

    internal static string Display(Resource r) => r.Ref.Namespace is { } ns ? $"{ns}/{r.Ref.Name}" : r.Ref.Name;

    internal void Note(Resource r, string path, string message) => _notes.Add(new NetworkNote(r, path, message));

    /// <summary>Policy kinds of other plugins and APIs, which the model does not evaluate; null for anything else.</summary>
    private static string? UnmodelledPolicyKind(Resource r, string group)
    {
        if (group == "policy.networking.k8s.io" && r.Kind is "AdminNetworkPolicy" or "BaselineAdminNetworkPolicy" or "ClusterNetworkPolicy")
        {
            return "cluster network policies of the network-policy API are not modelled";
        }

        if (r.Kind == "NetworkPolicy" && group is "networking.k8s.io" or "extensions")
        {
            return "this API version of NetworkPolicy is not modelled (only networking.k8s.io/v1)";
        }

        if (r.Kind == "MultiNetworkPolicy")
        {
            return "policies of secondary networks are not modelled";
        }

        if (r.Kind.EndsWith("NetworkPolicy", StringComparison.Ordinal) || r.Kind.EndsWith("NetworkPolicies", StringComparison.Ordinal))
        {
            return $"{(group.Length == 0 ? "this" : group)} policy kind is not modelled";
        }

        return null;
    }

    private static uint[] Boundaries(IEnumerable<PolicyRule> rules, List<(uint Lo, uint Hi)> extra)
    {
        var bounds = new SortedSet<uint> { 0 };
        foreach (var (lo, hi) in rules.SelectMany(r => r.Boundaries).Concat(extra))
        {
            bounds.Add(lo);
            if (hi < uint.MaxValue)
            {
                bounds.Add(hi + 1);
            }
        }

        return [.. bounds];
    }

    public NetworkWorkload? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Finds a workload by NS/NAME (workload or pod name, kind optional in brackets).</summary>
    public IReadOnlyList<NetworkWorkload> Resolve(string text)
    {
        var t = text.Trim();
        var slash = t.IndexOf('/', StringComparison.Ordinal);
        var ns = slash > 0 ? t[..slash] : "default";
        var name = slash > 0 ? t[(slash + 1)..] : t;
        if (_byId.TryGetValue($"{ns}/{name}", out var exact))
        {
            return [exact];
        }

        var matches = _workloads.Where(w => w.Namespace == ns && (w.Name == name || w.Resource.Ref.Name == name)).ToList();
        return matches;
    }

    /// <summary>The policies that apply to a workload's pods, per direction, in evaluation order.</summary>
    public (IReadOnlyList<NetworkPolicyInfo> Ingress, IReadOnlyList<NetworkPolicyInfo> Egress) SelectingPolicies(NetworkWorkload w)
    {
        var (ingress, egress) = _plans[w];
        return (ingress.Policies, egress.Policies);
    }

    /// <summary>Namespaced policies that select no workload of their namespace in the input.</summary>
    public IEnumerable<NetworkPolicyInfo> PoliciesSelectingNothing() =>
        _policies.Where(p => p.Namespace is not null && !_workloads.Any(w => !w.HostNetwork && w.Namespace == p.Namespace && p.Selects(this, w)));

    /// <summary>What may go from <paramref name="src"/> to <paramref name="dst"/>, and why.</summary>
    public ReachAnswer Reach(NetworkWorkload src, NetworkWorkload dst)
    {
        var egressBy = new List<string>();
        var ingressBy = new List<string>();
        var egressDenied = new List<string>();
        var ingressDenied = new List<string>();
        var srcPlan = _plans[src].Egress;
        var dstPlan = _plans[dst].Ingress;
        var egress = Decide(srcPlan, src, dst, 0, dst, egress: true, egressBy, egressDenied);
        var ingress = Decide(dstPlan, dst, src, 0, dst, egress: false, ingressBy, ingressDenied);
        return new ReachAnswer(egress.Intersect(ingress), egress, ingress,
            [.. srcPlan.Policies.Select(p => p.ToString())], [.. dstPlan.Policies.Select(p => p.ToString())], egressBy, ingressBy)
        {
            EgressDeniedBy = egressDenied,
            IngressDeniedBy = ingressDenied,
        };
    }

    /// <summary>Connections allowed between two workloads.</summary>
    public ConnectionSet Allowed(NetworkWorkload src, NetworkWorkload dst)
    {
        var egress = Decide(_plans[src].Egress, src, dst, 0, dst, egress: true, null, null);
        if (egress.IsEmpty)
        {
            return egress;
        }

        return egress.Intersect(Decide(_plans[dst].Ingress, dst, src, 0, dst, egress: false, null, null));
    }

    /// <summary>
    /// Connections between a workload and addresses outside the cluster (IPv4), per address range:
    /// the address space is cut at every address range of the policies for that direction, and
    /// each range with some allowed connection is listed; <paramref name="egress"/> chooses the direction.
    /// </summary>
    public IReadOnlyList<(uint Lo, uint Hi, ConnectionSet Connections)> External(NetworkWorkload w, bool egress) =>
        External(w, egress ? _plans[w].Egress : _plans[w].Ingress, egress);

    private List<(uint Lo, uint Hi, ConnectionSet Connections)> External(NetworkWorkload w, Plan plan, bool egress)
    {
        var boundaries = egress ? _egressBoundaries : _ingressBoundaries;
        var result = new List<(uint Lo, uint Hi, ConnectionSet Connections)>();
        for (var i = 0; i < boundaries.Length; i++)
        {
            var lo = boundaries[i];
            var hi = i + 1 < boundaries.Length ? boundaries[i + 1] - 1 : uint.MaxValue;
            var conns = Decide(plan, w, null, lo, egress ? null : w, egress, null, null);
            if (!conns.IsEmpty)
            {
                result.Add((lo, hi, conns));
            }
        }

        return result;
    }

    /// <summary>
    /// Whether a namespace has a default deny for a direction, decided by what the policies do rather
    /// than how they are written: a new pod there without labels, talking to a pod without labels in
    /// a namespace no policy names or to an address outside the cluster, is limited to less than
    /// every connection. <paramref name="selected"/> says whether any policy applies to such a pod.
    /// </summary>
    public bool HasDefaultDeny(string ns, bool egress, out bool selected)
    {
        var probe = Probe(ns, []);
        var peer = Probe(ProbeNamespace, []);
        var plan = BuildPlan(probe, egress);
        selected = plan.Policies.Count > 0;
        if (!selected)
        {
            return false;
        }

        if (!Decide(plan, probe, peer, 0, egress ? peer : probe, egress, null, null).IsAll)
        {
            return true;
        }

        var ranges = External(probe, plan, egress);
        var boundaries = egress ? _egressBoundaries : _ingressBoundaries;
        return ranges.Count < boundaries.Length || ranges.Any(r => !r.Connections.IsAll);
    }

    /// <summary>Whether some egress rule that applies to the workload allows port 53 (or the workload's egress is not limited).</summary>
    public bool MayResolveNames(NetworkWorkload w)
    {
        var plan = _plans[w].Egress;
        if (plan.Policies.Count == 0 || plan.Tiers.Any(t => !t.Isolates || t.DefaultPass))
        {
            return true;
        }

        return plan.Tiers.SelectMany(t => t.Policies).SelectMany(p => p.EgressRules)
            .Any(r => r.Action is PolicyAction.Allow or PolicyAction.Pass && r.Ports.MayReachDns);
    }

    public static string FormatRange(uint lo, uint hi) => $"{ToAddress(lo)}-{ToAddress(hi)}";

    private static string ToAddress(uint value) => new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]).ToString();

    private NetworkWorkload Probe(string ns, Dictionary<string, string> labels)
    {
        var w = new NetworkWorkload(ns, "~probe", "Pod", labels, [], _workloads.Count > 0 ? _workloads[0].Resource : _policies[0].Resource, false);
        return w;
    }

    internal IReadOnlyDictionary<string, string> NamespaceLabels(string ns) =>
        _namespaces.TryGetValue(ns, out var labels) ? labels : new Dictionary<string, string>(StringComparer.Ordinal) { [NamespaceNameLabel] = ns };

    internal IReadOnlyDictionary<string, string> CalicoLabels(NetworkWorkload w) => _calicoLabels.TryGetValue(w, out var l) ? l : CalicoLabelsOf(w);

    internal IReadOnlyDictionary<string, string> CiliumLabels(NetworkWorkload w) => _ciliumLabels.TryGetValue(w, out var l) ? l : CiliumLabelsOf(w);

    /// <summary>Whether pods' addresses fall in the given ranges: all of them, none, or some (unknown for a given pod).</summary>
    internal Match PodsIn(IReadOnlyList<(uint Lo, uint Hi)> ranges)
    {
        var covered = PodRanges.All(p => ranges.Any(r => r.Lo <= p.Lo && p.Hi <= r.Hi));
        if (covered)
        {
            return Match.Yes;
        }

        var overlaps = PodRanges.Any(p => ranges.Any(r => r.Lo <= p.Hi && p.Lo <= r.Hi));
        return overlaps ? Match.Unknown : Match.No;
    }

    private sealed class Plan
    {
        public List<(NetworkPolicyInfo Policy, PolicyRule Rule)> Denies { get; } = [];

        public List<TierPlan> Tiers { get; } = [];

        public List<NetworkPolicyInfo> Policies { get; } = [];
    }

    private sealed record TierPlan(string Name, bool Isolates, bool DefaultPass, List<NetworkPolicyInfo> Policies);

    private Plan BuildPlan(NetworkWorkload w, bool egress)
    {
        var plan = new Plan();
        if (w.HostNetwork)
        {
            return plan;
        }

        foreach (var p in _policies)
        {
            if ((egress ? p.AppliesToEgress : p.AppliesToIngress) && p.Selects(this, w))
            {
                plan.Policies.Add(p);
            }
        }

        if (plan.Policies.Count == 0)
        {
            return plan;
        }

        foreach (var p in plan.Policies)
        {
            foreach (var rule in egress ? p.EgressDeny : p.IngressDeny)
            {
                plan.Denies.Add((p, rule));
            }
        }

        if (!HasCalico)
        {
            // Kubernetes and Cilium policies: one tier, no order.
            plan.Tiers.Add(new TierPlan(DefaultTier, plan.Policies.Any(p => egress ? p.IsolatesEgress : p.IsolatesIngress), false, plan.Policies));
            return plan;
        }

        foreach (var tier in plan.Policies.GroupBy(p => p.Tier).OrderBy(g => TierOrder(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            var ordered = tier.OrderBy(p => p.Order ?? double.PositiveInfinity).ThenBy(p => HasCalico ? CalicoSortName(p) : string.Empty, StringComparer.Ordinal).ToList();
            var isolates = ordered.Any(p => egress ? p.IsolatesEgress : p.IsolatesIngress);
            plan.Tiers.Add(new TierPlan(tier.Key, isolates, _tiers.TryGetValue(tier.Key, out var t) && t.DefaultPass, ordered));
        }

        plan.Policies.Clear();
        plan.Policies.AddRange(plan.Tiers.SelectMany(t => t.Policies));
        return plan;
    }

    private double TierOrder(string tier) => _tiers.TryGetValue(tier, out var t) && t.Order is { } o ? o : double.PositiveInfinity;

    private static string CalicoSortName(NetworkPolicyInfo p) => p.Flavor == PolicyFlavor.Kubernetes ? $"knp.default.{p.Name}" : p.Name;

    /// <summary>
    /// One side of a connection: what the local endpoint's policies allow with one peer (a workload,
    /// or the external <paramref name="address"/> when <paramref name="peer"/> is null).
    /// </summary>
    private ConnectionSet Decide(Plan plan, NetworkWorkload local, NetworkWorkload? peer, uint address, NetworkWorkload? destination, bool egress,
        List<string>? allowedBy, List<string>? deniedBy)
    {
        if (plan.Policies.Count == 0)
        {
            return ConnectionSet.All;
        }

        var remaining = ConnectionSet.All;
        foreach (var (p, rule) in plan.Denies)
        {
            if (rule.Matches(this, local, peer, address) != Match.Yes)
            {
                continue; // a deny rule counts only where it surely matches
            }

            var conns = rule.Connections(destination).Intersect(remaining);
            if (!conns.IsEmpty)
            {
                deniedBy?.Add($"{p} rule {rule.Path}: {conns}");
                remaining = remaining.Subtract(conns);
            }
        }

        var allowed = ConnectionSet.None;
        var decidedByTier = false;
        foreach (var tier in plan.Tiers)
        {
            if (remaining.IsEmpty)
            {
                break;
            }

            var passed = ConnectionSet.None;
            foreach (var p in tier.Policies)
            {
                foreach (var rule in egress ? p.EgressRules : p.IngressRules)
                {
                    if (remaining.IsEmpty)
                    {
                        break;
                    }

                    if (rule.Action == PolicyAction.Log || !rule.Decides(rule.Matches(this, local, peer, address)))
                    {
                        continue;
                    }

                    var conns = rule.Connections(destination).Intersect(remaining);
                    if (conns.IsEmpty)
                    {
                        continue;
                    }

                    remaining = remaining.Subtract(conns);
                    switch (rule.Action)
                    {
                        case PolicyAction.Allow:
                            allowed = allowed.Union(conns);
                            allowedBy?.Add(Flavorless(p) ? $"{p} rule {rule.Index}: {conns}" : $"{p} rule {rule.Path}: {conns}");
                            break;
                        case PolicyAction.Deny:
                            deniedBy?.Add($"{p} rule {rule.Path}: {conns}");
                            break;
                        default:
                            passed = passed.Union(conns);
                            break;
                    }
                }
            }

            if (tier.Isolates && !tier.DefaultPass)
            {
                decidedByTier = true;
                remaining = passed; // the tier denies what it did not decide
            }
            else
            {
                remaining = remaining.Union(passed);
            }
        }

        if (!remaining.IsEmpty)
        {
            // Past the last tier: Calico's namespace profile, or no default deny at all, allows.
            allowed = allowed.Union(remaining);
            if (decidedByTier || plan.Tiers.Count > 0)
            {
                allowedBy?.Add($"no policy decides {remaining}: allowed by default");
            }
        }

        return allowed;
    }

    private static bool Flavorless(NetworkPolicyInfo p) => p.Flavor == PolicyFlavor.Kubernetes;

    private void Namespace(string name)
    {
        if (!_namespaces.ContainsKey(name))
        {
            _namespaces[name] = new Dictionary<string, string>(StringComparer.Ordinal) { [NamespaceNameLabel] = name };
        }
    }

    /// <summary>
    /// The labels Calico gives a pod's endpoint: the pod's, projectcalico.org/namespace,
    /// projectcalico.org/orchestrator and projectcalico.org/serviceaccount, and its namespace's and
    /// service account's labels with the pcns. and pcsa. prefixes.
    /// </summary>
    private Dictionary<string, string> CalicoLabelsOf(NetworkWorkload w)
    {
        var labels = new Dictionary<string, string>(w.Labels, StringComparer.Ordinal)
        {
            ["projectcalico.org/namespace"] = w.Namespace,
            ["projectcalico.org/orchestrator"] = "k8s",
            ["projectcalico.org/serviceaccount"] = w.ServiceAccount,
        };
        foreach (var (k, v) in NamespaceLabels(w.Namespace))
        {
            labels["pcns." + k] = v;
        }

        labels["pcns.projectcalico.org/name"] = w.Namespace;
        if (ServiceAccountLabels.TryGetValue((w.Namespace, w.ServiceAccount), out var sa))
        {
            foreach (var (k, v) in sa)
            {
                labels["pcsa." + k] = v;
            }
        }

        labels["pcsa.projectcalico.org/name"] = w.ServiceAccount;
        return labels;
    }

    /// <summary>The labels Cilium gives a pod's identity: the pod's, its namespace (io.kubernetes.pod.namespace), the namespace's labels, service account and cluster.</summary>
    private Dictionary<string, string> CiliumLabelsOf(NetworkWorkload w)
    {
        var labels = new Dictionary<string, string>(w.Labels, StringComparer.Ordinal)
        {
            [CiliumPolicies.NamespaceKey] = w.Namespace,
            ["io.cilium.k8s.policy.serviceaccount"] = w.ServiceAccount,
            ["io.cilium.k8s.policy.cluster"] = "default",
        };
        foreach (var (k, v) in NamespaceLabels(w.Namespace))
        {
            labels["io.cilium.k8s.namespace.labels." + k] = v;
        }

        return labels;
    }

    private static NetworkWorkload? ReadWorkload(Resource r, ResourceIndex index, bool hostNetworkOutsidePolicy)
    {
        JsonElement template;
        switch (r.Kind)
        {
            case "Pod":
                template = r.Root;
                break;
            case "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "Job" or "ReplicationController":
                template = Json.Get(Json.Get(r.Root, "spec"u8), "template"u8);
                break;
            case "CronJob":
                template = Json.Get(Json.Get(Json.Get(Json.Get(r.Root, "spec"u8), "jobTemplate"u8), "spec"u8), "template"u8);
                break;
            default:
                return null;
        }

        if (index.IsCoveredByController(r))
        {
            return null; // its controller stands for it
        }

        var ns = r.Ref.Namespace ?? "default";
        var name = r.Ref.Name;
        var kind = r.Kind;
        if (r.Kind == "Pod" && ControllerOf(r) is { } owner && owner.Kind is "ReplicaSet" or "Deployment" or "StatefulSet" or "DaemonSet" or "Job" or "CronJob" or "ReplicationController")
        {
            (kind, name) = owner; // mirror pods (owned by a Node) and others stand for themselves
        }

        var spec = Json.Get(template, "spec"u8);
        var ports = new List<NamedPort>();
        foreach (var field in new[] { "containers", "initContainers" })
        {
            var containers = Json.Get(spec, field);
            if (containers.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var c in containers.EnumerateArray())
            {
                var list = Json.Get(c, "ports"u8);
                if (list.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var p in list.EnumerateArray())
                {
                    if (Json.GetString(p, "name") is { Length: > 0 } portName && Json.GetInt64(Json.Get(p, "containerPort"u8)) is { } number)
                    {
                        ports.Add(new NamedPort(portName, (int)number, Json.GetString(p, "protocol") ?? "TCP"));
                    }
                }
            }
        }

        var labels = ReadLabels(Json.Get(Json.Get(template, "metadata"u8), "labels"u8));
        var sa = Json.GetString(spec, "serviceAccountName") ?? Json.GetString(spec, "serviceAccount");
        return new NetworkWorkload(ns, name, kind, labels, ports, r, hostNetworkOutsidePolicy && Json.IsTrue(Json.Get(spec, "hostNetwork"u8)))
        {
            ServiceAccount = string.IsNullOrEmpty(sa) ? "default" : sa,
        };
    }

    private static (string Kind, string Name)? ControllerOf(Resource r)
    {
        var owners = Json.Get(Json.Get(r.Root, "metadata"u8), "ownerReferences"u8);
        if (owners.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var o in owners.EnumerateArray())
        {
            if (Json.IsTrue(Json.Get(o, "controller"u8)) && Json.GetString(o, "kind") is { } kind && Json.GetString(o, "name") is { } name)
            {
                return (kind, name);
            }
        }

        return null;
    }

    internal static Dictionary<string, string> ReadLabels(JsonElement labels)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (labels.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in labels.EnumerateObject())
            {
                result[p.Name] = Json.AsString(p.Value) ?? p.Value.GetRawText();
            }
        }

        return result;
    }

    /// <summary>An IPv4 CIDR minus its excepts, as ranges; IPv6 blocks are kept out of the IPv4 model (empty).</summary>
    internal static List<(uint Lo, uint Hi)> ReadBlock(JsonElement block)
    {
        if (!TryRange(Json.GetString(block, "cidr"), out var whole))
        {
            return [];
        }

        var ranges = new List<(uint Lo, uint Hi)> { whole };
        var except = Json.Get(block, "except"u8);
        if (except.ValueKind == JsonValueKind.Array)
        {
            foreach (var e in except.EnumerateArray())
            {
                if (!TryRange(Json.AsString(e), out var cut))
                {
                    continue;
                }

                var next = new List<(uint Lo, uint Hi)>();
                foreach (var (lo, hi) in ranges)
                {
                    if (cut.Hi < lo || cut.Lo > hi)
                    {
                        next.Add((lo, hi));
                        continue;
                    }

                    if (cut.Lo > lo)
                    {
                        next.Add((lo, cut.Lo - 1));
                    }

                    if (cut.Hi < hi)
                    {
                        next.Add((cut.Hi + 1, hi));
                    }
                }

                ranges = next;
            }
        }

        return ranges;
    }

    internal static bool TryRange(string? cidr, out (uint Lo, uint Hi) range)
    {
        range = default;
        if (cidr is null || !IPNetwork.TryParse(cidr, out var network) || network.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
        {
            // Kubernetes accepts a CIDR whose address has host bits set; normalise it.
            var slash = cidr?.IndexOf('/', StringComparison.Ordinal) ?? -1;
            if (slash < 0 || !IPAddress.TryParse(cidr![..slash], out var address) || address.AddressFamily != AddressFamily.InterNetwork
                || !int.TryParse(cidr[(slash + 1)..], out var bits) || bits is < 0 or > 32)
            {
                return false;
            }

            network = new IPNetwork(Mask(address, bits), bits);
        }

        var bytes = network.BaseAddress.GetAddressBytes();
        var lo = (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
        var size = network.PrefixLength == 0 ? uint.MaxValue : (1u << (32 - network.PrefixLength)) - 1;
        range = (lo, lo + size);
        return true;
    }

    private static IPAddress Mask(IPAddress address, int bits)
    {
        var b = address.GetAddressBytes();
        var value = (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
        var mask = bits == 0 ? 0u : uint.MaxValue << (32 - bits);
        value &= mask;
        return new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
    }
}
