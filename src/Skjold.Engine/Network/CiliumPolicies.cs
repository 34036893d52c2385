using System.Globalization;
using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Network;

/// <summary>Cilium's label keys and selector normalisation.</summary>
internal static class CiliumPolicies
{
    public const string NamespaceKey = "io.kubernetes.pod.namespace";

    /// <summary>Drops the label source prefix (k8s:, any:) Cilium selectors may carry; other sources (reserved:, cidr:) stay and match no pod.</summary>
    public static string Key(string key) =>
        key.StartsWith("k8s:", StringComparison.Ordinal) ? key[4..] : key.StartsWith("any:", StringComparison.Ordinal) ? key[4..] : key;

    public static LabelSelector Normalise(LabelSelector s) => new(
        s.MatchLabels.ToDictionary(kv => Key(kv.Key), kv => kv.Value, StringComparer.Ordinal),
        [.. s.MatchExpressions.Select(e => e with { Key = Key(e.Key) })]);

    public static bool NamesNamespace(LabelSelector s) => s.MatchLabels.ContainsKey(NamespaceKey) || s.MatchExpressions.Any(e => e.Key == NamespaceKey);
}

/// <summary>
/// Cilium (cilium.io/v2): CiliumNetworkPolicy (its namespace; peers by endpoint selector in its
/// namespace unless the selector names io.kubernetes.pod.namespace) and
/// CiliumClusterwideNetworkPolicy, one rule in spec or several in specs. endpointSelector,
/// ingress/egress allow rules and ingressDeny/egressDeny deny rules with from/toEndpoints,
/// from/toEntities (world, cluster, all, host, remote-node), from/toCIDR, from/toCIDRSet (with
/// except and CiliumCIDRGroup references), toPorts (port, endPort, protocol, named ports), ICMP-only
/// rules and enableDefaultDeny. An empty rule allows nothing; a rule with only toPorts allows every
/// peer on those ports. Not modelled, with a note: L7 rules (the port counts as allowed), toFQDNs,
/// toServices, from/toGroups and from/toNodes (taken to match for allow rules and not for deny
/// rules), from/toRequires, and host policies (nodeSelector).
/// </summary>
public sealed partial class NetworkModel
{
    private readonly Dictionary<string, List<(uint Lo, uint Hi)>> _cidrGroups = new(StringComparer.Ordinal);

    private sealed record CiliumPeer(
        List<(LabelSelector Selector, string? Namespace)> Endpoints,
        HashSet<string> Entities,
        List<(uint Lo, uint Hi)> Cidrs,
        bool Unknown,
        bool UnknownExternal,
        bool Wildcard);

    private void ReadCiliumSupport(Resource r)
    {
        if (r.Kind == "CiliumCIDRGroup")
        {
            var ranges = new List<(uint Lo, uint Hi)>();
            foreach (var c in Json.Get(Json.Get(r.Root, "spec"u8), "externalCIDRs"u8) is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray() : default)
            {
                if (TryRange(Json.AsString(c), out var range))
                {
                    ranges.Add(range);
                }
            }

            _cidrGroups[r.Ref.Name] = ranges;
        }
    }

    private void ReadCilium(Resource r, Dictionary<string, List<Resource>> unmodelled)
    {
        if (r.Kind is not ("CiliumNetworkPolicy" or "CiliumClusterwideNetworkPolicy"))
        {
            if (r.Kind.EndsWith("NetworkPolicy", StringComparison.Ordinal))
            {
                Add(unmodelled, "this Cilium policy kind is not modelled", r);
            }

            return;
        }

        if (r.Ref.ApiVersion != "cilium.io/v2")
        {
            Add(unmodelled, "only cilium.io/v2 policies are modelled", r);
            return;
        }

        var clusterwide = r.Kind == "CiliumClusterwideNetworkPolicy";
        var ns = clusterwide ? null : r.Ref.Namespace ?? "default";
        if (ns is not null)
        {
            Namespace(ns);
        }

        var spec = Json.Get(r.Root, "spec"u8);
        if (spec.ValueKind == JsonValueKind.Object)
        {
            ReadCiliumRule(r, spec, "spec", ns, clusterwide);
        }

        var specs = Json.Get(r.Root, "specs"u8);
        var i = 0;
        foreach (var s in specs.ValueKind == JsonValueKind.Array ? specs.EnumerateArray() : default)
        {
            ReadCiliumRule(r, s, $"specs[{i++}]", ns, clusterwide);
        }
    }

