using System.Text.Json;
using Skjold.Engine.Model;

namespace Skjold.Engine.Network;

/// <summary>A Calico NetworkSet or GlobalNetworkSet: labelled address ranges that rule selectors can match.</summary>
internal sealed record NetworkSet(string? Namespace, IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(uint Lo, uint Hi)> Ranges)
{
    public bool Global => Namespace is null;
}

/// <summary>
/// Calico (projectcalico.org/v3 and the crd.projectcalico.org/v1 objects behind it): Tier order and
/// defaultAction, NetworkPolicy (its namespace) and GlobalNetworkPolicy (every namespace, narrowed by
/// namespaceSelector), selectors in Calico's expression language, types with Calico's defaulting,
/// rules with action, protocol and notProtocol, source and destination (nets, notNets, selector,
/// notSelector, namespaceSelector, serviceAccounts, services, ports, notPorts), network sets and IP
/// pools. Not modelled, with a note: HTTP matches, source ports, IPv6-only rules, policies for host
/// endpoints only (doNotTrack, preDNAT), staged policies (not enforced).
/// </summary>
public sealed partial class NetworkModel
{
    private readonly Dictionary<string, Dictionary<string, string>> _calicoNamespaceLabels = new(StringComparer.Ordinal);

    private sealed record CalicoEntity(
        List<(uint Lo, uint Hi)>? Nets,
        List<(uint Lo, uint Hi)>? NotNets,
        CalicoSelector? Selector,
        CalicoSelector? NotSelector,
        CalicoSelector? NamespaceSelector,
        string[]? ServiceAccountNames,
        CalicoSelector? ServiceAccountSelector,
        (string? Namespace, string Name)? Service,
        JsonElement Ports,
        JsonElement NotPorts,
        bool SourcePorts)
    {
        public bool IsEmpty => Nets is null && NotNets is null && Selector is null && NotSelector is null && NamespaceSelector is null
            && ServiceAccountNames is null && ServiceAccountSelector is null && Service is null;
    }

    /// <summary>Objects that other Calico objects refer to: tiers, network sets and IP pools. Read before the policies.</summary>
    private void ReadCalicoSupport(Resource r)
    {
        var spec = Json.Get(r.Root, "spec"u8);
        switch (r.Kind)
        {
            case "Tier":
                double? order = Json.Get(spec, "order"u8) is { ValueKind: JsonValueKind.Number } o ? o.GetDouble() : null;
                _tiers[r.Ref.Name] = (order, string.Equals(Json.GetString(spec, "defaultAction"), "Pass", StringComparison.OrdinalIgnoreCase));
                break;
            case "NetworkSet" or "GlobalNetworkSet":
                var ranges = new List<(uint Lo, uint Hi)>();
                foreach (var n in Json.Get(spec, "nets"u8) is { ValueKind: JsonValueKind.Array } nets ? nets.EnumerateArray() : default)
                {
                    if (TryRange(Json.AsString(n), out var range))
                    {
                        ranges.Add(range);
                    }
                }

                var labels = ReadLabels(Json.Get(Json.Get(r.Root, "metadata"u8), "labels"u8));
                var ns = r.Kind == "NetworkSet" ? r.Ref.Namespace ?? "default" : null;
                if (ns is not null)
                {
                    labels["projectcalico.org/namespace"] = ns;
                }

                NetworkSets.Add(new NetworkSet(ns, labels, ranges));
                break;
            case "IPPool":
                if (!Json.IsTrue(Json.Get(spec, "disabled"u8)) && TryRange(Json.GetString(spec, "cidr"), out var pool))
                {
                    PodRanges.Add(pool);
                }

                break;
        }
    }

