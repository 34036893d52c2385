using Skjold.Engine.Model;
using Skjold.Engine.Network;

namespace Skjold.Engine.Cluster;

/// <summary>
/// NetworkPolicy posture (CIS 5.3.x): namespaces whose pods are not all isolated for ingress and
/// egress (no default deny), workloads no policy selects, policies that select nothing, egress
/// isolation that leaves no way to DNS, and rules open to any address.
/// </summary>
internal sealed class NetworkChecks : ClusterCheck
{
    private static readonly HashSet<string> PlatformNamespaces = new(StringComparer.Ordinal) { "kube-system", "kube-public", "kube-node-lease" };

    public override IReadOnlyList<string> Ids { get; } =
    [
        "netpol/namespace-default-deny", "netpol/workload-unselected", "netpol/selects-nothing", "netpol/egress-blocks-dns",
        "netpol/ingress-from-anywhere", "netpol/egress-to-anywhere",
    ];

    public override void Evaluate(ClusterContext context, ClusterSink sink)
    {
        var model = NetworkModel.Build(context.Resources, context.Index);
        var namespaceObjects = context.Resources.Where(r => r.Kind == "Namespace").GroupBy(r => r.Ref.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var workloadsByNs = model.Workloads.Where(w => !w.HostNetwork).GroupBy(w => w.Namespace).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var policiesByNs = model.Policies.GroupBy(p => p.Namespace).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        foreach (var (ns, workloads) in workloadsByNs.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            if (PlatformNamespaces.Contains(ns))
            {
                continue;
            }

            var policies = policiesByNs.GetValueOrDefault(ns) ?? [];
            var ingressAll = policies.Any(p => p.PodSelector.IsEmpty && p.AffectsIngress);
            var egressAll = policies.Any(p => p.PodSelector.IsEmpty && p.AffectsEgress);
            if (!ingressAll || !egressAll)
            {
                var missing = !ingressAll && !egressAll ? "ingress and egress" : !ingressAll ? "ingress" : "egress";
                var target = namespaceObjects.GetValueOrDefault(ns) ?? workloads[0].Resource;
                sink.Report("netpol/namespace-default-deny", target, "metadata",
                    $"namespace {ns} has no policy that isolates all its pods for {missing} (a default deny); {(policies.Count == 0 ? "it has no NetworkPolicy at all, so every pod accepts and opens any connection" : $"only some pods are isolated by {policies.Count} policies")}");
            }

            if (policies.Count > 0)
            {
                foreach (var w in workloads)
                {
                    var (ingress, egress) = model.SelectingPolicies(w);
                    if (ingress.Count == 0 && egress.Count == 0)
                    {
                        sink.Report("netpol/workload-unselected", w.Resource, "metadata.labels",
                            $"{w.Id} is selected by no NetworkPolicy of {ns}: it accepts connections from anywhere and may connect anywhere");
                    }
                }
            }
        }

        foreach (var p in model.PoliciesSelectingNothing())
        {
            // Only meaningful when the namespace's workloads are part of the input.
            if (workloadsByNs.ContainsKey(p.Namespace))
            {
                sink.Report("netpol/selects-nothing", p.Resource, "spec.podSelector",
                    $"the pod selector matches no pod or workload in {p.Namespace}; the policy has no effect (a typo in a label?)");
            }
        }

        foreach (var w in model.Workloads)
        {
            var (_, egress) = model.SelectingPolicies(w);
            if (egress.Count > 0 && !w.HostNetwork && !AllowsDns(egress))
            {
                sink.Report("netpol/egress-blocks-dns", w.Resource, "metadata.labels",
                    $"{w.Id} is isolated for egress by {string.Join(", ", egress.Select(p => p.Name))} and no rule allows port 53: it cannot resolve names");
            }
        }

        foreach (var p in model.Policies)
        {
            var spec = Json.Get(p.Resource.Root, "spec"u8);
            Open(p, Json.Get(spec, "ingress"u8), "ingress", "from"u8, "netpol/ingress-from-anywhere", sink);
            Open(p, Json.Get(spec, "egress"u8), "egress", "to"u8, "netpol/egress-to-anywhere", sink);
        }
    }

    private static bool AllowsDns(IReadOnlyList<NetworkPolicyInfo> policies)
    {
        foreach (var p in policies)
        {
            var rules = Json.Get(Json.Get(p.Resource.Root, "spec"u8), "egress"u8);
            if (rules.ValueKind != System.Text.Json.JsonValueKind.Array)
            {
                continue;
            }

            foreach (var rule in rules.EnumerateArray())
            {
                var ports = Json.Get(rule, "ports"u8);
                if (ports.ValueKind != System.Text.Json.JsonValueKind.Array || ports.GetArrayLength() == 0)
                {
                    return true; // all ports to its peers
                }

                foreach (var port in ports.EnumerateArray())
                {
                    var number = Json.Get(port, "port"u8);
                    var end = Json.GetInt64(Json.Get(port, "endPort"u8));
                    var value = number.ValueKind == System.Text.Json.JsonValueKind.Number ? number.GetInt64() : -1;
                    if (number.ValueKind == System.Text.Json.JsonValueKind.Undefined || value == 53 || (value >= 0 && value <= 53 && end >= 53)
                        || Json.AsString(number) is "dns" or "dns-tcp" or "53")
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static void Open(NetworkPolicyInfo p, System.Text.Json.JsonElement rules, string direction, ReadOnlySpan<byte> peersField, string checkId, ClusterSink sink)
    {
        if (rules.ValueKind != System.Text.Json.JsonValueKind.Array)
        {
            return;
        }

        var i = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            var peers = Json.Get(rule, peersField);
            var field = direction == "ingress" ? "from" : "to";
            if (peers.ValueKind != System.Text.Json.JsonValueKind.Array || peers.GetArrayLength() == 0)
            {
                sink.Report(checkId, p.Resource, $"spec.{direction}[{i}]",
                    $"{direction} rule {i} has no '{field}': it applies to every source and destination, inside the cluster and out");
            }
            else
            {
                var j = 0;
                foreach (var peer in peers.EnumerateArray())
                {
                    var cidr = Json.GetString(Json.Get(peer, "ipBlock"u8), "cidr");
                    if (cidr is "0.0.0.0/0" or "::/0")
                    {
                        sink.Report(checkId, p.Resource, $"spec.{direction}[{i}].{field}[{j}].ipBlock.cidr",
                            $"{direction} rule {i} allows {cidr}: every address on the internet{(Json.Get(Json.Get(peer, "ipBlock"u8), "except"u8).ValueKind == System.Text.Json.JsonValueKind.Array ? " (minus the excepted ranges)" : string.Empty)}");
                    }

                    j++;
                }
            }

            i++;
        }
    }
}