    private void ReadCiliumRule(Resource r, JsonElement rule, string path, string? ns, bool clusterwide)
    {
        var kind = clusterwide ? PolicyFlavor.CiliumClusterwide : PolicyFlavor.Cilium;
        var endpointSelector = Json.Get(rule, "endpointSelector"u8);
        if (endpointSelector.ValueKind != JsonValueKind.Object)
        {
            Note(r, path, Json.Exists(Json.Get(rule, "nodeSelector"u8))
                ? $"{r.Kind} {Display(r)} {path} is a host policy (nodeSelector), which is not modelled; it does not affect pods"
                : $"{r.Kind} {Display(r)} {path} has no endpointSelector; Cilium rejects it, so it is left out");
            return;
        }

        var selector = CiliumPolicies.Normalise(ResourceIndex.ReadSelector(endpointSelector));
        var ingress = ReadCiliumRules(r, Json.Get(rule, "ingress"u8), $"{path}.ingress", ns, "from", PolicyAction.Allow);
        var egress = ReadCiliumRules(r, Json.Get(rule, "egress"u8), $"{path}.egress", ns, "to", PolicyAction.Allow);
        var ingressDeny = ReadCiliumRules(r, Json.Get(rule, "ingressDeny"u8), $"{path}.ingressDeny", ns, "from", PolicyAction.Deny);
        var egressDeny = ReadCiliumRules(r, Json.Get(rule, "egressDeny"u8), $"{path}.egressDeny", ns, "to", PolicyAction.Deny);
        var defaultDeny = Json.Get(rule, "enableDefaultDeny"u8);
        var isolatesIngress = Json.Get(defaultDeny, "ingress"u8) is { ValueKind: JsonValueKind.True or JsonValueKind.False } di
            ? di.ValueKind == JsonValueKind.True : Json.ArrayLength(Json.Get(rule, "ingress"u8)) + Json.ArrayLength(Json.Get(rule, "ingressDeny"u8)) > 0;
        var isolatesEgress = Json.Get(defaultDeny, "egress"u8) is { ValueKind: JsonValueKind.True or JsonValueKind.False } de
            ? de.ValueKind == JsonValueKind.True : Json.ArrayLength(Json.Get(rule, "egress"u8)) + Json.ArrayLength(Json.Get(rule, "egressDeny"u8)) > 0;
        _policies.Add(new NetworkPolicyInfo(r, kind, ns, r.Ref.Name)
        {
            SelectorPath = $"{path}.endpointSelector",
            IsolatesIngress = isolatesIngress,
            IsolatesEgress = isolatesEgress,
            Selects = (model, w) => !w.HostNetwork && (ns is null || w.Namespace == ns) && selector.Matches(model.CiliumLabels(w)),
            IngressRules = ingress,
            EgressRules = egress,
            IngressDeny = ingressDeny,
            EgressDeny = egressDeny,
        });
    }

