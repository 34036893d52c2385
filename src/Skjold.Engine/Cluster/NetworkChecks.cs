using Skjold.Engine.Model;
using Skjold.Engine.Network;

namespace Skjold.Engine.Cluster;

/// <summary>
/// Network policy posture (CIS 5.3.x) over Kubernetes, Calico and Cilium policies: namespaces
/// without a default deny (decided by what the policies do to a pod without labels), workloads no
/// policy selects, policies that select nothing, egress isolation that leaves no way to DNS, and
/// rules open to any address. What the model cannot capture is reported as a warning.
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
        foreach (var note in model.Notes)
        {
            context.Diagnostics.Add(Diagnostic.Warning("netpol-not-modelled", note.Message, note.Resource.Locate(note.Path)));
        }

        var namespaceObjects = context.Resources.Where(r => r.Kind == "Namespace").GroupBy(r => r.Ref.Name).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var workloadsByNs = model.Workloads.Where(w => !w.HostNetwork).GroupBy(w => w.Namespace).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);

        foreach (var (ns, workloads) in workloadsByNs.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            if (PlatformNamespaces.Contains(ns))
            {
                continue;
            }

            // Policies that apply to some pod of the namespace (its own, and cluster-wide ones).
            var applying = workloads.SelectMany(w => model.SelectingPolicies(w) is var (i, e) ? i.Concat(e) : []).Distinct().ToList();
            var own = model.Policies.Where(p => p.Namespace == ns).ToList();
            var ingressDeny = model.HasDefaultDeny(ns, egress: false, out var ingressSelected);
            var egressDeny = model.HasDefaultDeny(ns, egress: true, out var egressSelected);
            if (!ingressDeny || !egressDeny)
            {
                var dirs = new List<(string Name, bool Selected)>();
                if (!ingressDeny)
                {
                    dirs.Add(("ingress", ingressSelected));
                }

                if (!egressDeny)
                {
                    dirs.Add(("egress", egressSelected));
                }

                var missing = string.Join(" and ", dirs.Select(d => d.Name));
                var target = namespaceObjects.GetValueOrDefault(ns) ?? workloads[0].Resource;
                string Reason(bool selected, string which)
                {
                    if (selected)
                    {
                        return $"the policies that select every pod there allow all {which} traffic or pass it on, so a pod no other policy limits is open";
                    }

                    var count = workloads.Count(w => model.SelectingPolicies(w) is var (i, e) && (which.Contains("ingress", StringComparison.Ordinal) ? i.Count > 0 : true)
                        && (which.Contains("egress", StringComparison.Ordinal) ? e.Count > 0 : true));
                    return $"no policy selects every pod there for {which}, so a pod whose labels no policy selects is open ({count} of its {workloads.Count} workloads in the input are selected for {which})";
                }

                var why = applying.Count == 0 && own.Count == 0
                    ? "no network policy applies to it, so every pod accepts and opens any connection"
                    : dirs.Count == 2 && dirs[0].Selected == dirs[1].Selected
                        ? Reason(dirs[0].Selected, missing)
                        : string.Join("; ", dirs.Select(d => Reason(d.Selected, d.Name)));
                sink.Report("netpol/namespace-default-deny", target, "metadata",
                    $"namespace {ns} has no default deny for {missing}: {why}");
            }

            if (applying.Count > 0 || own.Count > 0)
            {
                foreach (var w in workloads)
                {
                    var (ingress, egress) = model.SelectingPolicies(w);
                    if (ingress.Count == 0 && egress.Count == 0)
                    {
                        sink.Report("netpol/workload-unselected", w.Resource, "metadata.labels",
                            $"{w.Id} is selected by no network policy, though policies apply in {ns}: it accepts connections from anywhere and may connect anywhere");
                    }
                }
            }
        }

        foreach (var p in model.PoliciesSelectingNothing())
        {
            // Only meaningful when the namespace's workloads are part of the input.
            if (workloadsByNs.ContainsKey(p.Namespace!))
            {
                sink.Report("netpol/selects-nothing", p.Resource, p.SelectorPath,
                    $"the selector matches no pod or workload in {p.Namespace}; the policy has no effect (a typo in a label?)");
            }
        }

        foreach (var w in model.Workloads)
        {
            var (_, egress) = model.SelectingPolicies(w);
            if (egress.Count > 0 && !w.HostNetwork && !model.MayResolveNames(w))
            {
                sink.Report("netpol/egress-blocks-dns", w.Resource, "metadata.labels",
                    $"{w.Id} is isolated for egress by {string.Join(", ", egress.Select(p => p.ToString()))} and no rule allows port 53: it cannot resolve names");
            }
        }

        foreach (var p in model.Policies)
        {
            foreach (var rule in p.IngressRules)
            {
                foreach (var (path, message) in rule.OpenTo)
                {
                    sink.Report("netpol/ingress-from-anywhere", p.Resource, path, message);
                }
            }

            foreach (var rule in p.EgressRules)
            {
                foreach (var (path, message) in rule.OpenTo)
                {
                    sink.Report("netpol/egress-to-anywhere", p.Resource, path, message);
                }
            }
        }
    }
}
