using System.Net;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Network;

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

}