    private List<PolicyRule> ReadCiliumRules(Resource r, JsonElement rules, string path, string? ns, string prefix, PolicyAction action)
    {
        var result = new List<PolicyRule>();
        var index = 0;
        var direction = prefix == "from" ? "ingress" : "egress";
        foreach (var rule in rules.ValueKind == JsonValueKind.Array ? rules.EnumerateArray() : default)
        {
            var i = index++;
            var rulePath = $"{path}[{i}]";
            var what = $"{r.Kind} {Display(r)} {rulePath}";
            var endpoints = new List<(LabelSelector, string?)>();
            foreach (var e in Json.Get(rule, prefix + "Endpoints") is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray() : default)
            {
                var sel = CiliumPolicies.Normalise(ResourceIndex.ReadSelector(e));
                endpoints.Add((sel, ns is not null && !CiliumPolicies.NamesNamespace(sel) ? ns : null));
            }

            var entities = new HashSet<string>(StringComparer.Ordinal);
            foreach (var e in Json.Get(rule, prefix + "Entities") is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray() : default)
            {
                if (Json.AsString(e) is { } entity)
                {
                    entities.Add(entity);
                }
            }

            var cidrs = new List<(uint Lo, uint Hi)>();
            var open = new List<(string Path, string Message)>();
            var j = 0;
            foreach (var c in Json.Get(rule, prefix + "CIDR") is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray() : default)
            {
                if (TryRange(Json.AsString(c), out var range))
                {
                    cidrs.Add(range);
                }

                if (Json.AsString(c) is "0.0.0.0/0" or "::/0" && action == PolicyAction.Allow)
                {
                    open.Add(($"{rulePath}.{prefix}CIDR[{j}]", $"{direction} rule {rulePath} allows {Json.AsString(c)}: every address on the internet"));
                }

                j++;
            }

            j = 0;
            foreach (var c in Json.Get(rule, prefix + "CIDRSet") is { ValueKind: JsonValueKind.Array } list ? list.EnumerateArray() : default)
            {
                if (Json.GetString(c, "cidrGroupRef") is { } group)
                {
                    if (_cidrGroups.TryGetValue(group, out var ranges))
                    {
                        cidrs.AddRange(ranges);
                    }
                    else
                    {
                        Note(r, $"{rulePath}.{prefix}CIDRSet[{j}]", $"{what} refers to CiliumCIDRGroup '{group}', which is not in the input: the rule matches none of its addresses");
                    }
                }
                else
                {
                    cidrs.AddRange(ReadBlock(c));
                    if (Json.GetString(c, "cidr") is "0.0.0.0/0" or "::/0" && action == PolicyAction.Allow)
                    {
                        open.Add(($"{rulePath}.{prefix}CIDRSet[{j}].cidr", $"{direction} rule {rulePath} allows {Json.GetString(c, "cidr")}: every address on the internet{(Json.Exists(Json.Get(c, "except"u8)) ? " (minus the excepted ranges)" : string.Empty)}"));
                    }
                }

                j++;
            }

            var unknown = false;
            var unknownExternal = false;
            foreach (var field in new[] { prefix + "Groups", prefix + "Nodes", "toServices", "toFQDNs" })
            {
                if (field.StartsWith(prefix, StringComparison.Ordinal) || prefix == "to")
                {
                    if (Json.ArrayLength(Json.Get(rule, field)) > 0)
                    {
                        Note(r, $"{rulePath}.{field}", $"{what} uses {field}, which is not modelled: {(action == PolicyAction.Allow ? "it counts as allowing every peer it could name" : "it counts as denying nothing")}");
                        unknown |= field is "toServices" || field.EndsWith("Nodes", StringComparison.Ordinal);
                        unknownExternal |= field is "toServices" or "toFQDNs" || field.EndsWith("Groups", StringComparison.Ordinal);
                    }
                }
            }

            if (Json.ArrayLength(Json.Get(rule, prefix + "Requires")) > 0)
            {
                Note(r, $"{rulePath}.{prefix}Requires", $"{what} uses {prefix}Requires, which is not modelled: the rule is taken without that extra condition");
            }

            var toPorts = Json.Get(rule, "toPorts"u8);
            var hasPorts = Json.ArrayLength(toPorts) > 0;
            var hasIcmp = Json.ArrayLength(Json.Get(rule, "icmps"u8)) > 0;
            var l3 = endpoints.Count > 0 || entities.Count > 0 || cidrs.Count > 0 || unknown || unknownExternal
                || Json.ArrayLength(Json.Get(rule, prefix + "CIDR")) + Json.ArrayLength(Json.Get(rule, prefix + "CIDRSet")) > 0;
            var wildcard = !l3 && (hasPorts || hasIcmp);
            if (wildcard && action == PolicyAction.Allow)
            {
                open.Add((rulePath, $"{direction} rule {rulePath} names only ports: it applies to every {(direction == "ingress" ? "source" : "destination")}, inside the cluster and out"));
            }

            if (entities.Contains("world") || entities.Contains("world-ipv4") || entities.Contains("all"))
            {
                if (action == PolicyAction.Allow)
                {
                    open.Add(($"{rulePath}.{prefix}Entities", $"{direction} rule {rulePath} allows the '{(entities.Contains("all") ? "all" : "world")}' entity: every address outside the cluster"));
                }
            }

            var ports = hasPorts ? ReadCiliumPorts(r, toPorts, rulePath, what, action) : hasIcmp ? PortSet.Nothing : PortSet.Every;
            var peer = new CiliumPeer(endpoints, entities, cidrs, unknown, unknownExternal, wildcard);
            result.Add(new PolicyRule
            {
                Index = i,
                Path = rulePath,
                Action = action,
                Matches = (model, _, other, address) => model.MatchCilium(peer, other, address),
                Ports = ports,
                Connections = ports.IsFixed ? _ => ports.Fixed : ports.Resolve,
                Boundaries = cidrs,
                OpenTo = open,
            });
        }

        return result;
    }