    private void ReadCalico(Resource r, Dictionary<string, List<Resource>> unmodelled)
    {
        if (r.Kind is "StagedNetworkPolicy" or "StagedGlobalNetworkPolicy" or "StagedKubernetesNetworkPolicy")
        {
            Add(unmodelled, "staged policies are not enforced (they only report what they would do)", r);
            return;
        }

        if (r.Kind is not ("NetworkPolicy" or "GlobalNetworkPolicy"))
        {
            if (r.Kind.EndsWith("NetworkPolicy", StringComparison.Ordinal))
            {
                Add(unmodelled, "this Calico policy kind is not modelled", r);
            }

            return;
        }

        var global = r.Kind == "GlobalNetworkPolicy";
        var spec = Json.Get(r.Root, "spec"u8);
        if (Json.IsTrue(Json.Get(spec, "doNotTrack"u8)) || Json.IsTrue(Json.Get(spec, "preDNAT"u8)))
        {
            Note(r, "spec", $"GlobalNetworkPolicy {r.Ref.Name} applies to host endpoints only (doNotTrack or preDNAT), which are not modelled; it does not affect pods");
            return;
        }

        var ns = global ? null : r.Ref.Namespace ?? "default";
        if (ns is not null)
        {
            Namespace(ns);
        }

        var selector = CalicoSelector.Parse(Json.GetString(spec, "selector"), out var error);
        var nsSelectorText = global ? Json.GetString(spec, "namespaceSelector") : null;
        var nsSelector = string.IsNullOrWhiteSpace(nsSelectorText) ? null : CalicoSelector.Parse(nsSelectorText, out error);
        var saText = Json.GetString(spec, "serviceAccountSelector");
        var saSelector = string.IsNullOrWhiteSpace(saText) ? null : CalicoSelector.Parse(saText, out error);
        if (selector is null || (nsSelectorText is { Length: > 0 } && nsSelector is null) || (saText is { Length: > 0 } && saSelector is null))
        {
            Note(r, "spec.selector", $"{r.Kind} {Display(r)}: {error}; Calico rejects such a policy, so it is left out");
            return;
        }

        var ingressJson = Json.Get(spec, "ingress"u8);
        var egressJson = Json.Get(spec, "egress"u8);
        var hasIngress = Json.ArrayLength(ingressJson) > 0;
        var hasEgress = Json.ArrayLength(egressJson) > 0;
        bool ingress, egress;
        var types = Json.Get(spec, "types"u8);
        if (types.ValueKind == JsonValueKind.Array && types.GetArrayLength() > 0)
        {
            var list = types.EnumerateArray().Select(Json.AsString).ToList();
            ingress = list.Contains("Ingress");
            egress = list.Contains("Egress");
        }
        else
        {
            // Calico's defaulting: Egress alone when there are only egress rules, both when both, Ingress otherwise.
            egress = hasEgress;
            ingress = hasIngress || !hasEgress;
        }

        var tier = Json.GetString(spec, "tier") is { Length: > 0 } t ? t : DefaultTier;
        if (tier != DefaultTier && !_tiers.ContainsKey(tier))
        {
            Note(r, "spec.tier", $"{r.Kind} {Display(r)} is in tier '{tier}', which is not in the input: it is taken to come after the tiers with an order");
        }

        double? order = Json.Get(spec, "order"u8) is { ValueKind: JsonValueKind.Number } o ? o.GetDouble() : null;
        var name = r.Ref.Name;
        _policies.Add(new NetworkPolicyInfo(r, global ? PolicyFlavor.CalicoGlobal : PolicyFlavor.Calico, ns, name)
        {
            SelectorPath = "spec.selector",
            Tier = tier,
            Order = order,
            IsolatesIngress = ingress,
            IsolatesEgress = egress,
            Selects = (model, w) => !w.HostNetwork && (ns is null || w.Namespace == ns) && selector.Matches(model.CalicoLabels(w))
                && (nsSelector is null || nsSelector.Matches(model.CalicoNamespaceLabels(w.Namespace)))
                && (saSelector is null || saSelector.Matches(model.CalicoServiceAccountLabels(w))),
            IngressRules = ingress ? ReadCalicoRules(r, ingressJson, ns, "ingress") : [],
            EgressRules = egress ? ReadCalicoRules(r, egressJson, ns, "egress") : [],
        });
    }

    private static void Add(Dictionary<string, List<Resource>> unmodelled, string why, Resource r) =>
        (unmodelled.TryGetValue(why, out var list) ? list : unmodelled[why] = []).Add(r);

    /// <summary>Computed once at build for the input's namespaces, so that queries only read.</summary>
    private void CacheCalicoNamespaceLabels()
    {
        foreach (var ns in _namespaces.Keys)
        {
            _calicoNamespaceLabels[ns] = new Dictionary<string, string>(_namespaces[ns], StringComparer.Ordinal) { ["projectcalico.org/name"] = ns };
        }
    }

