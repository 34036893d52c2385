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

    public override string ToString() => Id;
}

/// <summary>One NetworkPolicy, parsed: whom it selects, for which directions, and its rules.</summary>
public sealed class NetworkPolicyInfo
{
    internal NetworkPolicyInfo(Resource resource, string ns, LabelSelector podSelector, bool ingress, bool egress, List<PolicyRule> ingressRules, List<PolicyRule> egressRules)
    {
        Resource = resource;
        Namespace = ns;
        PodSelector = podSelector;
        AffectsIngress = ingress;
        AffectsEgress = egress;
        IngressRules = ingressRules;
        EgressRules = egressRules;
    }

    public Resource Resource { get; }

    public string Namespace { get; }

    public string Name => Resource.Ref.Name;

    public LabelSelector PodSelector { get; }

    public bool AffectsIngress { get; }

    public bool AffectsEgress { get; }

    internal List<PolicyRule> IngressRules { get; }

    internal List<PolicyRule> EgressRules { get; }

    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>A peer of a rule: pods by selectors, or an IP block (ranges after excepts).</summary>
internal sealed record PolicyPeer(LabelSelector? Pods, LabelSelector? Namespaces, IReadOnlyList<(uint Lo, uint Hi)>? Block, string? Cidr);

/// <summary>A port entry: protocol with a number (and endPort), a name, or every port.</summary>
internal sealed record PolicyPort(string Protocol, int? Port, string? Name, int? EndPort);

/// <summary>An ingress or egress rule; null peers or ports mean "all".</summary>
internal sealed record PolicyRule(IReadOnlyList<PolicyPeer>? Peers, IReadOnlyList<PolicyPort>? Ports, int Index);

/// <summary>What decides a connection: the policies on each side and which of their rules allow it.</summary>
public sealed record ReachAnswer(
    ConnectionSet Allowed,
    ConnectionSet EgressAllowed,
    ConnectionSet IngressAllowed,
    IReadOnlyList<string> EgressPolicies,
    IReadOnlyList<string> IngressPolicies,
    IReadOnlyList<string> EgressAllowedBy,
    IReadOnlyList<string> IngressAllowedBy);

/// <summary>
/// The cluster's connectivity under NetworkPolicy (networking.k8s.io/v1), as Kubernetes defines
/// it: a pod is isolated for a direction when a policy selects it for that direction, and then
/// only the union of those policies' rules is allowed; a connection needs the source's egress and
/// the destination's ingress. Peers by pod and namespace selectors (together: both must match),
/// IP blocks with excepts (which apply to addresses outside the cluster), ports by number, range
/// (endPort) or name (resolved on the destination pod), protocols TCP, UDP and SCTP. Pods on the
/// host network are outside NetworkPolicy. Built once; queries do not touch the resources.
/// </summary>
public sealed class NetworkModel
{
    private const string NamespaceNameLabel = "kubernetes.io/metadata.name";
    private readonly Dictionary<string, Dictionary<string, string>> _namespaces = new(StringComparer.Ordinal);
    private readonly List<NetworkWorkload> _workloads = [];
    private readonly List<NetworkPolicyInfo> _policies = [];
    private readonly Dictionary<NetworkWorkload, (List<NetworkPolicyInfo> Ingress, List<NetworkPolicyInfo> Egress)> _selecting = [];
    private readonly Dictionary<string, NetworkWorkload> _byId = new(StringComparer.Ordinal);
    private uint[] _ingressBoundaries = [];
    private uint[] _egressBoundaries = [];

    private NetworkModel()
    {
    }

    public IReadOnlyList<NetworkWorkload> Workloads => _workloads;

    public IReadOnlyList<NetworkPolicyInfo> Policies => _policies;

    public IReadOnlyCollection<string> Namespaces => _namespaces.Keys;