    private Match MatchCilium(CiliumPeer peer, NetworkWorkload? w, uint address)
    {
        if (peer.Wildcard)
        {
            return Match.Yes;
        }

        if (w is null)
        {
            if (peer.Entities.Contains("world") || peer.Entities.Contains("world-ipv4") || peer.Entities.Contains("all")
                || peer.Cidrs.Any(r => r.Lo <= address && address <= r.Hi))
            {
                return Match.Yes;
            }

            return peer.UnknownExternal ? Match.Unknown : Match.No;
        }

        if (peer.Entities.Contains("all") || peer.Entities.Contains("cluster"))
        {
            return Match.Yes;
        }

        if (w.HostNetwork)
        {
            // A host-network pod has the node's identity, not its labels.
            return peer.Entities.Contains("host") || peer.Entities.Contains("remote-node") ? Match.Yes : peer.Unknown ? Match.Unknown : Match.No;
        }

        foreach (var (selector, ns) in peer.Endpoints)
        {
            if ((ns is null || w.Namespace == ns) && selector.Matches(CiliumLabels(w)))
            {
                return Match.Yes;
            }
        }

        return peer.Unknown ? Match.Unknown : Match.No;
    }

    private PortSet ReadCiliumPorts(Resource r, JsonElement toPorts, string rulePath, string what, PolicyAction action)
    {
        var set = ConnectionSet.None;
        var named = new List<(string, string?)>();
        var k = 0;
        foreach (var entry in toPorts.EnumerateArray())
        {
            if (Json.Get(entry, "rules"u8) is { ValueKind: JsonValueKind.Object } l7 && l7.EnumerateObject().Any())
            {
                Note(r, $"{rulePath}.toPorts[{k}].rules", $"{what} has L7 rules ({string.Join(", ", l7.EnumerateObject().Select(p => p.Name))}), which are not modelled: {(action == PolicyAction.Allow ? "the ports count as allowed for every request" : "they are ignored")}");
            }

            var ports = Json.Get(entry, "ports"u8);
            if (ports.ValueKind != JsonValueKind.Array || ports.GetArrayLength() == 0)
            {
                set = ConnectionSet.All;
                k++;
                continue;
            }

            foreach (var p in ports.EnumerateArray())
            {
                var protocol = (Json.GetString(p, "protocol") ?? "ANY").ToUpperInvariant();
                var protocols = protocol == "ANY" ? ConnectionSet.Protocols : ConnectionSet.ProtocolIndex(protocol) >= 0 ? [protocol] : [];
                var portText = Json.Get(p, "port"u8) is { ValueKind: JsonValueKind.Number } n ? n.GetInt64().ToString(CultureInfo.InvariantCulture) : Json.GetString(p, "port");
                var end = Json.GetInt64(Json.Get(p, "endPort"u8));
                if (string.IsNullOrEmpty(portText) || portText == "0")
                {
                    foreach (var proto in protocols)
                    {
                        set = set.Union(ConnectionSet.AllOf(proto));
                    }
                }
                else if (int.TryParse(portText, CultureInfo.InvariantCulture, out var lo))
                {
                    foreach (var proto in protocols)
                    {
                        set = set.Union(ConnectionSet.Of(proto, lo, end is { } e && e >= lo ? (int)e : lo));
                    }
                }
                else
                {
                    named.Add((portText, protocol == "ANY" ? null : protocol));
                }
            }

            k++;
        }

        return new PortSet(set, named);
    }
}