    internal IReadOnlyDictionary<string, string> CalicoNamespaceLabels(string ns)
    {
        if (_calicoNamespaceLabels.TryGetValue(ns, out var cached))
        {
            return cached;
        }

        return new Dictionary<string, string>(NamespaceLabels(ns), StringComparer.Ordinal) { ["projectcalico.org/name"] = ns };
    }

    private IReadOnlyDictionary<string, string> CalicoServiceAccountLabels(NetworkWorkload w)
    {
        var labels = ServiceAccountLabels.TryGetValue((w.Namespace, w.ServiceAccount), out var l)
            ? new Dictionary<string, string>(l, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        labels["projectcalico.org/name"] = w.ServiceAccount;
        return labels;
    }

    private List<PolicyRule> ReadCalicoRules(Resource r, JsonElement rules, string? ns, string direction)
    {
        var result = new List<PolicyRule>();
        var index = 0;
        foreach (var rule in rules.ValueKind == JsonValueKind.Array ? rules.EnumerateArray() : default)
        {
            var path = $"spec.{direction}[{index}]";
            var i = index++;
            var actionText = Json.GetString(rule, "action");
            PolicyAction? action = actionText?.ToUpperInvariant() switch
            {
                "ALLOW" => PolicyAction.Allow,
                "DENY" => PolicyAction.Deny,
                "PASS" or "NEXT-TIER" => PolicyAction.Pass,
                "LOG" => PolicyAction.Log,
                _ => null,
            };
            if (action is not { } act)
            {
                Note(r, path, $"{r.Kind} {Display(r)} {direction} rule {i} has no valid action ('{actionText}'); Calico rejects it, so the rule is left out");
                continue;
            }

            if (Json.GetInt64(Json.Get(rule, "ipVersion"u8)) == 6)
            {
                Note(r, path, $"{r.Kind} {Display(r)} {direction} rule {i} is for IPv6 only, which is not modelled; the rule is left out");
                continue;
            }

            if (Json.Exists(Json.Get(rule, "http"u8)))
            {
                Note(r, path + ".http", $"{r.Kind} {Display(r)} {direction} rule {i} matches HTTP requests, which is not modelled: {(act == PolicyAction.Allow ? "it counts as allowing every request" : "it counts as matching nothing")}");
            }

            var sourceJson = Json.Get(rule, "source"u8);
            var destinationJson = Json.Get(rule, "destination"u8);
            var source = ReadEntity(sourceJson, $"{path}.source", out var sourceError);
            var destination = ReadEntity(destinationJson, $"{path}.destination", out var destinationError);
            if (source is null || destination is null)
            {
                Note(r, path, $"{r.Kind} {Display(r)} {direction} rule {i}: {sourceError ?? destinationError}; Calico rejects it, so the rule is left out");
                continue;
            }

            if (source.SourcePorts)
            {
                Note(r, path + ".source.ports", $"{r.Kind} {Display(r)} {direction} rule {i} matches source ports, which are not modelled: {(act == PolicyAction.Allow ? "it counts as matching every source port" : "it counts as matching nothing")}");
            }

            var peer = direction == "ingress" ? source : destination;
            var local = direction == "ingress" ? destination : source;
            var protocols = Protocols(Json.Get(rule, "protocol"u8), out var protocolName);
            var notProtocols = Json.Exists(Json.Get(rule, "notProtocol"u8)) ? Protocols(Json.Get(rule, "notProtocol"u8), out _) : ConnectionSet.None;
            var baseSet = protocols.Subtract(notProtocols);
            var ports = ReadCalicoPorts(destination.Ports, protocolName);
            var notPorts = Json.ArrayLength(destination.NotPorts) > 0 ? ReadCalicoPorts(destination.NotPorts, protocolName) : PortSet.Nothing;
            Func<NetworkWorkload?, ConnectionSet> connections;
            if (ports.IsFixed && notPorts.IsFixed)
            {
                var fixedSet = baseSet.Intersect(ports.Fixed).Subtract(notPorts.Fixed);
                connections = _ => fixedSet;
            }
            else
            {
                connections = d => baseSet.Intersect(ports.Resolve(d)).Subtract(notPorts.Resolve(d));
            }

            var open = new List<(string Path, string Message)>();
            if (act == PolicyAction.Allow)
            {
                var field = direction == "ingress" ? "source" : "destination";
                if (peer.IsEmpty)
                {
                    open.Add((path, $"{direction} rule {i} allows every {field}, inside the cluster and out"));
                }

                var nets = Json.Get(Json.Get(rule, field), "nets"u8);
                var j = 0;
                foreach (var n in nets.ValueKind == JsonValueKind.Array ? nets.EnumerateArray() : default)
                {
                    if (Json.AsString(n) is "0.0.0.0/0" or "::/0")
                    {
                        open.Add(($"{path}.{field}.nets[{j}]", $"{direction} rule {i} allows {Json.AsString(n)}: every address on the internet{(Json.Exists(Json.Get(Json.Get(rule, field), "notNets"u8)) ? " (minus notNets)" : string.Empty)}"));
                    }

                    j++;
                }
            }

            var unknownSourcePorts = source.SourcePorts;
            result.Add(new PolicyRule
            {
                Index = i,
                Path = path,
                Action = act,
                Matches = (model, self, other, address) =>
                {
                    var m = model.MatchEntity(peer, ns, other, address);
                    if (m == Match.No)
                    {
                        return m;
                    }

                    var l = model.MatchEntity(local, ns, self, 0);
                    var both = And(m, l);
                    return unknownSourcePorts ? And(both, Match.Unknown) : both;
                },
                Connections = connections,
                Ports = new PortSet(connections(null), ports.Named),
                Boundaries = [.. peer.Nets ?? [], .. peer.NotNets ?? []],
                OpenTo = open,
            });
        }

        return result;
    }

    private static CalicoEntity? ReadEntity(JsonElement e, string path, out string? error)
    {
        error = null;
        string? firstError = null;
        if (e.ValueKind != JsonValueKind.Object)
        {
            return new CalicoEntity(null, null, null, null, null, null, null, null, default, default, false);
        }

        CalicoSelector? Sel(string field)
        {
            var text = Json.GetString(e, field);
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            var s = CalicoSelector.Parse(text, out var err);
            firstError ??= err is null ? null : $"{path}.{field}: {err}";
            return s;
        }

        static List<(uint, uint)>? Nets(JsonElement list)
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var ranges = new List<(uint, uint)>();
            foreach (var n in list.EnumerateArray())
            {
                if (TryRange(Json.AsString(n), out var range))
                {
                    ranges.Add(range); // IPv6 nets match nothing in the IPv4 model
                }
            }

            return ranges;
        }

        var selector = Sel("selector");
        var notSelector = Sel("notSelector");
        var nsSelector = Sel("namespaceSelector");
        var sa = Json.Get(e, "serviceAccounts"u8);
        string[]? saNames = null;
        CalicoSelector? saSelector = null;
        if (sa.ValueKind == JsonValueKind.Object)
        {
            if (Json.Get(sa, "names"u8) is { ValueKind: JsonValueKind.Array } names)
            {
                saNames = [.. names.EnumerateArray().Select(n => Json.AsString(n) ?? string.Empty)];
            }

            if (Json.GetString(sa, "selector") is { Length: > 0 } text)
            {
                saSelector = CalicoSelector.Parse(text, out var err);
                firstError ??= err is null ? null : $"{path}.serviceAccounts.selector: {err}";
            }
        }

        var svc = Json.Get(e, "services"u8);
        (string?, string)? service = svc.ValueKind == JsonValueKind.Object && Json.GetString(svc, "name") is { } svcName ? (Json.GetString(svc, "namespace"), svcName) : null;
        if (firstError is not null)
        {
            error = firstError;
            return null;
        }

        // On the source side, ports are source ports.
        var sourcePorts = path.EndsWith(".source", StringComparison.Ordinal) && Json.ArrayLength(Json.Get(e, "ports"u8)) + Json.ArrayLength(Json.Get(e, "notPorts"u8)) > 0;
        return new CalicoEntity(Nets(Json.Get(e, "nets"u8)), Nets(Json.Get(e, "notNets"u8)), selector, notSelector, nsSelector, saNames, saSelector, service,
            Json.Get(e, "ports"u8), Json.Get(e, "notPorts"u8), sourcePorts);
    }

}
