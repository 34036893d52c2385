using System.Text.Json;
using Skjold.Engine.Model;
using Skjold.Engine.Workloads;

namespace Skjold.Engine.Network;

/// <summary>
/// networking.k8s.io/v1 NetworkPolicy: podSelector in the policy's namespace, policyTypes with
/// Kubernetes' defaulting, rules whose peers are pods by selector (in the policy's namespace, or in
/// the namespaces a namespaceSelector matches), or IP blocks minus their excepts (for addresses
/// outside the cluster); ports by number, range (endPort) or name.
/// </summary>
internal static class KubernetesPolicies
{
    /// <summary>A peer of a rule: pods by selectors, or an IP block (ranges after excepts).</summary>
    private sealed record Peer(LabelSelector? Pods, LabelSelector? Namespaces, IReadOnlyList<(uint Lo, uint Hi)>? Block)
    {
        public bool Matches(NetworkModel model, string policyNamespace, NetworkWorkload? target, uint address)
        {
            if (target is null)
            {
                return Block is { } b && b.Any(r => r.Lo <= address && address <= r.Hi);
            }

            if (Block is not null)
            {
                return false; // IP blocks are for addresses outside the cluster
            }

            if (Namespaces is null)
            {
                return target.Namespace == policyNamespace && (Pods is null || Pods.Matches(target.Labels));
            }

            return Namespaces.Matches(model.NamespaceLabels(target.Namespace)) && (Pods is null || Pods.Matches(target.Labels));
        }
    }

    /// <param name="calicoOrder">Under Calico, Kubernetes policies sit in the default tier at order 1000.</param>
    public static NetworkPolicyInfo Read(Resource r, double? calicoOrder = null)
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

        var ns = r.Ref.Namespace ?? "default";
        var selector = ResourceIndex.ReadSelector(Json.Get(spec, "podSelector"u8));
        return new NetworkPolicyInfo(r, PolicyFlavor.Kubernetes, ns, r.Ref.Name)
        {
            SelectorPath = "spec.podSelector",
            Order = calicoOrder,
            IsolatesIngress = affectsIngress,
            IsolatesEgress = affectsEgress,
            Selects = (_, w) => !w.HostNetwork && w.Namespace == ns && selector.Matches(w.Labels),
            IngressRules = affectsIngress ? ReadRules(ingress, ns, "ingress", "from") : [],
            EgressRules = affectsEgress ? ReadRules(egress, ns, "egress", "to") : [],
        };
    }

    private static List<PolicyRule> ReadRules(JsonElement rules, string ns, string direction, string peersField)
    {
        var result = new List<PolicyRule>();
        if (rules.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        var index = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            var path = $"spec.{direction}[{index}]";
            var open = new List<(string Path, string Message)>();
            var peersJson = Json.Get(rule, peersField);
            List<Peer>? peers = null;
            var bounds = new List<(uint Lo, uint Hi)>();
            if (peersJson.ValueKind == JsonValueKind.Array && peersJson.GetArrayLength() > 0)
            {
                peers = [];
                var j = 0;
                foreach (var p in peersJson.EnumerateArray())
                {
                    var block = Json.Get(p, "ipBlock"u8);
                    if (block.ValueKind == JsonValueKind.Object)
                    {
                        var ranges = NetworkModel.ReadBlock(block);
                        bounds.AddRange(ranges);
                        peers.Add(new Peer(null, null, ranges));
                        var cidr = Json.GetString(block, "cidr");
                        if (cidr is "0.0.0.0/0" or "::/0")
                        {
                            open.Add(($"{path}.{peersField}[{j}].ipBlock.cidr",
                                $"{direction} rule {index} allows {cidr}: every address on the internet{(Json.Get(block, "except"u8).ValueKind == JsonValueKind.Array ? " (minus the excepted ranges)" : string.Empty)}"));
                        }
                    }
                    else
                    {
                        var pods = Json.Get(p, "podSelector"u8);
                        var nss = Json.Get(p, "namespaceSelector"u8);
                        peers.Add(new Peer(
                            pods.ValueKind == JsonValueKind.Object ? ResourceIndex.ReadSelector(pods) : null,
                            nss.ValueKind == JsonValueKind.Object ? ResourceIndex.ReadSelector(nss) : null,
                            null));
                    }

                    j++;
                }
            }
            else
            {
                open.Add((path, $"{direction} rule {index} has no '{peersField}': it applies to every {(direction == "ingress" ? "source" : "destination")}, inside the cluster and out"));
            }

            var ports = ReadPorts(Json.Get(rule, "ports"u8));
            var matched = peers;
            result.Add(new PolicyRule
            {
                Index = index,
                Path = path,
                Matches = matched is null
                    ? static (_, _, _, _) => Match.Yes
                    : (model, _, peer, address) => matched.Any(x => x.Matches(model, ns, peer, address)) ? Match.Yes : Match.No,
                Ports = ports,
                Connections = ports.IsFixed ? _ => ports.Fixed : ports.Resolve,
                Boundaries = bounds,
                OpenTo = open,
            });
            index++;
        }

        return result;
    }

    private static PortSet ReadPorts(JsonElement portsJson)
    {
        if (portsJson.ValueKind != JsonValueKind.Array || portsJson.GetArrayLength() == 0)
        {
            return PortSet.Every;
        }

        var set = ConnectionSet.None;
        var named = new List<(string, string?)>();
        foreach (var p in portsJson.EnumerateArray())
        {
            var protocol = Json.GetString(p, "protocol") ?? "TCP";
            var port = Json.Get(p, "port"u8);
            var end = Json.GetInt64(Json.Get(p, "endPort"u8));
            int? number = port.ValueKind switch
            {
                JsonValueKind.Number => (int)port.GetInt64(),
                JsonValueKind.String when int.TryParse(port.GetString(), out var n) => n,
                _ => null,
            };
            if (number is { } lo)
            {
                set = set.Union(ConnectionSet.Of(protocol, lo, end is { } e && e >= lo ? (int)e : lo));
            }
            else if (port.ValueKind == JsonValueKind.String)
            {
                named.Add((port.GetString()!, protocol));
            }
            else
            {
                set = set.Union(ConnectionSet.AllOf(protocol));
            }
        }

        return new PortSet(set, named);
    }
}