    /// <param name="resources">Pods or workloads, namespaces and NetworkPolicies.</param>
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
            if (r.Kind == "NetworkPolicy" && r.Ref.ApiVersion == "networking.k8s.io/v1")
            {
                model._policies.Add(ReadPolicy(r));
                model.Namespace(r.Ref.Namespace ?? "default");
            }
            else if (ReadWorkload(r, index, hostNetworkOutsidePolicy) is { } w && model._byId.TryAdd(w.Id, w))
            {
                model._workloads.Add(w);
                model.Namespace(w.Namespace);
            }
        }

        foreach (var w in model._workloads)
        {
            var ingress = new List<NetworkPolicyInfo>();
            var egress = new List<NetworkPolicyInfo>();
            if (!w.HostNetwork)
            {
                foreach (var p in model._policies)
                {
                    if (p.Namespace == w.Namespace && p.PodSelector.Matches(w.Labels))
                    {
                        if (p.AffectsIngress)
                        {
                            ingress.Add(p);
                        }

                        if (p.AffectsEgress)
                        {
                            egress.Add(p);
                        }
                    }
                }
            }

            model._selecting[w] = (ingress, egress);
        }

        // Addresses outside the cluster are split, per direction, at every IP block boundary.
        model._ingressBoundaries = Boundaries(model._policies.SelectMany(p => p.IngressRules));
        model._egressBoundaries = Boundaries(model._policies.SelectMany(p => p.EgressRules));
        return model;
    }

    private static uint[] Boundaries(IEnumerable<PolicyRule> rules)
    {
        var bounds = new SortedSet<uint> { 0 };
        foreach (var rule in rules)
        {
            foreach (var peer in rule.Peers ?? [])
            {
                foreach (var (lo, hi) in peer.Block ?? [])
                {
                    bounds.Add(lo);
                    if (hi < uint.MaxValue)
                    {
                        bounds.Add(hi + 1);
                    }
                }
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

    public (IReadOnlyList<NetworkPolicyInfo> Ingress, IReadOnlyList<NetworkPolicyInfo> Egress) SelectingPolicies(NetworkWorkload w) => _selecting[w];

    /// <summary>Policies that select no workload of the input.</summary>
    public IEnumerable<NetworkPolicyInfo> PoliciesSelectingNothing() =>
        _policies.Where(p => !_workloads.Any(w => !w.HostNetwork && w.Namespace == p.Namespace && p.PodSelector.Matches(w.Labels)));

    /// <summary>What may go from <paramref name="src"/> to <paramref name="dst"/>, and why.</summary>
    public ReachAnswer Reach(NetworkWorkload src, NetworkWorkload dst)
    {
        var egressBy = new List<string>();
        var ingressBy = new List<string>();
        var (_, srcEgress) = _selecting[src];
        var (dstIngress, _) = _selecting[dst];
        var egress = Side(srcEgress, p => p.EgressRules, peer => MatchesWorkload(peer, src.Namespace, dst), dst, egressBy, src.HostNetwork);
        var ingress = Side(dstIngress, p => p.IngressRules, peer => MatchesWorkload(peer, dst.Namespace, src), dst, ingressBy, dst.HostNetwork);
        return new ReachAnswer(egress.Intersect(ingress), egress, ingress,
            [.. srcEgress.Select(p => p.ToString())], [.. dstIngress.Select(p => p.ToString())], egressBy, ingressBy);
    }

    /// <summary>Connections allowed between two workloads.</summary>
    public ConnectionSet Allowed(NetworkWorkload src, NetworkWorkload dst)
    {
        var (_, srcEgress) = _selecting[src];
        var (dstIngress, _) = _selecting[dst];
        var egress = Side(srcEgress, p => p.EgressRules, peer => MatchesWorkload(peer, src.Namespace, dst), dst, null, src.HostNetwork);
        if (egress.IsEmpty)
        {
            return egress;
        }

        return egress.Intersect(Side(dstIngress, p => p.IngressRules, peer => MatchesWorkload(peer, dst.Namespace, src), dst, null, dst.HostNetwork));
    }

    /// <summary>
    /// Connections between a workload and addresses outside the cluster (IPv4), per address range:
    /// the address space is cut at every IP block boundary of the policies for that direction, and
    /// each range with some allowed connection is listed; <paramref name="egress"/> chooses the direction.
    /// </summary>
    public IReadOnlyList<(uint Lo, uint Hi, ConnectionSet Connections)> External(NetworkWorkload w, bool egress)
    {
        var (ingressPolicies, egressPolicies) = _selecting[w];
        var policies = egress ? egressPolicies : ingressPolicies;
        var boundaries = egress ? _egressBoundaries : _ingressBoundaries;
        var result = new List<(uint Lo, uint Hi, ConnectionSet Connections)>();
        for (var i = 0; i < boundaries.Length; i++)
        {
            var lo = boundaries[i];
            var hi = i + 1 < boundaries.Length ? boundaries[i + 1] - 1 : uint.MaxValue;
            var conns = Side(policies, p => egress ? p.EgressRules : p.IngressRules, peer => peer.Block is { } b && b.Any(r => r.Lo <= lo && hi <= r.Hi), egress ? null : w, null, w.HostNetwork);
            if (!conns.IsEmpty)
            {
                result.Add((lo, hi, conns));
            }
        }

        return result;
    }

    public static string FormatRange(uint lo, uint hi) => $"{ToAddress(lo)}-{ToAddress(hi)}";

    private static string ToAddress(uint value) => new IPAddress([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]).ToString();

    private static ConnectionSet Side(List<NetworkPolicyInfo> policies, Func<NetworkPolicyInfo, List<PolicyRule>> rules, Func<PolicyPeer, bool> peerMatches,
        NetworkWorkload? destination, List<string>? allowedBy, bool hostNetwork)
    {
        if (policies.Count == 0 || hostNetwork)
        {
            return ConnectionSet.All;
        }

        var result = ConnectionSet.None;
        foreach (var p in policies)
        {
            foreach (var rule in rules(p))
            {
                if (rule.Peers is not null && !rule.Peers.Any(peerMatches))
                {
                    continue;
                }

                var conns = Ports(rule, destination);
                if (!conns.IsEmpty)
                {
                    allowedBy?.Add($"{p} rule {rule.Index}: {conns}");
                    result = result.Union(conns);
                }
            }
        }

        return result;
    }

    private static ConnectionSet Ports(PolicyRule rule, NetworkWorkload? destination)
    {
        if (rule.Ports is null)
        {
            return ConnectionSet.All;
        }

        var result = ConnectionSet.None;
        foreach (var port in rule.Ports)
        {
            if (port.Name is not null)
            {
                // Named ports resolve on the destination pod; an address outside the cluster has none.
                foreach (var np in destination?.Ports ?? [])
                {
                    if (np.Name == port.Name && string.Equals(np.Protocol, port.Protocol, StringComparison.OrdinalIgnoreCase))
                    {
                        result = result.Union(ConnectionSet.Of(port.Protocol, np.Port, np.Port));
                    }
                }
            }
            else if (port.Port is { } number)
            {
                result = result.Union(ConnectionSet.Of(port.Protocol, number, port.EndPort is { } end && end >= number ? end : number));
            }
            else
            {
                result = result.Union(ConnectionSet.AllOf(port.Protocol));
            }
        }

        return result;
    }

    private bool MatchesWorkload(PolicyPeer peer, string policyNamespace, NetworkWorkload target)
    {
        if (peer.Block is not null)
        {
            return false; // IP blocks are for addresses outside the cluster
        }

        if (peer.Namespaces is null)
        {
            return target.Namespace == policyNamespace && (peer.Pods is null || peer.Pods.Matches(target.Labels));
        }

        return _namespaces.TryGetValue(target.Namespace, out var nsLabels) && peer.Namespaces.Matches(nsLabels)
            && (peer.Pods is null || peer.Pods.Matches(target.Labels));
    }

    private void Namespace(string name)
    {
        if (!_namespaces.ContainsKey(name))
        {
            _namespaces[name] = new Dictionary<string, string>(StringComparer.Ordinal) { [NamespaceNameLabel] = name };
        }
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
        return new NetworkWorkload(ns, name, kind, labels, ports, r, hostNetworkOutsidePolicy && Json.IsTrue(Json.Get(spec, "hostNetwork"u8)));
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

    private static Dictionary<string, string> ReadLabels(JsonElement labels)
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

    private static NetworkPolicyInfo ReadPolicy(Resource r)
    {
        var spec = Json.Get(r.Root, "spec"u8);
        var ingress = Json.Get(spec, "ingress"u8);
        var egress = Json.Get(spec, "egress"u8);
        var types = Json.Get(spec, "policyTypes"u8);
        bool affectsIngress, affectsEgress;
        if (types.ValueKind == JsonValueKind.Array && types.GetArrayLength() > 0)
        {
            var list = types.EnumerateArray().Select(t => Json.AsString(t)).ToList();
            affectsIngress = list.Contains("Ingress");
            affectsEgress = list.Contains("Egress");
        }
        else
        {
            // Kubernetes' defaulting: Ingress always, Egress when the policy has egress rules.
            affectsIngress = true;
            affectsEgress = egress.ValueKind == JsonValueKind.Array && egress.GetArrayLength() > 0;
        }

        return new NetworkPolicyInfo(r, r.Ref.Namespace ?? "default", ResourceIndex.ReadSelector(Json.Get(spec, "podSelector"u8)),
            affectsIngress, affectsEgress, ReadRules(ingress, "from"u8), ReadRules(egress, "to"u8));
    }

    private static List<PolicyRule> ReadRules(JsonElement rules, ReadOnlySpan<byte> peersField)
    {
        var result = new List<PolicyRule>();
        if (rules.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        var index = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            var peersJson = Json.Get(rule, peersField);
            List<PolicyPeer>? peers = null;
            if (peersJson.ValueKind == JsonValueKind.Array && peersJson.GetArrayLength() > 0)
            {
                peers = [];
                foreach (var p in peersJson.EnumerateArray())
                {
                    var block = Json.Get(p, "ipBlock"u8);
                    if (block.ValueKind == JsonValueKind.Object)
                    {
                        var cidr = Json.GetString(block, "cidr");
                        peers.Add(new PolicyPeer(null, null, ReadBlock(block), cidr));
                        continue;
                    }

                    var pods = Json.Get(p, "podSelector"u8);
                    var nss = Json.Get(p, "namespaceSelector"u8);
                    peers.Add(new PolicyPeer(
                        pods.ValueKind == JsonValueKind.Object ? ResourceIndex.ReadSelector(pods) : null,
                        nss.ValueKind == JsonValueKind.Object ? ResourceIndex.ReadSelector(nss) : null,
                        null, null));
                }
            }

            var portsJson = Json.Get(rule, "ports"u8);
            List<PolicyPort>? ports = null;
            if (portsJson.ValueKind == JsonValueKind.Array && portsJson.GetArrayLength() > 0)
            {
                ports = [];
                foreach (var p in portsJson.EnumerateArray())
                {
                    var protocol = Json.GetString(p, "protocol") ?? "TCP";
                    var port = Json.Get(p, "port"u8);
                    var end = Json.GetInt64(Json.Get(p, "endPort"u8));
                    ports.Add(port.ValueKind switch
                    {
                        JsonValueKind.Number => new PolicyPort(protocol, (int)port.GetInt64(), null, end is null ? null : (int)end),
                        JsonValueKind.String when int.TryParse(port.GetString(), out var n) => new PolicyPort(protocol, n, null, end is null ? null : (int)end),
                        JsonValueKind.String => new PolicyPort(protocol, null, port.GetString(), null),
                        _ => new PolicyPort(protocol, null, null, null),
                    });
                }
            }

            result.Add(new PolicyRule(peers, ports, index++));
        }

        return result;
    }

    /// <summary>An IPv4 CIDR minus its excepts, as ranges; IPv6 blocks are kept out of the IPv4 model (empty).</summary>
    private static List<(uint Lo, uint Hi)> ReadBlock(JsonElement block)
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
